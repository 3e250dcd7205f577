"""Key management and the audit log (admin keys only)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.api import presenters
from chalicelib.api.auth import api_key_authorizer
from chalicelib.api.http import Call, Reply, endpoint
from chalicelib.domain.access import Permission
from chalicelib.domain.audit import AuditQuery
from chalicelib.domain.pagination import paginate
from chalicelib.services.projects import KeyCreation, KeyUpdate

bp = Blueprint(__name__)
ADMIN = Permission.ADMIN
AUDIT_FILTERS = ("resourceType", "resourceId", "action", "from", "to")


@endpoint(bp, "/api-keys", "POST", permission=ADMIN, authorizer=api_key_authorizer, status=201, replayable=False)
def create_api_key(call: Call) -> Any:
    issued = wiring.project_service().create_key(call.actor.project_id, call.body(KeyCreation), call.actor)
    return presenters.api_key(issued.key, issued.value)


@endpoint(bp, "/api-keys", "GET", permission=ADMIN, authorizer=api_key_authorizer)
def list_api_keys(call: Call) -> Any:
    page = paginate(wiring.project_service().list_keys(call.actor), call.page())
    return page.envelope([presenters.api_key(k) for k in page.items], "/api-keys", [])


@endpoint(bp, "/api-keys/{keyId}", "GET", permission=ADMIN, authorizer=api_key_authorizer)
def get_api_key(call: Call, keyId: str) -> Any:  # noqa: N803
    return presenters.api_key(wiring.project_service().get_key(call.actor, keyId))


@endpoint(bp, "/api-keys/{keyId}", "PATCH", permission=ADMIN, authorizer=api_key_authorizer)
def update_api_key(call: Call, keyId: str) -> Any:  # noqa: N803
    return presenters.api_key(wiring.project_service().update_key(call.actor, keyId, call.body(KeyUpdate)))


@endpoint(bp, "/api-keys/{keyId}", "DELETE", permission=ADMIN, authorizer=api_key_authorizer, status=204)
def revoke_api_key(call: Call, keyId: str) -> Any:  # noqa: N803
    wiring.project_service().revoke_key(call.actor, keyId)
    return Reply(status=204)


@endpoint(bp, "/audit-events", "GET", permission=ADMIN, authorizer=api_key_authorizer)
def list_audit_events(call: Call) -> Any:
    values = call.query_values()
    query = call.query(AuditQuery, {k: v[-1] for k, v in values.items() if k in AUDIT_FILTERS})
    page = wiring.audit_service().list(call.actor, query, call.page())
    return page.envelope([presenters.audit_event(e) for e in page.items], "/audit-events", call.filters(*AUDIT_FILTERS))
