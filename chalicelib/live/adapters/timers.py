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
