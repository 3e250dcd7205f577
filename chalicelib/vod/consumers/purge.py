"""Purge: the table's stream → a removed video's files and leftover items.

A discarded video carries `ttl` = its `deletesAt`; DynamoDB removes it some time after, and the
stream hands over a REMOVE record with the old image. Any other permanent removal of a video item
comes the same way. Only REMOVEs of `video` items count: the purge deletes items of other types
(media state, tracks, ...), whose own REMOVE records are skipped, so it never feeds itself.

A failed purge names its record in `batchItemFailures`: the stream resumes from there and the
purge runs again (it is idempotent), until the mapping's retries end in its DLQ.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import DynamoDBEvent

from chalicelib.core import resources
from chalicelib.core.observability import logger
from chalicelib.core.permissions import MEDIA_PURGE, TABLE_READ, TABLE_WRITE, UPLOADS_PURGE, declare
from chalicelib.vod import wiring

bp = Blueprint(__name__)
declare("purge_videos", (TABLE_READ, TABLE_WRITE, UPLOADS_PURGE, MEDIA_PURGE))


def removed_videos(event: DynamoDBEvent) -> list[tuple[str, str, str]]:
    """(sequence number, project id, video id) of each video item removed, in stream order."""
    # Imported here: it pulls in boto3, which the API functions importing app.py need not load.
    from chalicelib.core.adapters.dynamodb import SK, from_attributes

    found = []
    for record in event:
        if record.event_name != "REMOVE" or not record.old_image:
            continue
        item = from_attributes(record.old_image)
        # The video's own item: its sort key is the bare id (`<videoId>#media` is its media state).
        if item.get("entity") != "video" or "#" in str(item.get(SK, "#")):
            continue
        found.append((record.sequence_number, str(item["project_id"]), str(item["video_id"])))
    return found


@bp.on_dynamodb_record(
    stream_arn=resources.TABLE_STREAM_PLACEHOLDER_ARN, batch_size=25, starting_position="TRIM_HORIZON"
)
def purge_videos(event: DynamoDBEvent) -> dict[str, Any]:
    for sequence, project_id, video_id in removed_videos(event):
        try:
            purged = wiring.purge_service().purge(project_id, video_id)
        except Exception:  # noqa: BLE001 - whatever failed, the record must come again
            # Streams resume from the lowest failed sequence number: the ones after it come again.
            logger.exception("purge failed", extra={"projectId": project_id, "videoId": video_id})
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
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
    return {"batchItemFailures": []}
