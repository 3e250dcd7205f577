"""Stage release: the table's stream → the IVS stage of a room item that left the table.

A room's stage lives exactly as long as its item. The item goes when the room is deleted, or when
a room that never finished provisioning expires (DynamoDB TTL): either way the stream hands over a
REMOVE record with the old image, and the stage is deleted (by ARN when the room was ready, else
every stage carrying the room's deterministic name).

A failed release names its record in `batchItemFailures`: the stream resumes from there and the
release runs again (it is idempotent), until the mapping's retries end in its DLQ.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import DynamoDBEvent

from chalicelib.core import resources
from chalicelib.core.observability import logger
from chalicelib.core.permissions import IVS_STAGES_DELETE, TABLE_READ, declare
from chalicelib.rooms import wiring
from chalicelib.rooms.domain.rooms import Room

bp = Blueprint(__name__)
declare("release_room_stages", (TABLE_READ, IVS_STAGES_DELETE))


def removed_rooms(event: DynamoDBEvent) -> list[tuple[str, Room]]:
    """(sequence number, room) of each room item removed, in stream order."""
    # Imported here: it pulls in boto3, which the API functions importing app.py need not load.
    from chalicelib.core.adapters.stream_records import removed_items
    from chalicelib.rooms.adapters.records import ROOM_ENTITY, room_from_item

    return [(sequence, room_from_item(item)) for sequence, item in removed_items(event, ROOM_ENTITY)]


@bp.on_dynamodb_record(
    stream_arn=resources.TABLE_STREAM_PLACEHOLDER_ARN, batch_size=25, starting_position="TRIM_HORIZON"
)
def release_room_stages(event: DynamoDBEvent) -> dict[str, Any]:
    for sequence, room in removed_rooms(event):
        extra = {"projectId": room.project_id, "roomId": room.room_id}
        try:
            released = wiring.room_service().release(room)
        except Exception:  # noqa: BLE001 - whatever failed, the record must come again
            logger.exception("stage release failed", extra=extra)
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        logger.info("room stage released", extra={**extra, "stages": released, "state": room.state.value})
    return {"batchItemFailures": []}
