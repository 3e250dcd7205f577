"""Publishing domain events to the project's EventBridge bus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.core import resources
from chalicelib.core.domain.errors import RepositoryUnavailable

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
else:
    EventBridgeClient = Any

# PutEvents takes at most 10 entries and 256 KB per call.
MAX_ENTRIES = 10
MAX_BATCH_BYTES = 250_000


@dataclass(frozen=True)
class OutgoingEvent:
    event_id: str
    event_type: str
    payload_json: str
    source: str = resources.EVENT_SOURCE


class EventBridgePublisher:
    def __init__(self, client: EventBridgeClient, bus_name: str) -> None:
        self.client = client
        self.bus_name = bus_name

    def publish(self, events: Sequence[OutgoingEvent]) -> list[str]:
        """Puts every event; returns the ids of those EventBridge refused (to retry later)."""
        failed: list[str] = []
        for batch in _batches(events):
            entries = [
                {
                    "Source": event.source,
                    "DetailType": event.event_type,
                    "Detail": event.payload_json,
                    "EventBusName": self.bus_name,
                }
                for event in batch
            ]
            try:
                response = self.client.put_events(Entries=entries)  # type: ignore[arg-type]
            except ClientError as error:
                raise RepositoryUnavailable(detail="The event bus refused the batch.") from error
            results = response.get("Entries", [])
            failed.extend(
                event.event_id for event, result in zip(batch, results, strict=False) if "ErrorCode" in result
            )
            failed.extend(event.event_id for event in batch[len(results) :])
        return failed


def _batches(events: Sequence[OutgoingEvent]) -> list[list[OutgoingEvent]]:
    batches: list[list[OutgoingEvent]] = []
    current: list[OutgoingEvent] = []
    size = 0
    for event in events:
        event_size = len(event.payload_json.encode()) + len(event.event_type) + len(event.source)
        if current and (len(current) == MAX_ENTRIES or size + event_size > MAX_BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(event)
        size += event_size
    if current:
        batches.append(current)
    return batches
