"""Outbox publisher: the table's stream → the project's EventBridge bus.

A state change and its event item are one transaction, so an event exists exactly when its
change does. This consumer only moves events on. A batch is checkpointed only once every event
in it is on the bus; a crash or a refused entry makes Lambda (or the devstack poller) hand the
rest of the batch over again, with the same `eventId`s: delivery is at least once.

It is the stream's only reader (DynamoDB Streams throttles a shard read by more than two), so it
also announces the removal of the items other contexts clean up after (`resources.REMOVAL_ROUTES`:
a video's files, a live stream's channel) as `Item Removed` events with the old image; a rule per
route sends them to that context's queue.
"""

from __future__ import annotations

import json
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


ANNOUNCED_ENTITIES = frozenset(route.entity for route in resources.REMOVAL_ROUTES)


def outbox_events(event: DynamoDBEvent) -> list[tuple[str, OutgoingEvent]]:
    """(sequence number, event) for each outbox item inserted and each announced removal, in
    stream order."""
    # Imported here: they pull in boto3, which the API functions importing app.py need not load.
    from chalicelib.core.adapters.dynamodb import from_attributes
    from chalicelib.platform.adapters.eventbus import OutgoingEvent

    found = []
    for record in event:
        if record.event_name == "INSERT" and record.new_image:
            item = from_attributes(record.new_image)
            if item.get("entity") != resources.OUTBOX_ENTITY:
                continue
            outgoing = OutgoingEvent(event_id=item["SK"], event_type=item["eventType"], payload_json=item["payload"])
            found.append((record.sequence_number, outgoing))
        elif record.event_name == "REMOVE" and record.old_image:
            entity = record.old_image.get("entity", {}).get("S")
            if entity not in ANNOUNCED_ENTITIES:
                continue
            # The image as the stream carries it (DynamoDB JSON): the item itself is gone.
            detail = {"entity": entity, "keys": record.keys, "oldImage": record.old_image}
            announcement = OutgoingEvent(
                event_id=f"removal-{record.sequence_number}",
                event_type=resources.ITEM_REMOVED,
                payload_json=json.dumps(detail, separators=(",", ":")),
                source=resources.TABLE_CHANGES_SOURCE,
            )
            found.append((record.sequence_number, announcement))
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
