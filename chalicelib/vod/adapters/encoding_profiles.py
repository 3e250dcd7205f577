"""DynamoDB repository of encoding profiles."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.core.adapters.dynamodb import Table
from chalicelib.core.adapters.records import audit_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.vod.adapters.records import profile_from_item, profile_item, profile_key
from chalicelib.vod.adapters.writes import _delete, _puts
from chalicelib.vod.domain.encoding_profiles import EncodingProfile


class DynamoEncodingProfileRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, profile_id: str) -> EncodingProfile | None:
        item = self.table.get(*profile_key(project_id, profile_id))
        return None if item is None else profile_from_item(item)

    def list_all(self, project_id: str) -> list[EncodingProfile]:
        pk, _ = profile_key(project_id, "")
        return [profile_from_item(item) for item in self.table.query(pk)]

    def save(self, changes: Sequence[tuple[EncodingProfile, int | None]], audit: AuditEvent) -> None:
        self.table.write([*_puts(profile_item, changes), audit_put(audit)])

    def delete(self, profile: EncodingProfile, audit: AuditEvent) -> None:
        key = profile_key(profile.project_id, profile.profile_id)
        self.table.write([_delete(key, profile.version), audit_put(audit)])
