"""The reconnect window's timers: a delayed message to the live-events queue, read back by the
same consumer as IVS's events (SQS delays reach 15 minutes; windows are at most 5)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.core.domain.errors import RepositoryUnavailable

KIND = "videoplane.live.reconnect-window"
MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds


def timer_message(project_id: str, live_stream_id: str, disconnected_at: datetime) -> str:
    return json.dumps(
        {
            "kind": KIND,
            "projectId": project_id,
            "liveStreamId": live_stream_id,
            "disconnectedAt": disconnected_at.isoformat(),
        }
    )


def parse_timer(body: dict[str, Any]) -> tuple[str, str, datetime] | None:
    """(projectId, liveStreamId, disconnectedAt) of a timer message; None for anything else."""
    if body.get("kind") != KIND:
        return None
    return str(body["projectId"]), str(body["liveStreamId"]), datetime.fromisoformat(body["disconnectedAt"])


class SqsReconnectTimers:
    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def arm(self, project_id: str, live_stream_id: str, disconnected_at: datetime, delay_seconds: float) -> None:
        delay = min(MAX_DELAY_SECONDS, max(0, math.ceil(delay_seconds)))
        try:
            self.client.send_message(
                QueueUrl=self.queue_url,
                MessageBody=timer_message(project_id, live_stream_id, disconnected_at),
                DelaySeconds=delay,
            )
        except ClientError as error:
            # The event is retried (its message fails), and arms the timer again.
            raise RepositoryUnavailable(detail="The live events queue is unavailable.") from error


# -- managed live events' schedule ------------------------------------------------------------------

SCHEDULE_KIND = "videoplane.live.event-schedule"


def schedule_message(project_id: str, live_event_id: str, due_at: datetime, kind: str = SCHEDULE_KIND) -> str:
    return json.dumps(
        {"kind": kind, "projectId": project_id, "liveEventId": live_event_id, "dueAt": due_at.isoformat()}
    )


def parse_schedule(body: dict[str, Any], kind: str = SCHEDULE_KIND) -> tuple[str, str, datetime] | None:
    """(projectId, liveEventId, dueAt) of a timer of this kind (by default the schedule's); None for
    anything else."""
    if body.get("kind") != kind:
        return None
    return str(body["projectId"]), str(body["liveEventId"]), datetime.fromisoformat(body["dueAt"])


class SqsLiveEventTimers:
    """A delayed message to the live-event-channels queue, read back by the same consumer as
    MediaLive's events. A due time past SQS's 15 minutes comes back early and is set again. `kind`
    tells the consumer which callback it is for (the schedule's, incident automation's revert)."""

    def __init__(self, client: Any, queue_url: str, kind: str = SCHEDULE_KIND) -> None:
        self.client = client
        self.queue_url = queue_url
        self.kind = kind

    def arm(self, project_id: str, live_event_id: str, due_at: datetime, now: datetime) -> None:
        delay = min(MAX_DELAY_SECONDS, max(0, math.ceil((due_at - now).total_seconds())))
        try:
            self.client.send_message(
                QueueUrl=self.queue_url,
                MessageBody=schedule_message(project_id, live_event_id, due_at, self.kind),
                DelaySeconds=delay,
            )
        except ClientError as error:
            raise RepositoryUnavailable(detail="The live event channels queue is unavailable.") from error
