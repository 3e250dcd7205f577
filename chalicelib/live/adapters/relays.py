"""Restream relays as Amazon ECS tasks: one Fargate task per relay (docs/live.md, "Restream relays").

The task runs `relay/relay.py` (ffmpeg supervised): it reads the channel's live HLS (its IVS
playback URL), pushes it `-c copy` to the target, retries a failing target, and sends its state
to the live-events queue. Everything a relay needs is in its container's environment overrides;
the task definition is the stack's one. `startedBy` and `clientToken` are the relay's id: a start
retried after a crash or an error returns the task already running (RunTask's idempotency), and a
stop finds the relay's tasks by it (ListTasks), so the stream never has to store a task ARN.

ClientError codes become domain errors: throttling and ECS's own failures `RelayUnavailable`
(503, retry); a RunTask answered with `failures` (no capacity) is one too.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.live.domain.errors import RelayUnavailable
from chalicelib.live.domain.live_streams import LiveStream, Relay, Restream
from chalicelib.live.domain.restreams import REPORT_KIND, target_url

_RETRYABLE = {"ThrottlingException", "ServerException", "ServiceUnavailableException"}
STOP_REASON = "Videoplane: the restream target was removed or the broadcast ended."
# The relay program's settings (relay/relay.py reads these).
ENV_SOURCE, ENV_TARGET = "RELAY_SOURCE_URL", "RELAY_TARGET_URL"
ENV_RELAY, ENV_PROJECT, ENV_LIVE_STREAM = "RELAY_ID", "RELAY_PROJECT_ID", "RELAY_LIVE_STREAM_ID"
ENV_QUEUE, ENV_KIND = "RELAY_REPORT_QUEUE_URL", "RELAY_REPORT_KIND"


class RelayTaskSettings(BaseModel):
    """Where relays run (infra writes it as JSON into VIDEOPLANE_LIVE_RELAYS)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    cluster: str
    task_definition: str = Field(alias="taskDefinition")
    container: str = "relay"
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = Field(default=(), alias="securityGroups")


def translate(error: ClientError) -> Exception:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _RETRYABLE or status >= 500:
        return RelayUnavailable()
    return error


def run_task_request(
    settings: RelayTaskSettings, stream: LiveStream, relay: Relay, target: Restream, report_queue_url: str
) -> dict[str, Any]:
    assert stream.channel is not None
    environment = {
        ENV_SOURCE: stream.channel.playback_url,
        ENV_TARGET: target_url(target),
        ENV_RELAY: relay.relay_id,
        ENV_PROJECT: stream.project_id,
        ENV_LIVE_STREAM: stream.live_stream_id,
        ENV_QUEUE: report_queue_url,
        ENV_KIND: REPORT_KIND,
    }
    request: dict[str, Any] = {
        "cluster": settings.cluster,
        "taskDefinition": settings.task_definition,
        "count": 1,
        "launchType": "FARGATE",
        "startedBy": relay.relay_id,
        "clientToken": relay.relay_id,
        "overrides": {
            "containerOverrides": [
                {"name": settings.container, "environment": [{"name": k, "value": v} for k, v in environment.items()]}
            ]
        },
    }
    if settings.subnets:
        request["networkConfiguration"] = {
            "awsvpcConfiguration": {
                "subnets": list(settings.subnets),
                "securityGroups": list(settings.security_groups),
                # Public subnets without a NAT gateway: the task reaches IVS and the targets itself.
                "assignPublicIp": "ENABLED",
            }
        }
    return request


class EcsRestreamRelays:
    def __init__(self, client: Any, settings: RelayTaskSettings, report_queue_url: str) -> None:
        self.client = client
        self.settings = settings
        self.report_queue_url = report_queue_url

    def start(self, stream: LiveStream, relay: Relay, target: Restream) -> None:
        request = run_task_request(self.settings, stream, relay, target, self.report_queue_url)
        try:
            response = self.client.run_task(**request)
        except ClientError as error:
            raise translate(error) from error
        if response.get("failures") and not response.get("tasks"):
            raise RelayUnavailable(detail=f"No relay could start: {response['failures'][0].get('reason', '')}.")

    def stop(self, relay: Relay) -> None:
        try:
            listed = self.client.list_tasks(cluster=self.settings.cluster, startedBy=relay.relay_id)
            for task in listed.get("taskArns", []):
                self.client.stop_task(cluster=self.settings.cluster, task=task, reason=STOP_REASON)
        except ClientError as error:
            raise translate(error) from error
