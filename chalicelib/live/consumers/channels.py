"""Channel release: the table's stream → the IVS channel of a live stream item that left the table.

A live stream's channel lives exactly as long as its item. The item goes when the stream is
deleted, or when a stream that never finished provisioning expires (DynamoDB TTL): either way the
stream hands over a REMOVE record with the old image, and the channel carrying the stream's
deterministic name is deleted (every one with that name, so a duplicate left by a crash goes too).

A failed release names its record in `batchItemFailures`: the stream resumes from there and the
release runs again (it is idempotent), until the mapping's retries end in its DLQ.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import DynamoDBEvent

from chalicelib.core import resources
from chalicelib.core.observability import logger
from chalicelib.core.permissions import IVS_CHANNELS_DELETE, TABLE_READ, declare
from chalicelib.live import wiring
from chalicelib.live.domain.live_streams import LiveStream

bp = Blueprint(__name__)
declare("release_live_channels", (TABLE_READ, IVS_CHANNELS_DELETE))


def removed_live_streams(event: DynamoDBEvent) -> list[tuple[str, LiveStream]]:
    """(sequence number, stream) of each live stream item removed, in stream order."""
    # Imported here: it pulls in boto3, which the API functions importing app.py need not load.
    from chalicelib.core.adapters.dynamodb import from_attributes
    from chalicelib.live.adapters.records import ENTITY, live_stream_from_item

    found = []
    for record in event:
        if record.event_name != "REMOVE" or not record.old_image:
            continue
        item = from_attributes(record.old_image)
        if item.get("entity") != ENTITY:
            continue
        found.append((record.sequence_number, live_stream_from_item(item)))
    return found


@bp.on_dynamodb_record(
    stream_arn=resources.TABLE_STREAM_PLACEHOLDER_ARN, batch_size=25, starting_position="TRIM_HORIZON"
)
def release_live_channels(event: DynamoDBEvent) -> dict[str, Any]:
    for sequence, stream in removed_live_streams(event):
        extra = {"projectId": stream.project_id, "liveStreamId": stream.live_stream_id}
        try:
            released = wiring.live_stream_service().release(stream)
        except Exception:  # noqa: BLE001 - whatever failed, the record must come again
            logger.exception("channel release failed", extra=extra)
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        logger.info("live channel released", extra={**extra, "channels": released, "state": stream.state.value})
    return {"batchItemFailures": []}
