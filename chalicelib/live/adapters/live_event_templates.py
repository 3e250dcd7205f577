"""DynamoDB repository of live event templates."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.core.adapters.dynamodb import Put, Table, Write
from chalicelib.core.adapters.records import audit_put
from chalicelib.core.adapters.versioned import CREATE_ONLY, versioned_delete, versioned_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.live.adapters.records import template_from_item, template_item, template_key
from chalicelib.live.domain.live_event_templates import LiveEventTemplate


class DynamoLiveEventTemplateRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, template_id: str) -> LiveEventTemplate | None:
        item = self.table.get(*template_key(project_id, template_id))
        return None if item is None else template_from_item(item)

    def list_all(self, project_id: str) -> list[LiveEventTemplate]:
        pk, _ = template_key(project_id, "")
        return [template_from_item(item) for item in self.table.query(pk)]

    def save(self, changes: Sequence[tuple[LiveEventTemplate, int | None]], audit: AuditEvent) -> None:
        writes: list[Write] = [
            Put(item=template_item(t), **CREATE_ONLY)  # type: ignore[arg-type]
            if expected is None
            else versioned_put(template_item(t), expected)
            for t, expected in changes
        ]
        self.table.write([*writes, audit_put(audit)])

    def delete(self, template: LiveEventTemplate, audit: AuditEvent) -> None:
        pk, sk = template_key(template.project_id, template.template_id)
        self.table.write([versioned_delete(pk, sk, template.version), audit_put(audit)])
