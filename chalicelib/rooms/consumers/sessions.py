"""Room sessions' poll loop and recordings: the room-events queue carries these messages.

- `room.session.started` (the project bus, from the outbox): the session's first poll, which arms
  the loop's timer; `room.session.ended`: an ad hoc room is deleted with its session;
- the loop's timers (delayed messages this consumer sends itself, every `POLL_SECONDS`);
- IVS's `IVS Stage Update` events (the default bus): a participant published or unpublished, so
  its room is polled now rather than at the next timer;
- recordings (chalicelib.rooms.services.recordings): a session's start (`autoRecording`) and end
  start and stop its recording, `IVS Composition State Change` says it is stored, and
  `room.recording.ready` (from the VOD context) names its video.

Each is idempotent (chalicelib.rooms.services.sessions); a failed message is a batch item failure
and comes again.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.permissions import (
    IVS_COMPOSITIONS,
    IVS_STAGES_WATCH,
    ROOM_EVENTS_CONSUME,
    ROOM_EVENTS_SEND,
    TABLE_READ,
    TABLE_WRITE,
    declare,
)
from chalicelib.rooms import wiring

bp = Blueprint(__name__)
BATCH_SIZE = 10

declare(
    "track_room_sessions",
    (ROOM_EVENTS_CONSUME, ROOM_EVENTS_SEND, IVS_STAGES_WATCH, IVS_COMPOSITIONS, TABLE_READ, TABLE_WRITE),
)


def handle(body: str) -> None:
    # Imported here: they pull in botocore, which the API functions importing app.py need not load.
    from chalicelib.core.clock import from_atom
    from chalicelib.rooms.adapters.timers import parse_timer

    message = json.loads(body)
    service = wiring.session_service()
    timer = parse_timer(message)
    if timer is not None:
        project_id, room_id, session_id, tick = timer
        service.poll(project_id, room_id, session_id, tick)
    elif message.get("detail-type") == "room.session.started":
        detail = message["detail"]
        service.on_started(detail["projectId"], detail["roomId"], detail["sessionId"])
        wiring.recording_service().on_session_started(detail["projectId"], detail["roomId"], detail["sessionId"])
    elif message.get("detail-type") == "room.session.ended":
        detail = message["detail"]
        wiring.recording_service().on_session_ended(detail["projectId"], detail["sessionId"])
        wiring.room_service().close_adhoc(detail["projectId"], detail["roomId"], detail["sessionId"])
    elif message.get("detail-type") == "room.recording.ready":
        detail = message["detail"]
        wiring.recording_service().on_video(detail["projectId"], detail["recordingId"], detail["videoId"])
    elif message.get("detail-type") == "IVS Stage Update" and message.get("resources"):
        service.on_stage_update(message["resources"][0], message.get("detail") or {}, from_atom(message["time"]))
    elif message.get("detail-type") == "IVS Composition State Change" and message.get("resources"):
        recorder = wiring.recording_service()
        recorder.on_composition_event(message["resources"][0], message.get("detail") or {}, from_atom(message["time"]))


@bp.on_sqs_message(queue=resources.ROOM_EVENTS_QUEUE.name, batch_size=BATCH_SIZE)
def track_room_sessions(event: SQSEvent) -> dict[str, Any]:
    """Session starts, poll timers and IVS stage updates → room sessions."""
    return batch_item_failures(event, handle)
