"""API keys and audit events -> wire shapes."""

from __future__ import annotations

from typing import Any

from chalicelib.core.clock import to_atom
from chalicelib.core.domain import audit
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.platform.domain.credentials import ApiKey


def api_key(key: ApiKey, value: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "keyId": key.key_id,
        "name": key.name,
        "role": key.role.value,
        "createdAt": to_atom(key.created_at),
        "revokedAt": to_atom(key.revoked_at) if key.revoked_at else None,
    }
    if value is not None:
        body["apiKey"] = value
    return body


def audit_event(event: AuditEvent) -> dict[str, Any]:
    return {
        "auditEventId": event.event_id,
        "action": event.action,
        "resourceType": event.resource_type,
        "resourceId": event.resource_id,
        "actorKeyId": event.actor_key_id,
        "requestId": event.request_id,
        "at": to_atom(event.at),
        # Records written before images were stored with wire names still hold snake_case.
        "before": audit.wire_names(event.before),
        "after": audit.wire_names(event.after),
        "detail": event.detail,
    }
