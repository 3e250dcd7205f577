"""Reading the table's stream in a consumer: the items of one entity that left the table."""

from __future__ import annotations

from typing import Any

from chalice.app import DynamoDBEvent

from chalicelib.core.adapters.dynamodb import from_attributes


def removed_items(event: DynamoDBEvent, entity: str) -> list[tuple[str, dict[str, Any]]]:
    """(sequence number, old image) of each item of `entity` removed (deleted, or expired by TTL),
    in stream order."""
    found = []
    for record in event:
        if record.event_name != "REMOVE" or not record.old_image:
            continue
        item = from_attributes(record.old_image)
        if item.get("entity") == entity:
            found.append((record.sequence_number, item))
    return found
