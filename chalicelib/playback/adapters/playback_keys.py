"""DynamoDB repository of playback signing keys: `P#<project>#PLAYBACKKEY` / `<keyId>` with the
public JWK (docs/data-model.md). The private half is never stored."""

from __future__ import annotations

from typing import Any

from chalicelib.core.adapters.dynamodb import PK, SK, Delete, Put, Table, project_partition
from chalicelib.core.adapters.records import audit_put, item_body
from chalicelib.core.adapters.versioned import CREATE_ONLY
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.playback.domain.playback_keys import PlaybackKey

COLLECTION = "PLAYBACKKEY"


def key_item(key: PlaybackKey) -> dict[str, Any]:
    return {
        PK: project_partition(key.project_id, COLLECTION),
        SK: key.key_id,
        "entity": "playback_key",
        **key.model_dump(mode="json"),
    }


class DynamoPlaybackKeys:
    def __init__(self, table: Table) -> None:
        self.table = table

    def list_all(self, project_id: str) -> list[PlaybackKey]:
        items = self.table.query(project_partition(project_id, COLLECTION), consistent=True)
        return [PlaybackKey.model_validate(item_body(item)) for item in items]

    def create(self, key: PlaybackKey, audit: AuditEvent) -> None:
        self.table.write([Put(item=key_item(key), **CREATE_ONLY), audit_put(audit)])  # type: ignore[arg-type]

    def delete(self, key: PlaybackKey, audit: AuditEvent) -> None:
        gone = Delete(
            key={PK: project_partition(key.project_id, COLLECTION), SK: key.key_id},
            condition="attribute_exists(#pk)",
            names={"#pk": PK},
        )
        self.table.write([gone, audit_put(audit)])
