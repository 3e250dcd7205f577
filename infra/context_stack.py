"""One nested stack per bounded context (`chalicelib.<context>`): the functions of that context's
routes and consumers (each with its role, log group and error alarm), its routes' API methods and
invoke permissions, its consumers' event source mappings, rules and own queues.

What several contexts use (the API and its authorizers, the table, buckets, bus, shared queues,
service roles, alarm topic) is the parent's; CDK passes the parent's values in as parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.core import resources
from infra import functions
from infra.api import Api
from infra.consumers import Consumers
from infra.health_push import HealthPushApi
from infra.live_event_srt import LiveEventSrtSecret
from infra.model import FunctionSpec, camel
from infra.relays import RELAYS_CONTEXT, RestreamRelays

# The context of managed live events (chalicelib.live), whose SRT routes need the passphrase secret.
LIVE_EVENTS_CONTEXT = "live"


def stack_id(context: str) -> str:
    """The construct id (and template name stem) of a context's nested stack: `vod` -> `Vod`."""
    return camel(context)


class ContextStack(cdk.NestedStack):
    def __init__(
        self,
        scope: Construct,
        context: str,
        *,
        specs: Iterable[FunctionSpec],
        runtime: functions.Runtime,
        api: Api,
        shared_queues: MutableMapping[str, sqs.Queue],
        medialive_role: iam.IRole | None = None,
        health_push: HealthPushApi | None = None,
    ) -> None:
        super().__init__(scope, stack_id(context), description=f"Videoplane {context}: its functions and routes")
        self.context = context
        self.specs = list(specs)
        relays = None
        if context == RELAYS_CONTEXT:
            # Restream relays (infra.relays): the live functions start and stop them.
            reports = shared_queues[resources.LIVE_EVENTS_QUEUE.name]
            relays = RestreamRelays(self, "RestreamRelays", report_queue=reports)
            runtime = relays.runtime(runtime)
        if context == LIVE_EVENTS_CONTEXT and medialive_role is not None:
            # Managed live events' SRT passphrase (infra.live_event_srt): MediaLive reads it.
            runtime = LiveEventSrtSecret(self, "LiveEventSrt", medialive_role=medialive_role).runtime(runtime)
        self.functions = {spec.name: functions.build(self, spec, runtime) for spec in self.specs}
        if relays is not None:
            relays.acknowledge_users(self.functions, runtime)
        consumers = Consumers(self, shared_queues=shared_queues, table=runtime.table, alarm_topic=runtime.alarm_topic)
        for spec in self.specs:
            if spec.route is not None:
                api.add_route(self, spec, self.functions[spec.name])
            elif spec.kind == "consumer":
                consumers.connect(self.functions[spec.name], spec.source)
        if health_push is not None:
            health_push.connect(self, self.functions, runtime.registry)
