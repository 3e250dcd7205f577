"""Recording a room's active session (Videoplane): start and stop (docs/rooms.md, "Recordings")."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import IVS_COMPOSITIONS, TABLE_INDEX_READ
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.rooms import wiring
from chalicelib.rooms.api import presenters

bp = Blueprint(__name__)
WRITE = Permission.WRITE
# A session's recordings are listed from the table's index; the plane records.
USES = (IVS_COMPOSITIONS, TABLE_INDEX_READ)


@endpoint(
    bp, "/rooms/{roomId}/recording", "POST", permission=WRITE, authorizer=api_key_authorizer, uses=USES,
    body_required=False, response="SessionRecording",
)  # fmt: skip
def start_room_recording(call: Call, roomId: str) -> Any:  # noqa: N803 - path parameter named as on the wire
    """Start recording the room's active session (answers the running recording if there is one)."""
    return presenters.recording(wiring.recording_service().start(call.actor, roomId))


@endpoint(
    bp, "/rooms/{roomId}/recording", "DELETE", permission=WRITE, authorizer=api_key_authorizer, uses=USES,
    response="SessionRecording",
)  # fmt: skip
def stop_room_recording(call: Call, roomId: str) -> Any:  # noqa: N803
    """Stop recording the room's active session; the recording becomes a video (`room.recording.ready`)."""
    return presenters.recording(wiring.recording_service().stop(call.actor, roomId))
