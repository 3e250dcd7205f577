"""The audit log (admin keys only)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.audit import AuditQuery
from chalicelib.platform import wiring
from chalicelib.platform.api import presenters
from chalicelib.platform.api.authorizer import api_key_authorizer

bp = Blueprint(__name__)
ADMIN = Permission.ADMIN


AUDIT_FILTERS = ("resourceType", "resourceId", "action", "from", "to")


@endpoint(
    bp,
    "/audit-events",
    "GET",
    permission=ADMIN,
    authorizer=api_key_authorizer,
    query=AuditQuery,
    response="AuditEvent",
    paged=True,
)
def list_audit_events(call: Call) -> Any:
    values = call.query_values()
    query = call.query(AuditQuery, {k: v[-1] for k, v in values.items() if k in AUDIT_FILTERS})
    page = wiring.audit_service().list(call.actor, query, call.page())
    return page.envelope([presenters.audit_event(e) for e in page.items], "/audit-events", call.filters(*AUDIT_FILTERS))
