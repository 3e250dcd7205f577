"""Incident automation's AWS side: CloudWatch alarms on a managed live event's channel metrics
(PutMetricAlarm when armed, DeleteAlarms when it ends) and the revert timers (a delayed message to
the live-event-channels queue, as the schedule's). The rules are in domain/incidents.py.

CloudWatch's state changes reach the app as "CloudWatch Alarm State Change" events on the default
bus (resources.INCIDENT_ALARM_RULE_PATTERN: this app's alarm name prefix → the live-event-channels
queue). ClientErrors: throttling and CloudWatch's failures are 503 (retry); a deleted alarm that is
missing counts as done (DeleteAlarms does not fail on unknown names).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.core.adapters.calls import translated_call
from chalicelib.live.adapters.timers import SqsLiveEventTimers, parse_schedule, schedule_message
from chalicelib.live.domain import incidents
from chalicelib.live.domain.errors import ChannelUnavailable
from chalicelib.live.domain.live_events import LiveEvent

_RETRYABLE = {"Throttling", "ThrottlingException", "InternalServiceFault", "LimitExceeded", "LimitExceededFault"}
REVERT_KIND = "videoplane.live.event-incident-revert"


def translate(error: ClientError) -> Exception:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _RETRYABLE or status >= 500:
        return ChannelUnavailable()
    return error


class CloudWatchIncidentAlarms:
    def __init__(self, client: Any) -> None:
        self.client = client

    def ensure(self, event: LiveEvent, channel_id: str) -> None:
        """One alarm per watched metric (PutMetricAlarm replaces one of the same name: idempotent);
        the alarms of metrics the template no longer watches are deleted."""
        settings = event.profile.incidents
        watched = incidents.thresholds(settings) if settings.enabled else {}
        for metric in watched:
            self._call("put_metric_alarm", **incidents.alarm_request(event, metric, channel_id))
        unwatched = [incidents.alarm_name(event, m) for m in incidents.METRICS if m not in watched]
        if unwatched:
            self._call("delete_alarms", AlarmNames=unwatched)

    def remove(self, event: LiveEvent) -> None:
        self._call("delete_alarms", AlarmNames=[incidents.alarm_name(event, m) for m in incidents.METRICS])

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        return translated_call(self.client, translate, operation, **params)


def revert_message(project_id: str, live_event_id: str, due_at: datetime) -> str:
    return schedule_message(project_id, live_event_id, due_at, REVERT_KIND)


def parse_revert(body: dict[str, Any]) -> tuple[str, str, datetime] | None:
    """(projectId, liveEventId, dueAt) of a revert timer; None for anything else."""
    return parse_schedule(body, REVERT_KIND)


class SqsIncidentTimers(SqsLiveEventTimers):
    """The schedule's timers with their own kind: a window past SQS's 15 minutes comes back early
    and is set again (domain/incidents.on_revert)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        super().__init__(client, queue_url, REVERT_KIND)
