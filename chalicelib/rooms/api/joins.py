"""The public join endpoint: no API key; the join token in the body is the credential."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.permissions import IVS_STAGES_JOIN
from chalicelib.rooms import wiring
from chalicelib.rooms.api import presenters
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
)
def join_room(call: Call) -> Any:
    """Exchange a join token for the room's media credentials (IVS participant token, WHIP URL)."""
    return presenters.admission(wiring.join_token_service().join(call.body(JoinRequest)))
