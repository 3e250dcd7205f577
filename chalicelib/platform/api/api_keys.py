"""API key management (admin keys only)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.pagination import paginate
from chalicelib.platform import wiring
from chalicelib.platform.api import presenters
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.platform.services.projects import KeyCreation, KeyUpdate

bp = Blueprint(__name__)


ADMIN = Permission.ADMIN


@endpoint(
    bp,
    "/api-keys",
    "POST",
    permission=ADMIN,
    authorizer=api_key_authorizer,
    status=201,
    replayable=False,
    body=KeyCreation,
    response="ApiKey",
)
def create_api_key(call: Call) -> Any:
    issued = wiring.project_service().create_key(call.actor.project_id, call.body(KeyCreation), call.actor)
    return presenters.api_key(issued.key, issued.value)


@endpoint(bp, "/api-keys", "GET", permission=ADMIN, authorizer=api_key_authorizer, response="ApiKey", paged=True)
def list_api_keys(call: Call) -> Any:
    page = paginate(wiring.project_service().list_keys(call.actor), call.page())
    return page.envelope([presenters.api_key(k) for k in page.items], "/api-keys", [])


@endpoint(bp, "/api-keys/{keyId}", "GET", permission=ADMIN, authorizer=api_key_authorizer, response="ApiKey")
def get_api_key(call: Call, keyId: str) -> Any:  # noqa: N803
    return presenters.api_key(wiring.project_service().get_key(call.actor, keyId))


@endpoint(
    bp, "/api-keys/{keyId}", "PATCH", permission=ADMIN, authorizer=api_key_authorizer, body=KeyUpdate, response="ApiKey"
)
def update_api_key(call: Call, keyId: str) -> Any:  # noqa: N803
    return presenters.api_key(wiring.project_service().update_key(call.actor, keyId, call.body(KeyUpdate)))


@endpoint(bp, "/api-keys/{keyId}", "DELETE", permission=ADMIN, authorizer=api_key_authorizer, status=204)
def revoke_api_key(call: Call, keyId: str) -> Any:  # noqa: N803
    wiring.project_service().revoke_key(call.actor, keyId)
    return Reply(status=204)
