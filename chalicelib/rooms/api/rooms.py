"""Rooms (Videoplane): a real-time room on an IVS stage."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.core.permissions import IVS_STAGES_CREATE, IVS_STAGES_DISCONNECT
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.rooms import wiring
from chalicelib.rooms.api import presenters
from chalicelib.rooms.domain.rooms import RoomCreation, RoomQuery, RoomUpdate

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE
LIST_FILTERS = ("name", "ownerRef", "mode", "sortBy", "sortOrder")


@endpoint(
    bp,
    "/rooms",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=201,
    uses=(IVS_STAGES_CREATE,),
    body=RoomCreation,
    response="Room",
)
def create_room(call: Call) -> Any:
    """Create a room (its real-time stage is created with it)."""
    return presenters.room(wiring.room_service().create(call.actor, call.body(RoomCreation)))


@endpoint(
    bp, "/rooms", "GET", permission=READ, authorizer=api_key_authorizer, query=RoomQuery, response="Room", paged=True
)
def list_rooms(call: Call) -> Any:
    """List rooms."""
    query = call.query(RoomQuery, {k: v[-1] for k, v in call.query_values().items() if k in LIST_FILTERS})
    page = wiring.room_service().list(call.actor, query, call.page())
    return page.envelope([presenters.room(r) for r in page.items], "/rooms", call.filters(*LIST_FILTERS))


@endpoint(bp, "/rooms/{roomId}", "GET", permission=READ, authorizer=api_key_authorizer, response="Room")
def get_room(call: Call, roomId: str) -> Any:  # noqa: N803 - path parameter named as on the wire
    """Get a room."""
    return presenters.room(wiring.room_service().get(call.actor, roomId))


@endpoint(
    bp, "/rooms/{roomId}", "PATCH", permission=WRITE, authorizer=api_key_authorizer, body=RoomUpdate, response="Room"
)
def update_room(call: Call, roomId: str) -> Any:  # noqa: N803
    """Update a room (its mode is fixed)."""
    return presenters.room(wiring.room_service().update(call.actor, roomId, room_update(call)))


def room_update(call: Call) -> RoomUpdate:
    payload = call.body(RoomUpdate)
    nulls = payload.null_violations()
    if nulls:
        raise InvalidInput([Problem("invalid-attribute", "This value should not be null.", name) for name in nulls])
    return payload


@endpoint(bp, "/rooms/{roomId}", "DELETE", permission=WRITE, authorizer=api_key_authorizer, status=204)
def delete_room(call: Call, roomId: str) -> Any:  # noqa: N803
    """Delete a room (its stage is released and its tokens stop admitting)."""
    wiring.room_service().delete(call.actor, roomId)
    return Reply(status=204)


@endpoint(
    bp,
    "/rooms/{roomId}/participants/{participantId}",
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    uses=(IVS_STAGES_DISCONNECT,),
)
def remove_room_participant(call: Call, roomId: str, participantId: str) -> Any:  # noqa: N803
    """Remove a participant from the room (disconnects it from the stage)."""
    wiring.room_service().remove_participant(call.actor, roomId, participantId)
    return Reply(status=204)
