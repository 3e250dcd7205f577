"""Outbox publisher: the table's stream → the project's EventBridge bus.

A state change and its event item are one transaction, so an event exists exactly when its
change does. This consumer only moves events on. A batch is checkpointed only once every event
in it is on the bus; a crash or a refused entry makes Lambda (or the devstack poller) hand the
rest of the batch over again, with the same `eventId`s: delivery is at least once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint
from chalice.app import DynamoDBEvent

from chalicelib.core import resources
from chalicelib.core.observability import logger
from chalicelib.core.permissions import EVENT_BUS_PUT, declare
from chalicelib.platform import wiring

if TYPE_CHECKING:
    from chalicelib.platform.adapters.eventbus import OutgoingEvent

bp = Blueprint(__name__)
declare("publish_outbox", (EVENT_BUS_PUT,))


def outbox_events(event: DynamoDBEvent) -> list[tuple[str, OutgoingEvent]]:
    """(sequence number, event) for each outbox item inserted, in stream order."""
    # Imported here: they pull in boto3, which the API functions importing app.py need not load.
    from chalicelib.core.adapters.dynamodb import from_attributes
    from chalicelib.platform.adapters.eventbus import OutgoingEvent

    found = []
    for record in event:
        if record.event_name != "INSERT" or not record.new_image:
            continue
        item = from_attributes(record.new_image)
        if item.get("entity") != "outbox":
            continue
        outgoing = OutgoingEvent(event_id=item["SK"], event_type=item["eventType"], payload_json=item["payload"])
        found.append((record.sequence_number, outgoing))
    return found


@bp.on_dynamodb_record(
    stream_arn=resources.TABLE_STREAM_PLACEHOLDER_ARN, batch_size=100, starting_position="TRIM_HORIZON"
)
def publish_outbox(event: DynamoDBEvent) -> dict[str, Any]:
    pending = outbox_events(event)
    if not pending:
        return {"batchItemFailures": []}
    failed = set(wiring.event_publisher().publish([outgoing for _, outgoing in pending]))
    if not failed:
        logger.info("published", extra={"events": len(pending)})
        return {"batchItemFailures": []}
    # Streams resume from the lowest failed sequence number; naming it is enough.
    first = next(sequence for sequence, outgoing in pending if outgoing.event_id in failed)
    logger.warning("events refused by the bus", extra={"failed": sorted(failed), "retry_from": first})
    return {"batchItemFailures": [{"itemIdentifier": first}]}
