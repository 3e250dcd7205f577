"""The EnableX Video API v2 facade (`/enablex/v2/…`): EnableX's room, token, CDR and archive routes
over the same rooms services, so an EnableX app server switches by changing its base URL and
credentials (Basic `APP_ID:APP_KEY` = project id : API key). Shapes and codes: docs/rooms.md,
"EnableX facade"; the translations are pure (chalicelib.rooms.domain.enablex)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib.core.api.http import Call, View, endpoint
from chalicelib.core.api.problems import JSON, from_validation_error
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.errors import DomainError, InvalidInput, Problem
from chalicelib.core.domain.pagination import MAX_PAGE_SIZE, PageRequest
from chalicelib.core.permissions import IVS_STAGES_CREATE, TABLE_INDEX_READ
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.rooms import wiring
from chalicelib.rooms.domain import enablex
from chalicelib.rooms.domain.enablex import SUCCESS, EnableXRoom, EnableXToken
from chalicelib.rooms.domain.recordings import Archived
from chalicelib.rooms.domain.rooms import RoomQuery
from chalicelib.rooms.services.sessions import Report

bp = Blueprint(__name__)
BASE = "/enablex/v2"
TAG = "EnableX facade"
READ, WRITE = Permission.READ, Permission.WRITE
# EnableX's post-session reports send their `result` as a string.
REPORT_SUCCESS = str(SUCCESS)
T = TypeVar("T")


def enablex_error(error: DomainError, headers: dict[str, str]) -> Response:
    """A refusal in EnableX's shape, with the status and headers Videoplane's would have."""
    first = (
        error.first if isinstance(error, InvalidInput) else Problem(error.slug, error.title, error.name, error.detail)
    )
    body = enablex.error_out(error.status, first.name, first.title, first.detail)
    return Response(
        body=json.dumps(body), status_code=error.status, headers={"Content-Type": JSON, **error.headers, **headers}
    )


def facade(path: str, method: str, **options: Any) -> Callable[[View], View]:
    """`endpoint` with the facade's base path, credentials, error shape and tag."""
    return endpoint(
        bp,
        BASE + path,
        method,
        authorizer=api_key_authorizer,
        render_error=enablex_error,
        error_response="EnableXError",
        tag=TAG,
        **options,
    )


def translated(parse: Callable[..., T], *args: Any) -> T:
    """An EnableX payload as the Videoplane payload the services take; refusals name EnableX's keys."""
    try:
        return parse(*args)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


class Days(BaseModel):
    """`/{from}/{to}`: UTC days, both included."""

    model_config = ConfigDict(populate_by_name=True)
    since: date = Field(alias="fromDate")
    until: date = Field(alias="toDate")

    @model_validator(mode="after")
    def _ordered(self) -> Days:
        if self.until < self.since:
            raise ValueError("`to` must not be before `from`.")
        return self


def listing(call: Call) -> PageRequest:
    """EnableX lists without pages: the first 100 unless `currentPage`/`pageSize` say otherwise."""
    sent = {k: v for k in ("currentPage", "pageSize") if (v := call.single(k)) is not None}
    return call.query(PageRequest, {"pageSize": MAX_PAGE_SIZE, **sent})


def report(found: Report, app_id: str) -> dict[str, Any]:
    cdr = [enablex.cdr_out(r, found.rooms.get(r.room_id), app_id) for r in found.records]
    return {"result": REPORT_SUCCESS, "cdr": cdr}


@facade("/rooms", "POST", permission=WRITE, status=201, uses=(IVS_STAGES_CREATE,), body=EnableXRoom,
        response="EnableXRoomResult")  # fmt: skip
def enablex_create_room(call: Call) -> Any:
    """Create a room (EnableX: Create Room)."""
    payload = translated(enablex.parse_creation, call.body(EnableXRoom))
    return {"result": SUCCESS, "room": enablex.room_out(wiring.room_service().create(call.actor, payload))}


