"""DynamoDB repository of managed live events."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import Put, Table, Write
from chalicelib.core.adapters.records import audit_put, outbox_put
from chalicelib.core.adapters.versioned import CREATE_ONLY, versioned_delete, versioned_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.events import DomainEvent
from chalicelib.live.adapters.records import (
    LIVE_EVENT_CHANNEL_INDEX_PREFIX,
    live_event_from_item,
    live_event_item,
    live_event_key,
)
from chalicelib.live.domain.live_events import LiveEvent


class DynamoLiveEventRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, live_event_id: str) -> LiveEvent | None:
        item = self.table.get(*live_event_key(project_id, live_event_id))
        return None if item is None else live_event_from_item(item)

    def list_all(self, project_id: str) -> list[LiveEvent]:
        pk, _ = live_event_key(project_id, "")
        return [live_event_from_item(item) for item in self.table.query(pk)]

    def find_by_channel(self, channel_arn: str) -> LiveEvent | None:
        for item in self.table.query(LIVE_EVENT_CHANNEL_INDEX_PREFIX + channel_arn, index=resources.GSI1):
            # The index is eventually consistent: the item itself is read again.
            return self.get(str(item[resources.GSI1_SORT_KEY]), str(item["live_event_id"]))
        return None

    def create(self, event: LiveEvent, audit: AuditEvent) -> None:
        self.table.write([Put(item=live_event_item(event), **CREATE_ONLY), audit_put(audit)])  # type: ignore[arg-type]

    def save(
        self, event: LiveEvent, expected_version: int, audit: AuditEvent | None, events: Sequence[DomainEvent]
    ) -> None:
        writes: list[Write] = [versioned_put(live_event_item(event), expected_version)]
        if audit is not None:
            writes.append(audit_put(audit))
        writes.extend(outbox_put(e) for e in events)
        self.table.write(writes)

    def delete(self, event: LiveEvent, audit: AuditEvent) -> None:
        pk, sk = live_event_key(event.project_id, event.live_event_id)
        self.table.write([versioned_delete(pk, sk, event.version), audit_put(audit)])
