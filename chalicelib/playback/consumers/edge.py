"""The edge's private video ids and geo restrictions: video events, removed video items and
`playback-geo.updated` → the edge check's store.

The project bus sends `video.created` and `video.updated`, and the removal of video items, to the
playback-videos queue (resources.BUS_ROUTES). A message that can change the video's privacy (a
creation, an update whose `changed` names `public`, the removal of a private video) makes the
store agree with the table for its video (services.edge); the others write nothing, so the store's
API calls (billed per thousand) follow privacy changes, not every edit. On the devstack no store
is configured (its media server reads the table) and messages are only acknowledged.

A `playback-geo.updated` event (its own bus rule, the same queue) writes the project's policy as
the table holds it now, and the projects of its videos (services.edge); a created video is mapped
to its project when that project restricts playback, a removed one unmapped.

Live streams the same way (their files in the media bucket, the uploaded thumbnail, follow the
videos' rule at the edge): `live-stream.created`, `live-stream.updated` naming `public`, and the
removal of a private stream's item.

A failed write names its message in `batchItemFailures`: it comes back until the queue's
maxReceiveCount parks it in the DLQ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.observability import logger
from chalicelib.core.permissions import PLAYBACK_EDGE_WRITE, PLAYBACK_VIDEOS_CONSUME, TABLE_READ, declare
from chalicelib.playback import wiring

if TYPE_CHECKING:
    from chalicelib.playback.services.edge import EdgeService

bp = Blueprint(__name__)
declare("sync_edge_privacy", (TABLE_READ, PLAYBACK_EDGE_WRITE, PLAYBACK_VIDEOS_CONSUME))


@dataclass(frozen=True)
class Change:
    project_id: str
    video_id: str
    removed: bool = False
    # A new video has no entry yet: a public one needs no write at all.
    created: bool = False
    private: bool = False
    geo: bool = False
    # `video_id` names a live stream.
    live: bool = False


def change_of(message_body: str) -> Change | None:
    """What a message asks of the store; None when neither the video's privacy nor its geo entry can
    have changed (an update of other fields, the removal of a video's other items)."""
    event = json.loads(message_body)
    detail = event.get("detail") or {}
    kind = event.get("detail-type")
    if kind == resources.ITEM_REMOVED:
        from chalicelib.core.consumers.removals import removed_item

        item = removed_item(message_body)
        private = not item.get("public", True)
        if item.get("entity") == "liveStream":
            return Change(
                str(item["project_id"]), str(item["live_stream_id"]), removed=True, private=private, live=True
            )
        # The video's own item (`<videoId>#media` is its media state).
        if item.get("entity") != "video" or "#" in str(item.get("SK", "#")):
            return None
        return Change(str(item["project_id"]), str(item["video_id"]), removed=True, private=private)
    if kind == resources.PLAYBACK_GEO_EVENT:
        return Change(str(detail["projectId"]), "", geo=True)
    if kind == "video.created":
        return Change(str(detail["projectId"]), str(detail["videoId"]), created=True)
    if kind == "video.updated" and "public" in detail.get("changed", []):
        return Change(str(detail["projectId"]), str(detail["videoId"]))
    if kind == "live-stream.created":
        return Change(str(detail["projectId"]), str(detail["liveStreamId"]), created=True, live=True)
    if kind == "live-stream.updated" and "public" in detail.get("changed", []):
        return Change(str(detail["projectId"]), str(detail["liveStreamId"]), live=True)
    return None


def sync(message_body: str) -> None:
    change = change_of(message_body)
    service = wiring.edge_service()
    if change is None or service is None:
        return
    extra = {"projectId": change.project_id, "videoId": change.video_id}
    if change.live:
        sync_live(service, change)
        return
    try:
        if change.geo:
            logger.info("edge geo synced", extra={**extra, "policy": service.sync_geo(change.project_id)})
            return
        if change.removed:
            if change.private:
                service.forget(change.video_id)
            service.unmap_video(change.project_id, change.video_id)
            private = False
        else:
            private = service.sync(change.project_id, change.video_id, listed=not change.created)
            if change.created:
                service.map_video(change.project_id, change.video_id)
    except Exception:
        logger.exception("edge sync failed", extra=extra)
        raise
    logger.info("edge privacy synced", extra={**extra, "private": private})


def sync_live(service: EdgeService, change: Change) -> None:
    """A live stream's entry (no geo entries: the edge's geo check reads videos' projects only)."""
    extra = {"projectId": change.project_id, "liveStreamId": change.video_id}
    try:
        if change.removed:
            if change.private:
                service.forget(change.video_id)
            private = False
        else:
            private = service.sync_live(change.project_id, change.video_id, listed=not change.created)
    except Exception:
        logger.exception("edge sync failed", extra=extra)
        raise
    logger.info("edge privacy synced", extra={**extra, "private": private})


@bp.on_sqs_message(queue=resources.PLAYBACK_VIDEOS_QUEUE.name, batch_size=10)
def sync_edge_privacy(event: SQSEvent) -> dict[str, Any]:
    return batch_item_failures(event, sync)
