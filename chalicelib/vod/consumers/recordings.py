"""Live-to-VOD: the live context's `live-stream.recording.ended` (project bus → a rule → the
live-recordings queue) → the recorded broadcast's video(s), their sources joined from the
recording (chalicelib.vod.services.recordings). The rooms context's `room.recording.ended` (an IVS
composition of a session, laid out as IVS lays out a channel's recording) comes the same way.

The event is the seam between the two contexts: the live context knows broadcasts and IVS's
recordings, this one knows videos. A failed import is a batch item failure that comes again; it
is idempotent.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.permissions import (
    LIVE_RECORDINGS_CONSUME,
    MEDIA_OBJECTS_READ,
    TABLE_READ,
    TABLE_WRITE,
    UPLOADS_OBJECTS_READ,
    UPLOADS_SOURCES_WRITE,
    declare,
)
from chalicelib.vod import wiring

bp = Blueprint(__name__)
# One broadcast's source is written per message (up to 12 h of it per video).
BATCH_SIZE = 1

declare(
    "import_live_recordings",
    (LIVE_RECORDINGS_CONSUME, MEDIA_OBJECTS_READ, UPLOADS_OBJECTS_READ, UPLOADS_SOURCES_WRITE, TABLE_READ,
     TABLE_WRITE),
)  # fmt: skip


def handle(body: str) -> None:
    event = json.loads(body)
    kinds = (resources.LIVE_RECORDING_ENDED, resources.ROOM_RECORDING_ENDED)
    if event.get("detail-type") not in kinds or not isinstance(event.get("detail"), dict):
        return
    detail: dict[str, Any] = event["detail"]
    wiring.recording_imports().import_broadcast(detail, str(detail.get("eventId", "")))


@bp.on_sqs_message(queue=resources.LIVE_RECORDINGS_QUEUE.name, batch_size=BATCH_SIZE)
def import_live_recordings(event: SQSEvent) -> dict[str, Any]:
    """A recorded broadcast of a live stream, or a room's recording, becomes its video(s)."""
    return batch_item_failures(event, handle)
