"""Item layouts shared by every context: audit events, outbox events, table bookkeeping."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, Put, project_partition
from chalicelib.core.clock import epoch_seconds, from_atom, to_atom
from chalicelib.core.domain.audit import AUDIT_RETENTION, AuditEvent
from chalicelib.core.domain.events import DomainEvent

TTL = resources.TTL_ATTRIBUTE


def audit_put(event: AuditEvent) -> Put:
    item = {
        PK: project_partition(event.project_id, "AUDIT"),
        SK: f"{to_atom(event.at)}#{event.event_id}",
        "entity": "audit",
        TTL: epoch_seconds(event.at + AUDIT_RETENTION),
        **event.model_dump(mode="json"),
    }
    return Put(item=item, condition="attribute_not_exists(#pk)", names={"#pk": PK})


def audit_from_item(item: dict[str, Any]) -> AuditEvent:
    return AuditEvent.model_validate(item_body(item))


OUTBOX_RETENTION = timedelta(days=7)


def outbox_put(event: DomainEvent) -> Put:
    """The event as an outbox item. Written in the same transaction as the change it reports;
    the table's stream carries it to the publisher. Kept 7 days for replay and inspection."""
    item = {
        PK: project_partition(event.project_id, "OUTBOX"),
        SK: event.event_id,
        "entity": resources.OUTBOX_ENTITY,
        "eventType": event.type,
        "payload": json.dumps(event.payload(), separators=(",", ":")),
        TTL: epoch_seconds(from_atom(event.emitted_at) + OUTBOX_RETENTION),
    }
    return Put(item=item, condition="attribute_not_exists(#pk)", names={"#pk": PK})


_STORAGE_KEYS = (PK, SK, TTL, "entity", resources.GSI1_PARTITION_KEY, resources.GSI1_SORT_KEY)


def item_body(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its table bookkeeping (keys, index keys, expiry, entity name)."""
    return {k: v for k, v in item.items() if k not in _STORAGE_KEYS}
