"""The edge's private video ids: video events and removed video items → the edge check's store.

The project bus sends `video.created`, `video.updated`, `video.deleted` and `video.restored`, and
the removal of video items, to the playback-videos queue (resources.BUS_ROUTES). Each message
makes the store agree with the table for its video (services.edge). On the devstack no store is
configured (its media server reads the table) and messages are only acknowledged.

A failed write names its message in `batchItemFailures`: it comes back until the queue's
maxReceiveCount parks it in the DLQ.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.observability import logger
from chalicelib.core.permissions import PLAYBACK_EDGE_WRITE, PLAYBACK_VIDEOS_CONSUME, TABLE_READ, declare
from chalicelib.playback import wiring

bp = Blueprint(__name__)
declare("sync_edge_privacy", (TABLE_READ, PLAYBACK_EDGE_WRITE, PLAYBACK_VIDEOS_CONSUME))


def video_of(message_body: str) -> tuple[str, str, bool] | None:
    """(project id, video id, removed) for a video event or a removed video's own item."""
    event = json.loads(message_body)
    detail = event.get("detail") or {}
    if event.get("detail-type") == resources.ITEM_REMOVED:
        from chalicelib.core.consumers.removals import removed_item

        item = removed_item(message_body)
        # The video's own item: its sort key is the bare id (`<videoId>#media` is its media state).
        if item.get("entity") != "video" or "#" in str(item.get("SK", "#")):
            return None
        return str(item["project_id"]), str(item["video_id"]), True
    if event.get("detail-type") in resources.PLAYBACK_VIDEO_EVENTS:
        return str(detail["projectId"]), str(detail["videoId"]), False
    return None


def sync(message_body: str) -> None:
    video = video_of(message_body)
    service = wiring.edge_service()
    if video is None or service is None:
        return
    project_id, video_id, removed = video
    extra = {"projectId": project_id, "videoId": video_id}
    try:
        if removed:
            service.forget(video_id)
            private = False
        else:
            private = service.sync(project_id, video_id)
    except Exception:
        logger.exception("edge privacy sync failed", extra=extra)
        raise
    logger.info("edge privacy synced", extra={**extra, "private": private})


@bp.on_sqs_message(queue=resources.PLAYBACK_VIDEOS_QUEUE.name, batch_size=10)
def sync_edge_privacy(event: SQSEvent) -> dict[str, Any]:
    return batch_item_failures(event, sync)
