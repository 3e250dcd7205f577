"""DynamoDB repository of videos (with their media state)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, Put, Table, Update, from_attributes
from chalicelib.core.adapters.records import audit_put, outbox_put
from chalicelib.core.adapters.versioned import CREATE_ONLY, versioned_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.events import DomainEvent
from chalicelib.vod.adapters.media import MEDIA_SUFFIX, media_source_update
from chalicelib.vod.adapters.records import (
    listing_from_item,
    media_from_item,
    video_from_item,
    video_item,
    video_key,
    video_listing_key,
    video_listing_partition,
)
from chalicelib.vod.domain.media import IngestMethod, IngestStatus, MediaState
from chalicelib.vod.domain.videos import Video, VideoListing


class DynamoVideoRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, video_id: str) -> Video | None:
        item = self.table.get(*video_key(project_id, video_id))
        return None if item is None else video_from_item(item)

    def listing(self, project_id: str, discarded: bool, fields: Collection[str]) -> list[VideoListing]:
        """The project's kept (or discarded) videos from the listing index, with only the
        attributes `fields` names besides their id and creation time."""
        wanted = ["video_id", "created_at", *sorted(set(fields) - {"video_id", "created_at"})]
        items = self.table.query(
            video_listing_partition(project_id, discarded), index=resources.GSI2, attributes=wanted
        )
        return [listing_from_item(item) for item in items]

    def details(self, project_id: str, video_ids: Sequence[str]) -> list[tuple[Video, MediaState | None]]:
        """These videos with their media state, in this order (one BatchGetItem for up to 50):
        an id whose video no longer exists is left out."""
        keys = [video_key(project_id, video_id) for video_id in video_ids]
        found = self.table.batch_get([key for pk, sk in keys for key in ((pk, sk), (pk, sk + MEDIA_SUFFIX))])
        return _pair(
            item for key in keys for item in (found.get(key), found.get((key[0], key[1] + MEDIA_SUFFIX))) if item
        )

    def get_with_media(self, project_id: str, video_id: str) -> tuple[Video, MediaState | None] | None:
        pk, sk = video_key(project_id, video_id)
        pairs = _pair(self.table.query(pk, sk_between=(sk, sk + "#~"), consistent=True))
        return pairs[0] if pairs else None

    def create(self, video: Video, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        """The video, its audit entry and its events are written together or not at all."""
        self.table.write(
            [
                Put(item=video_item(video), **CREATE_ONLY),  # type: ignore[arg-type]
                audit_put(audit),
                *(outbox_put(event) for event in events),
            ]
        )

    def create_ingesting(
        self,
        video: Video,
        audit: AuditEvent,
        events: Sequence[DomainEvent],
        method: IngestMethod,
        source_key: str,
        now: datetime,
    ) -> None:
        """A video whose source the ingest consumer will fetch or copy: the video, its media state
        (`ingesting`) and its audit entry and events are one transaction, so no reader ever sees the
        video without its ingest status."""
        self.table.write(
            [
                Put(item=video_item(video), **CREATE_ONLY),  # type: ignore[arg-type]
                media_source_update(
                    video.project_id, video.video_id, IngestStatus.INGESTING, method, None, source_key, now
                ),
                audit_put(audit),
                *(outbox_put(event) for event in events),
            ]
        )

    def save(self, video: Video, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        self.table.write(
            [
                versioned_put(video_item(video), expected_version),
                audit_put(audit),
                *(outbox_put(event) for event in events),
            ]
        )


def backfill_listing(table: Table) -> int:
    """Gives every video item written before the listing index (GSI2) existed its index keys: a
    Scan of the table, for a one-off run after the index is added (`python -m infra.backfill`,
    and the devstack on a restored state). Idempotent; an item written meanwhile is left alone
    (it has its keys already). The number of items it changed."""
    pages = table.client.get_paginator("scan").paginate(
        TableName=table.name,
        FilterExpression="#entity = :video AND attribute_not_exists(#listing)",
        ExpressionAttributeNames={"#entity": "entity", "#listing": resources.GSI2_PARTITION_KEY},
        ExpressionAttributeValues={":video": {"S": "video"}},
    )
    changed = 0
    for page in pages:
        for attributes in page.get("Items", []):
            video = video_from_item(from_attributes(attributes))
            keys = video_listing_key(video.project_id, video.video_id, video.created_at, video.discarded)
            update = Update(
                key=dict(zip((PK, SK), video_key(video.project_id, video.video_id), strict=True)),
                expression="SET #lpk = :lpk, #lsk = :lsk",
                condition="attribute_exists(#pk) AND attribute_not_exists(#lpk)",
                names={"#pk": PK, "#lpk": resources.GSI2_PARTITION_KEY, "#lsk": resources.GSI2_SORT_KEY},
                values={":lpk": keys[resources.GSI2_PARTITION_KEY], ":lsk": keys[resources.GSI2_SORT_KEY]},
            )
            changed += table.write_if([update])
    return changed


def _pair(items: Iterable[dict[str, Any]]) -> list[tuple[Video, MediaState | None]]:
    videos: dict[str, Video] = {}
    media: dict[str, MediaState] = {}
    for item in items:
        if item.get("entity") == "video":
            video = video_from_item(item)
            videos[video.video_id] = video
        elif item.get("entity") == "videoMedia":
            state = media_from_item(item)
            media[state.video_id] = state
    return [(video, media.get(video_id)) for video_id, video in videos.items()]
