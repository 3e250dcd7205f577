"""DynamoDB repository of videos (with their media state)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from chalicelib.core.adapters.dynamodb import Put, Table
from chalicelib.core.adapters.records import audit_put, outbox_put
from chalicelib.core.adapters.versioned import CREATE_ONLY, versioned_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.events import DomainEvent
from chalicelib.vod.adapters.media import media_source_update
from chalicelib.vod.adapters.records import media_from_item, video_from_item, video_item, video_key
from chalicelib.vod.domain.media import IngestMethod, IngestStatus, MediaState
from chalicelib.vod.domain.videos import Video


class DynamoVideoRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, video_id: str) -> Video | None:
        item = self.table.get(*video_key(project_id, video_id))
        return None if item is None else video_from_item(item)

    def list_all(self, project_id: str) -> list[Video]:
        return [video for video, _ in self.list_with_media(project_id)]

    def list_with_media(self, project_id: str) -> list[tuple[Video, MediaState | None]]:
        """Each video with its media state; both live in the same partition."""
        pk, _ = video_key(project_id, "")
        return _pair(self.table.query(pk))

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
