"""Audit events: who changed what, when, with before and after images."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.core import ids
from chalicelib.core.domain.access import Actor

AUDIT_RETENTION = timedelta(days=90)
AUDIT_ID_PREFIX = "au"


class AuditEvent(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    event_id: str
    action: str
    resource_type: str
    resource_id: str
    actor_key_id: str | None
    request_id: str
    at: datetime
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    detail: str | None = None


def wire_names(image: Any) -> Any:
    """An entity image with the API's field names: snake_case keys become camelCase, at every
    depth (the domain models dump snake_case; every body of the API, the audit log's included,
    is camelCase). Values, user data among them, are left as they are."""
    if isinstance(image, dict):
        return {_camel(str(key)): wire_names(value) for key, value in image.items()}
    if isinstance(image, list):
        return [wire_names(value) for value in image]
    return image


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def record_event(
    project_id: str,
    actor_key_id: str | None,
    request_id: str,
    action: str,
    resource_type: str,
    resource_id: str,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str | None = None,
) -> AuditEvent:
    return AuditEvent(
        project_id=project_id,
        event_id=ids.new_sortable_id(AUDIT_ID_PREFIX),
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        actor_key_id=actor_key_id,
        request_id=request_id,
        at=now,
        before=wire_names(before),
        after=wire_names(after),
        detail=detail,
    )


def record(
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str | None = None,
) -> AuditEvent:
    return record_event(
        actor.project_id, actor.principal.key_id, actor.request_id, action, resource_type, resource_id, now,
        before=before, after=after, detail=detail,
    )  # fmt: skip


class AuditQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    resource_type: Annotated[str, StringConstraints(max_length=64)] | None = Field(default=None, alias="resourceType")
    resource_id: Annotated[str, StringConstraints(max_length=128)] | None = Field(default=None, alias="resourceId")
    action: Annotated[str, StringConstraints(max_length=64)] | None = None
    since: datetime | None = Field(default=None, alias="from")
    until: datetime | None = Field(default=None, alias="to")


def audit_matches(event: AuditEvent, query: AuditQuery) -> bool:
    return (
        (query.resource_type is None or event.resource_type == query.resource_type)
        and (query.resource_id is None or event.resource_id == query.resource_id)
        and (query.action is None or event.action == query.action)
    )
