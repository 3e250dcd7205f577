"""DynamoDB repository of watermarks."""

from __future__ import annotations

from chalicelib.core.adapters.dynamodb import Table
from chalicelib.core.adapters.records import audit_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.vod.adapters.records import watermark_from_item, watermark_item, watermark_key
from chalicelib.vod.adapters.writes import _delete, _put
from chalicelib.vod.domain.watermarks import Watermark


class DynamoWatermarkRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, watermark_id: str) -> Watermark | None:
        item = self.table.get(*watermark_key(project_id, watermark_id))
        return None if item is None else watermark_from_item(item)

    def list_all(self, project_id: str) -> list[Watermark]:
        pk, _ = watermark_key(project_id, "")
        return [watermark_from_item(item) for item in self.table.query(pk)]

    def create(self, watermark: Watermark, audit: AuditEvent) -> None:
        self.table.write([_put(watermark_item(watermark), None), audit_put(audit)])

    def delete(self, watermark: Watermark, audit: AuditEvent) -> None:
        key = watermark_key(watermark.project_id, watermark.watermark_id)
        self.table.write([_delete(key), audit_put(audit)])
