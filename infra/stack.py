"""The Videoplane stack: a parent stack with what every context shares and one nested stack per
bounded context (`infra.context_stack`) with that context's functions and routes.

Parent (`infra.shared`, `infra.api`): the table, the signing secret, the uploads and media buckets
(media behind CloudFront), the project's event bus, the MediaConvert and MediaLive service roles,
the alarm topic, the queues of `resources.QUEUES` (and any queue consumers of several contexts
read) with their rules and bucket notifications, the REST API with its stage, resource tree,
gateway responses, authorizers (TOKEN and the direct-upload REQUEST authorizer, with their
functions) and the direct-to-S3 upload routes.

The set of nested stacks is the set of contexts of the app's functions (`FunctionSpec.context`):
a new `chalicelib/<context>` gets its stack with no change here. Everything is derived from the
Chalice app (`infra.model.plan`) and `chalicelib.core.resources`; no list of routes, names,
contexts or permissions is kept here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from chalice import Chalice
from constructs import Construct

from chalicelib.core import resources
from chalicelib.core.permissions import Access
from infra import functions, settings
from infra.analytics import AnalyticsNames, EventStore
from infra.api import Api, direct_upload_authorizers
from infra.consumers import new_queue, queues_of_several_contexts
from infra.context_stack import ContextStack
from infra.functions import INCIDENT_ALARMS, IVS, IVS_COMPOSITIONS, IVS_STAGES, MEDIACONVERT, MEDIALIVE, AppFunction
from infra.health_push import HealthPushApi
from infra.live_playback_key import LivePlaybackKey
from infra.model import FunctionSpec, camel, plan
from infra.player import add_player_routes, origin_secret
from infra.retention import Retention
from infra.shared import ROLE_IDS, SharedStack

# The context whose nested stack holds the event store (infra.analytics).
ANALYTICS_CONTEXT = "analytics"


def in_parent(spec: FunctionSpec) -> bool:
    """Authorizer functions stay with the API that names them (a nested stack's methods reference the
    authorizer, so the authorizer cannot reference back into a nested stack)."""
    return spec.kind == "authorizer" or spec.name in direct_upload_authorizers()


class VideoplaneStack(SharedStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        chalice_app: Chalice,
        registry: Mapping[str, frozenset[Access]],
        code_zip: Path,
        reserve_concurrency: bool = True,
        alarm_email: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.chalice_app = chalice_app
        self.specs = plan(chalice_app)
        self.analytics_names = AnalyticsNames.of(self.stack_name)
        self.build_shared(alarm_email)
        for name in sorted(queues_of_several_contexts(self.specs) - set(self.queues)):
            # Visibility grows to 6 x the longest timeout of its consumers as they connect.
            self.queues[name] = new_queue(self, name, 0, self.alarm_topic)
        self.cdn_origin_secret = origin_secret(self)
        self.live_playback_key = LivePlaybackKey(self, "LivePlaybackKey", code_zip=code_zip)
        self.health_push = HealthPushApi(self, "LiveEventHealthPush")
        self.runtime = self._runtime(registry, code_zip, reserve_concurrency)
        self.functions: dict[str, AppFunction] = {
            spec.name: functions.build(self, spec, self.runtime) for spec in self.specs if in_parent(spec)
        }
        self.api = Api(
            self,
            chalice_app=chalice_app,
            specs=self.specs,
            functions=self.functions,
            uploads_bucket=self.buckets[resources.UPLOADS_BUCKET.name],
            alarm_topic=self.alarm_topic,
        )
        add_player_routes(self, self.media_distribution, self.api.api, self.cdn_origin_secret)
        contexts = sorted({spec.context for spec in self.specs if not in_parent(spec)})
        self.contexts: dict[str, ContextStack] = {}
        for context in contexts:
            nested = ContextStack(
                self,
                context,
                specs=[spec for spec in self.specs if spec.context == context and not in_parent(spec)],
                runtime=self.runtime,
                api=self.api,
                shared_queues=self.queues,
                medialive_role=self.service_roles[resources.MEDIALIVE_ROLE.name],
                health_push=self.health_push,
            )
            if context == ANALYTICS_CONTEXT:
                self.event_store = EventStore(
                    nested,
                    "EventStore",
                    names=self.analytics_names,
                    bucket=self.buckets[resources.ANALYTICS_BUCKET.name],
                    raw_days=Retention.of(self.node).raw_days,
                    rollup_days=Retention.of(self.node).rollup_days,
                )
            self.contexts[context] = nested
            self.functions.update(nested.functions)
            # Methods are in the nested stacks: the deployment (whose logical id already changes with
            # them) must be created after all of them, or the stage would miss some.
            deployment = self.api.api.latest_deployment
            if deployment is not None:
                deployment.node.add_dependency(nested)
        self._outputs()

    def _runtime(self, registry: Mapping[str, frozenset[Access]], code_zip: Path, reserve: bool) -> functions.Runtime:
        arns: dict[str, Sequence[str]] = {
            "table": [self.table.table_arn],
            "table-indexes": [f"{self.table.table_arn}/index/*"],
            "signing-secret": [self.signing_secret.secret_arn],
            resources.EVENT_BUS.permission: [self.event_bus.event_bus_arn],
            # CreateJob on the account's MediaConvert queues, presets, job templates and jobs in this
            # region (jobs go to the Default queue; their ids are not known in advance).
            MEDIACONVERT: [self.format_arn(service="mediaconvert", resource="*")],
            # Live streams' IVS channels and stream keys, created per stream at run time.
            IVS: [
                self.format_arn(service="ivs", resource="channel", resource_name="*"),
                self.format_arn(service="ivs", resource="stream-key", resource_name="*"),
                # CreateChannel names the stack's recording configuration for a recorded stream.
                self.format_arn(service="ivs", resource="recording-configuration", resource_name="*"),
            ],
            # Rooms' IVS real-time stages, created per room at run time.
            IVS_STAGES: [self.format_arn(service="ivs", resource="stage", resource_name="*")],
            # Rooms' recordings: StartComposition on a stage with the stack's two configurations,
            # making a (tagged) composition; StopComposition on it.
            IVS_COMPOSITIONS: [
                self.format_arn(service="ivs", resource="stage", resource_name="*"),
                self.format_arn(service="ivs", resource="composition", resource_name="*"),
                self.room_storage_configuration.attr_arn,
                self.room_encoder_configuration.attr_arn,
            ],
            # Managed live events' MediaLive channels, inputs and input security groups, made per
            # event at run time (tagged at creation), and their schedules.
            MEDIALIVE: [
                self.format_arn(
                    service="medialive",
                    resource="channel",
                    resource_name="*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                ),
                self.format_arn(
                    service="medialive",
                    resource="input",
                    resource_name="*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                ),
                self.format_arn(
                    service="medialive",
                    resource="inputSecurityGroup",
                    resource_name="*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                ),
            ],
            # Incident automation's CloudWatch alarms, made per managed live event at run time
            # (chalicelib.live.domain.incidents.alarm_name: the app's prefix, then project and event).
            INCIDENT_ALARMS: [
                self.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name=f"{resources.INCIDENT_ALARM_PREFIX}*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            # The edge check's store of private video ids and session keys (infra.edge).
            resources.PLAYBACK_EDGE_STORE: [self.playback_edge_store.key_value_store_arn],
            resources.PLAYBACK_SESSION_SECRET: [self.playback_session_secret.secret_arn],
            resources.CDN_ORIGIN_SECRET: [self.cdn_origin_secret.secret_arn],
            resources.LIVE_PLAYBACK_KEY_SECRET: [self.live_playback_key.secret.secret_arn],
            # The health push channel's connections (infra.health_push).
            resources.LIVE_EVENT_HEALTH_API: self.health_push.connections_arns,
            # Analytics, by name: built in the analytics nested stack (infra.analytics).
            **self.analytics_names.arns(self),
        }
        conditions: dict[str, Mapping[str, Any]] = {}
        environment = {
            resources.TABLE_ENV: self.table.table_name,
            resources.SIGNING_SECRET_ENV: self.signing_secret.secret_arn,
            resources.EVENT_BUS.env: self.event_bus.event_bus_name,
            **self.analytics_names.environment(),
            "POWERTOOLS_SERVICE_NAME": settings.POWERTOOLS_SERVICE_NAME,
            **settings.RUNTIME_ENVIRONMENT,
            resources.MEDIA_BASE_URL_ENV: self.media_base_url,
            # The embed page: the media domain forwards this path to the API (infra.player).
            resources.PLAYER_BASE_URL_ENV: f"{self.media_base_url}{settings.PLAYER_PATH}",
            resources.PLAYBACK_EDGE_STORE_ENV: self.playback_edge_store.key_value_store_arn,
            resources.PLAYBACK_SESSION_SECRET_ENV: self.playback_session_secret.secret_arn,
            resources.CDN_ORIGIN_SECRET_ENV: self.cdn_origin_secret.secret_arn,
            resources.LIVE_PLAYBACK_KEY_SECRET_ENV: self.live_playback_key.secret.secret_arn,
            resources.LIVE_RECORDING_CONFIGURATION_ENV: self.recording_configuration.attr_arn,
            resources.ROOM_STORAGE_CONFIGURATION_ENV: self.room_storage_configuration.attr_arn,
            resources.ROOM_ENCODER_CONFIGURATION_ENV: self.room_encoder_configuration.attr_arn,
            resources.LIVE_EVENT_HEALTH_PUSH_URL_ENV: self.health_push.push_url,
            resources.LIVE_EVENT_HEALTH_CALLBACK_URL_ENV: self.health_push.callback_url,
        }
        for bucket_definition in resources.BUCKETS:
            bucket = self.buckets[bucket_definition.name]
            # The bucket itself (ListBucket, ...) and its objects (GetObject, PutObject, ...).
            arns[bucket_definition.permission] = [bucket.bucket_arn, bucket.arn_for_objects("*")]
            environment[bucket_definition.env] = bucket.bucket_name
        for role_definition in resources.SERVICE_ROLES:
            role = self.service_roles[role_definition.name]
            arns[role_definition.permission] = [role.role_arn]
            conditions[role_definition.permission] = {
                "StringEquals": {"iam:PassedToService": role_definition.service_principal}
            }
            environment[role_definition.env] = role.role_arn
        for queue_definition in resources.QUEUES:
            queue = self.queues[queue_definition.name]
            arns[queue_definition.permission] = [queue.queue_arn]
            environment[queue_definition.env] = queue.queue_url
        return functions.Runtime(
            code_zip=code_zip,
            environment=environment,
            arns=arns,
            conditions=conditions,
            registry=registry,
            alarm_topic=self.alarm_topic,
            table=self.table,
            buckets=self.buckets,
            reserve_concurrency=reserve,
        )

    def _outputs(self) -> None:
        cdk.CfnOutput(self, "ApiUrl", value=self.api.api.url)
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "SigningSecretArn", value=self.signing_secret.secret_arn)
        cdk.CfnOutput(self, "PlaybackSessionSecretArn", value=self.playback_session_secret.secret_arn)
        cdk.CfnOutput(self, "PlaybackEdgeStoreArn", value=self.playback_edge_store.key_value_store_arn)
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
        # For `python -m infra.keys_live` (rotating the live playback key).
        cdk.CfnOutput(self, "LivePlaybackKeySecretArn", value=self.live_playback_key.secret.secret_arn)
        cdk.CfnOutput(
            self,
            "MediaDomain",
            value=self.media_distribution.distribution_domain_name,
            description="CloudFront domain serving the media bucket",
        )
        cdk.CfnOutput(
            self,
            "EventBusArn",
            value=self.event_bus.event_bus_arn,
            export_name=f"{self.stack_name}-EventBusArn",
        )
        cdk.CfnOutput(
            self,
            "EventBusName",
            value=self.event_bus.event_bus_name,
            export_name=f"{self.stack_name}-EventBusName",
        )
        for bucket_definition in resources.BUCKETS:
            output = cdk.CfnOutput(
                self,
                f"{camel(bucket_definition.name)}BucketOutput",
                value=self.buckets[bucket_definition.name].bucket_name,
            )
            # The output is named like the bucket construct (`UploadsBucket`, `MediaBucket`).
            output.override_logical_id(f"{camel(bucket_definition.name)}Bucket")
        for role_definition in resources.SERVICE_ROLES:
            cdk.CfnOutput(
                self,
                f"{ROLE_IDS[role_definition.name]}RoleArn",
                value=self.service_roles[role_definition.name].role_arn,
            )
