"""DynamoDB repository of players."""

from __future__ import annotations

from chalicelib.core.adapters.dynamodb import PK, SK, Delete, Put, Table
from chalicelib.core.adapters.records import audit_put, outbox_put
from chalicelib.core.adapters.versioned import CREATE_ONLY, versioned_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.events import DomainEvent
from chalicelib.playback.adapters.records import player_from_item, player_item, player_key
from chalicelib.playback.domain.players import Player


class DynamoPlayerRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, player_id: str) -> Player | None:
        item = self.table.get(*player_key(project_id, player_id))
        return None if item is None else player_from_item(item)

    def list_all(self, project_id: str) -> list[Player]:
        pk, _ = player_key(project_id, "")
        return [player_from_item(item) for item in self.table.query(pk)]

    def create(self, player: Player, audit: AuditEvent, event: DomainEvent) -> None:
        """The player, its audit entry and its event, in one transaction."""
        self.table.write([Put(item=player_item(player), **CREATE_ONLY), audit_put(audit), outbox_put(event)])  # type: ignore[arg-type]

    def save(self, player: Player, expected_version: int, audit: AuditEvent, event: DomainEvent | None) -> None:
        writes = [versioned_put(player_item(player), expected_version), audit_put(audit)]
        if event is not None:
            writes.append(outbox_put(event))
        self.table.write(writes)

    def delete(self, player: Player, expected_version: int, audit: AuditEvent, event: DomainEvent) -> None:
        pk, sk = player_key(player.project_id, player.player_id)
        gone = Delete(
            key={PK: pk, SK: sk},
            condition="#v = :expected",
            names={"#v": "version"},
            values={":expected": expected_version},
        )
        self.table.write([gone, audit_put(audit), outbox_put(event)])