@facade("/rooms", "GET", permission=READ, response="EnableXRoomList")
def enablex_list_rooms(call: Call) -> Any:
    """List rooms, oldest first (EnableX: Get list of Rooms)."""
    page = wiring.room_service().list(call.actor, RoomQuery(), listing(call))
    return {"result": SUCCESS, "total": str(page.items_total), "rooms": [enablex.room_out(r) for r in page.items]}


@facade("/rooms/{roomId}", "GET", permission=READ, response="EnableXRoomResult")
def enablex_get_room(call: Call, roomId: str) -> Any:  # noqa: N803 - path parameter named as on the wire
    """Get a room (EnableX: Get Room Information)."""
    return {"result": SUCCESS, "room": enablex.room_out(wiring.room_service().get(call.actor, roomId))}


@facade("/rooms/{roomId}", "PATCH", permission=WRITE, body=EnableXRoom, response="EnableXRoomResult")
def enablex_update_room(call: Call, roomId: str) -> Any:  # noqa: N803
    """Update a room; its mode is fixed (EnableX: Update a Room)."""
    payload = translated(enablex.parse_update, call.json(), call.body(EnableXRoom))
    nulls = payload.null_violations()
    if nulls:
        raise InvalidInput([Problem("invalid-attribute", "This value should not be null.", name) for name in nulls])
    return {"result": SUCCESS, "room": enablex.room_out(wiring.room_service().update(call.actor, roomId, payload))}


@facade("/rooms/{roomId}", "DELETE", permission=WRITE, response="EnableXResult")
def enablex_delete_room(call: Call, roomId: str) -> Any:  # noqa: N803
    """Delete a room (EnableX: Delete a Room)."""
    wiring.room_service().delete(call.actor, roomId)
    return {"result": SUCCESS}


@facade("/rooms/{roomId}/tokens", "POST", permission=WRITE, replayable=False, body=EnableXToken,
        response="EnableXTokenResult")  # fmt: skip
def enablex_create_token(call: Call, roomId: str) -> Any:  # noqa: N803
    """Create a join token for one user and role, valid 24 hours (EnableX: Create Token)."""
    request = translated(enablex.parse_token, call.body(EnableXToken))
    return {"result": SUCCESS, "token": wiring.join_token_service().mint(call.actor, roomId, request).jwt}


@facade("/cdr/room/{roomId}", "GET", permission=READ, uses=(TABLE_INDEX_READ,), response="EnableXReport")
def enablex_room_call_records(call: Call, roomId: str) -> Any:  # noqa: N803
    """Call detail records of a room's ended sessions (EnableX: CDR by Room)."""
    return report(wiring.session_service().room_report(call.actor, roomId), call.actor.project_id)


@facade("/cdr/period/{fromDate}/{toDate}", "GET", permission=READ, response="EnableXReport")
def enablex_period_call_records(call: Call, fromDate: str, toDate: str) -> Any:  # noqa: N803
    """Call detail records of the sessions that ended in a period of UTC days (EnableX: CDR by Period)."""
    days = call.query(Days, {"fromDate": fromDate, "toDate": toDate})
    found = wiring.session_service().report_between(call.actor, *enablex.period(days.since, days.until))
    return report(found, call.actor.project_id)


def archive(found: list[Archived], app_id: str) -> dict[str, Any]:
    return {"result": REPORT_SUCCESS, "archive": [enablex.archive_out(a, app_id) for a in found]}


@facade("/archive/room/{roomId}", "GET", permission=READ, uses=(TABLE_INDEX_READ,), response="EnableXArchive")
def enablex_room_archive(call: Call, roomId: str) -> Any:  # noqa: N803
    """Recordings of a room that became videos (EnableX: Archive by Room)."""
    return archive(wiring.recording_service().archive_of_room(call.actor, roomId), call.actor.project_id)


@facade("/archive/conf/{sessionId}", "GET", permission=READ, uses=(TABLE_INDEX_READ,), response="EnableXArchive")
def enablex_session_archive(call: Call, sessionId: str) -> Any:  # noqa: N803
    """Recordings of one session, EnableX's conference, that became videos (EnableX: Archive by Conference)."""
    return archive(wiring.recording_service().archive_of_session(call.actor, sessionId), call.actor.project_id)
