"""Purge: a removed video item → its files and leftover items.

A discarded video carries `ttl` = its `deletesAt`; DynamoDB removes it some time after. That
removal, and any other permanent removal of a video item, reaches this consumer as an `Item
Removed` event (resources.REMOVAL_ROUTES: the outbox publisher reads the table's stream and
announces it; a rule sends it to the video-removals queue). Only the video's own item counts: the
purge deletes items of other kinds (media state, tracks, ...) whose removals carry the same
entity, and skips them, so it never feeds itself.

A failed purge names its message in `batchItemFailures`: it comes back and the purge runs again
(it is idempotent), until the queue's maxReceiveCount parks it in the DLQ.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.consumers.removals import removed_item
from chalicelib.core.observability import logger
from chalicelib.core.permissions import (
    MEDIA_PURGE,
    TABLE_READ,
    TABLE_WRITE,
    UPLOADS_PURGE,
    VIDEO_REMOVALS_CONSUME,
    declare,
)
from chalicelib.vod import wiring

bp = Blueprint(__name__)
declare("purge_videos", (TABLE_READ, TABLE_WRITE, UPLOADS_PURGE, MEDIA_PURGE, VIDEO_REMOVALS_CONSUME))


def removed_video(item: dict[str, Any]) -> tuple[str, str] | None:
    """(project id, video id) when `item` is a video's own item."""
    from chalicelib.core.adapters.dynamodb import SK

    # The video's own item: its sort key is the bare id (`<videoId>#media` is its media state).
    if item.get("entity") != "video" or "#" in str(item.get(SK, "#")):
        return None
    return str(item["project_id"]), str(item["video_id"])


def purge(message_body: str) -> None:
    removed = removed_video(removed_item(message_body))
    if removed is None:
        return
    project_id, video_id = removed
    try:
        purged = wiring.purge_service().purge(project_id, video_id)
    except Exception:
        logger.exception("purge failed", extra={"projectId": project_id, "videoId": video_id})
        raise
    logger.info(
        "video purged",
        extra={
            "projectId": project_id,
            "videoId": video_id,
            "uploadObjects": purged.upload_objects,
            "mediaObjects": purged.media_objects,
            "items": purged.items,
        },
    )


@bp.on_sqs_message(queue=resources.VIDEO_REMOVALS_QUEUE.name, batch_size=10)
def purge_videos(event: SQSEvent) -> dict[str, Any]:
    return batch_item_failures(event, purge)
