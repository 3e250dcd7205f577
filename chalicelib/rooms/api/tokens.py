"""Join tokens of a room (Videoplane): mint, revoke one, revoke all of a user's."""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.rooms import wiring
from chalicelib.rooms.api import presenters
from chalicelib.rooms.domain.tokens import TokenRequest

bp = Blueprint(__name__)


class UserQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    user_ref: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(alias="userRef")


@endpoint(
    bp,
    "/rooms/{roomId}/tokens",
    "POST",
    permission=Permission.WRITE,
    authorizer=api_key_authorizer,
    status=201,
    # A bearer credential: never stored for replay.
    replayable=False,
    body=TokenRequest,
    response="JoinToken",
)
def create_join_token(call: Call, roomId: str) -> Any:  # noqa: N803
    """Mint a join token for one user and role."""
    minted = wiring.join_token_service().mint(call.actor, roomId, call.body(TokenRequest))
    return presenters.minted(minted)


@endpoint(
    bp,
    "/rooms/{roomId}/tokens",
    "DELETE",
    permission=Permission.WRITE,
    authorizer=api_key_authorizer,
    query=UserQuery,
    response="TokenRevocation",
)
def revoke_user_join_tokens(call: Call, roomId: str) -> Any:  # noqa: N803
    """Revoke every join token of a user in the room."""
    query = call.query(UserQuery, {k: v for k in ("userRef",) if (v := call.single(k)) is not None})
    return {"revoked": wiring.join_token_service().revoke_user(call.actor, roomId, query.user_ref)}


@endpoint(
    bp,
    "/rooms/{roomId}/tokens/{tokenId}",
    "DELETE",
    permission=Permission.WRITE,
    authorizer=api_key_authorizer,
    status=204,
)
def revoke_join_token(call: Call, roomId: str, tokenId: str) -> Any:  # noqa: N803
    """Revoke a join token."""
    wiring.join_token_service().revoke(call.actor, roomId, tokenId)
    return Reply(status=204)
