"""Playback signing keys (Videoplane extension): a tenant's backend signs playback JWTs for its
private videos with them; the public halves are published as the project's JWKS."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import TABLE_READ
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.playback import wiring
from chalicelib.playback.api import presenters

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE
TAG = "Playback keys"


@endpoint(
    bp,
    "/playback-keys",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=201,
    body_required=False,
    # The private key is shown once: a replayed request must not show it again.
    replayable=False,
    response="PlaybackKeyCreated",
    tag=TAG,
)
def create_playback_key(call: Call) -> Any:
    """Creates a signing key; the response carries its private key, which is not kept"""
    key, private_pem = wiring.playback_key_service().create(call.actor)
    return Reply(status=201, body={**presenters.playback_key(key), "privateKey": private_pem})


@endpoint(
    bp, "/playback-keys", "GET", permission=READ, authorizer=api_key_authorizer, response="PlaybackKeyList", tag=TAG
)
def list_playback_keys(call: Call) -> Any:
    """The project's playback signing keys (public halves)"""
    return {"data": [presenters.playback_key(k) for k in wiring.playback_key_service().list(call.actor)]}


@endpoint(
    bp,
    "/playback-keys/{playbackKeyId}",
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    tag=TAG,
)
def delete_playback_key(call: Call, playbackKeyId: str) -> Any:  # noqa: N803
    """Revokes a key: JWTs signed with it stop working at once (sessions already open run out)"""
    wiring.playback_key_service().delete(call.actor, playbackKeyId)
    return Reply(status=204)


@endpoint(
    bp,
    "/.well-known/playback-jwks/{projectId}",
    "GET",
    permission=None,
    uses=(TABLE_READ,),
    response="Jwks",
    tag=TAG,
)
def get_playback_jwks(call: Call, projectId: str) -> Any:  # noqa: N803
    """A project's public playback keys as a JWKS (RFC 7517), to verify its playback JWTs"""
    return Reply(body=wiring.playback_key_service().jwks(projectId), headers={"Cache-Control": "public, max-age=60"})
