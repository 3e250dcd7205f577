"""The public join endpoints: no API key; the join token (or the stats token the join answered) in the
body is the credential."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.permissions import IVS_STAGES_JOIN, TABLE_READ, TABLE_WRITE
from chalicelib.rooms import wiring
from chalicelib.rooms.api import presenters
from chalicelib.rooms.domain.quality import StatsReport
from chalicelib.rooms.domain.tokens import JoinRequest

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/join",
    "POST",
    permission=None,
    uses=(IVS_STAGES_JOIN,),
    body=JoinRequest,
    response="Admission",
    errors=(401, 403, 409),
    tag="rooms",
    cross_origin=True,
)
def join_room(call: Call) -> Any:
    """Exchange a join token for the room's media credentials (IVS participant token, WHIP URL)."""
    return presenters.admission(wiring.join_token_service().join(call.body(JoinRequest)))


@endpoint(
    bp,
    "/join/stats",
    "POST",
    permission=None,
    status=204,
    uses=(TABLE_READ, TABLE_WRITE),
    body=StatsReport,
    errors=(401, 429),
    tag="rooms",
    cross_origin=True,
)
def report_join_stats(call: Call) -> Any:
    """Report one interval of a participant's media figures (WebRTC getStats()) with the join's stats token."""
    wiring.quality_service().report(call.body(StatsReport))
    return Reply(status=204)
