"""DynamoDB store of a project's geo restriction: `P#<project>#PLAYBACKGEO` / `policy`
(docs/data-model.md)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.adapters.dynamodb import PK, SK, Put, Table, project_partition
from chalicelib.core.adapters.records import audit_put, item_body, outbox_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.events import DomainEvent
from chalicelib.playback.domain.geo import GeoPolicy, unrestricted

COLLECTION = "PLAYBACKGEO"
POLICY_SK = "policy"


def geo_item(policy: GeoPolicy) -> dict[str, Any]:
    return {
        PK: project_partition(policy.project_id, COLLECTION),
        SK: POLICY_SK,
        "entity": "playback_geo",
        **policy.model_dump(mode="json"),
    }


class DynamoGeoPolicies:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str) -> GeoPolicy:
        item = self.table.get(project_partition(project_id, COLLECTION), POLICY_SK)
        return unrestricted(project_id) if item is None else GeoPolicy.model_validate(item_body(item))

    def save(self, policy: GeoPolicy, audit: AuditEvent, event: DomainEvent) -> None:
        """The policy, its audit entry and its event in one transaction (a whole replacement: last
        write wins)."""
        self.table.write([Put(item=geo_item(policy)), audit_put(audit), outbox_put(event)])
