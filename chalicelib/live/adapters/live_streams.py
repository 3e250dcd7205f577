"""DynamoDB repository of live streams."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.core.adapters.dynamodb import PK, SK, Delete, Put, Table, Write
from chalicelib.core.adapters.records import audit_put, outbox_put
from chalicelib.core.adapters.versioned import CREATE_ONLY, versioned_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.events import DomainEvent
from chalicelib.live.adapters.records import live_stream_from_item, live_stream_item, live_stream_key
from chalicelib.live.domain.live_streams import LiveStream


class DynamoLiveStreamRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, live_stream_id: str) -> LiveStream | None:
        item = self.table.get(*live_stream_key(project_id, live_stream_id))
        return None if item is None else live_stream_from_item(item)

    def list_all(self, project_id: str) -> list[LiveStream]:
        pk, _ = live_stream_key(project_id, "")
        return [live_stream_from_item(item) for item in self.table.query(pk)]

    def reserve(self, stream: LiveStream) -> None:
        self.table.write([Put(item=live_stream_item(stream), **CREATE_ONLY)])  # type: ignore[arg-type]

    def activate(
        self, stream: LiveStream, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]
    ) -> None:
        self.save(stream, expected_version, audit, events)

    def save(self, stream: LiveStream, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        """The stream, its audit entry and its events are written together or not at all."""
        self.table.write(
            [
                versioned_put(live_stream_item(stream), expected_version),
                audit_put(audit),
                *(outbox_put(event) for event in events),
            ]
        )

    def record_broadcast(self, stream: LiveStream, expected_version: int, events: Sequence[DomainEvent]) -> None:
        """The live plane's report (no actor, so no audit entry) and its events, together."""
        self.table.write(
            [versioned_put(live_stream_item(stream), expected_version), *(outbox_put(event) for event in events)]
        )

    def delete(
        self, stream: LiveStream, expected_version: int, audit: AuditEvent | None, events: Sequence[DomainEvent]
    ) -> None:
        pk, sk = live_stream_key(stream.project_id, stream.live_stream_id)
        writes: list[Write] = [
            Delete(
                key={PK: pk, SK: sk},
                condition="#v = :expected",
                names={"#v": "version"},
                values={":expected": expected_version},
            )
        ]
        if audit is not None:
            writes.append(audit_put(audit))
        writes.extend(outbox_put(event) for event in events)
        self.table.write(writes)
