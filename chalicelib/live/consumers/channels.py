"""Channel release: a removed live stream item → its IVS channel.

A live stream's channel lives exactly as long as its item. The item goes when the stream is
deleted, or when a stream that never finished provisioning expires (DynamoDB TTL): either way
the removal reaches this consumer as an `Item Removed` event with the old image
(resources.REMOVAL_ROUTES: the outbox publisher reads the table's stream and announces it; a rule
sends it to the live-stream-removals queue), and the channel carrying the stream's deterministic
name is deleted (every one with that name, so a duplicate left by a crash goes too).

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
from chalicelib.core.permissions import IVS_CHANNELS_DELETE, LIVE_STREAM_REMOVALS_CONSUME, TABLE_READ, declare
from chalicelib.live import wiring

bp = Blueprint(__name__)
declare("release_live_channels", (TABLE_READ, IVS_CHANNELS_DELETE, LIVE_STREAM_REMOVALS_CONSUME))


def release(message_body: str) -> None:
    # Imported here: it pulls in boto3, which the API functions importing app.py need not load.
    from chalicelib.live.adapters.records import ENTITY, live_stream_from_item

    item = removed_item(message_body)
    if item.get("entity") != ENTITY:
        return
    stream = live_stream_from_item(item)
    extra = {"projectId": stream.project_id, "liveStreamId": stream.live_stream_id}
    try:
        released = wiring.live_stream_service().release(stream)
    except Exception:
        logger.exception("channel release failed", extra=extra)
        raise
    logger.info("live channel released", extra={**extra, "channels": released, "state": stream.state.value})


@bp.on_sqs_message(queue=resources.LIVE_STREAM_REMOVALS_QUEUE.name, batch_size=10)
def release_live_channels(event: SQSEvent) -> dict[str, Any]:
    return batch_item_failures(event, release)
