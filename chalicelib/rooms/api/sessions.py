"""Sessions of rooms and their call detail records (Videoplane)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import Blueprint
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import TABLE_INDEX_READ
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.rooms import wiring
from chalicelib.rooms.api import presenters

bp = Blueprint(__name__)
READ = Permission.READ
PERIOD_FILTERS = ("from", "to")


class Period(BaseModel):
    """`GET /cdr`: sessions that ended in [from, to)."""

    model_config = ConfigDict(populate_by_name=True)
    since: AwareDatetime = Field(alias="from")
    until: AwareDatetime = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.until <= self.since:
            raise ValueError("`to` must be after `from`.")
        return self

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return self.since, self.until


@endpoint(
    bp,
    "/rooms/{roomId}/sessions",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    # A room's sessions are listed from the table's index.
    uses=(TABLE_INDEX_READ,),
    response="Session",
    paged=True,
)
def list_room_sessions(call: Call, roomId: str) -> Any:  # noqa: N803 - path parameter named as on the wire
    """List a room's sessions, oldest first."""
    page = wiring.session_service().of_room(call.actor, roomId, call.page())
    return page.envelope([presenters.session(s) for s in page.items], f"/rooms/{roomId}/sessions", [])


@endpoint(
    bp, "/sessions/{sessionId}", "GET", permission=READ, authorizer=api_key_authorizer, uses=(TABLE_INDEX_READ,),
    response="Session",
)  # fmt: skip
def get_session(call: Call, sessionId: str) -> Any:  # noqa: N803
    """Get a room session, with its participants, recordings and call quality."""
    session, totals = wiring.session_service().summary(call.actor, sessionId)
    return presenters.session(session, wiring.recording_service().of_session(call.actor.project_id, sessionId), totals)


@endpoint(
    bp,
    "/sessions/{sessionId}/cdr",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="CallDetailRecord",
    paged=True,
)
def list_session_call_records(call: Call, sessionId: str) -> Any:  # noqa: N803
    """List a session's call detail records: one per join (complete once the session ended)."""
    page = wiring.session_service().records(call.actor, sessionId, call.page())
    return page.envelope([presenters.call_record(r) for r in page.items], f"/sessions/{sessionId}/cdr", [])


@endpoint(
    bp, "/cdr", "GET", permission=READ, authorizer=api_key_authorizer, query=Period, response="CallDetailRecord",
    paged=True,
)  # fmt: skip
def list_call_records(call: Call) -> Any:
    """List the call detail records of the sessions that ended in a period."""
    period = call.query(Period, {k: v for k in PERIOD_FILTERS if (v := call.single(k)) is not None})
    page = wiring.session_service().records_between(call.actor, *period.bounds, call.page())
    return page.envelope([presenters.call_record(r) for r in page.items], "/cdr", call.filters(*PERIOD_FILTERS))
