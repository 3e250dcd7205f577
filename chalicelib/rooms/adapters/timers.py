"""The session poll loop's timers: a delayed message to the room-events queue, read back by the
same consumer as IVS's stage events (chalicelib.rooms.consumers.sessions)."""

from __future__ import annotations

import json
import math
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.core.domain.errors import RepositoryUnavailable

KIND = "videoplane.rooms.session-poll"
MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds


def timer_message(project_id: str, room_id: str, session_id: str, tick: int) -> str:
    return json.dumps({"kind": KIND, "projectId": project_id, "roomId": room_id, "sessionId": session_id, "tick": tick})


def parse_timer(body: dict[str, Any]) -> tuple[str, str, str, int] | None:
    """(projectId, roomId, sessionId, tick) of a timer message; None for anything else."""
    if body.get("kind") != KIND:
        return None
    return str(body["projectId"]), str(body["roomId"]), str(body["sessionId"]), int(body["tick"])


class SqsSessionTimers:
    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def arm(self, project_id: str, room_id: str, session_id: str, tick: int, delay_seconds: float) -> None:
        delay = min(MAX_DELAY_SECONDS, max(0, math.ceil(delay_seconds)))
        try:
            self.client.send_message(
                QueueUrl=self.queue_url,
                MessageBody=timer_message(project_id, room_id, session_id, tick),
                DelaySeconds=delay,
            )
        except ClientError as error:
            # The message that armed it fails and comes again, arming it again.
            raise RepositoryUnavailable(detail="The room events queue is unavailable.") from error
