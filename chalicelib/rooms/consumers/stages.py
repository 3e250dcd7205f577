"""Stage release: a removed room item → its IVS real-time stage.

A room's stage lives exactly as long as its item. The item goes when the room is deleted, or when
a room that never finished provisioning expires (DynamoDB TTL): either way the removal reaches
this consumer as an `Item Removed` event with the old image (resources.REMOVAL_ROUTES: the outbox
publisher reads the table's stream and announces it; a rule sends it to the room-removals queue),
and the stage is deleted: by ARN when the room was ready, else every stage carrying the room's
deterministic name.

A failed release names its message in `batchItemFailures`: it comes back and the release runs
again (it is idempotent), until the queue's maxReceiveCount parks it in the DLQ.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.consumers.removals import removed_item
from chalicelib.core.observability import logger
from chalicelib.core.permissions import IVS_STAGES_DELETE, ROOM_REMOVALS_CONSUME, TABLE_READ, declare
from chalicelib.rooms import wiring

bp = Blueprint(__name__)
declare("release_room_stages", (TABLE_READ, IVS_STAGES_DELETE, ROOM_REMOVALS_CONSUME))


def release(message_body: str) -> None:
    # Imported here: it pulls in boto3, which the API functions importing app.py need not load.
    from chalicelib.rooms.adapters.records import ROOM_ENTITY, room_from_item

    item = removed_item(message_body)
    if item.get("entity") != ROOM_ENTITY:
        return
    room = room_from_item(item)
    extra = {"projectId": room.project_id, "roomId": room.room_id}
    try:
        released = wiring.room_service().release(room)
    except Exception:
        logger.exception("stage release failed", extra=extra)
        raise
    logger.info("room stage released", extra={**extra, "stages": released, "state": room.state.value})


@bp.on_sqs_message(queue=resources.ROOM_REMOVALS_QUEUE.name, batch_size=10)
def release_room_stages(event: SQSEvent) -> dict[str, Any]:
    return batch_item_failures(event, release)
