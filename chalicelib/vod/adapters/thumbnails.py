"""DynamoDB repository of video thumbnails."""

from __future__ import annotations

from chalicelib.core.adapters.dynamodb import Put, Table
from chalicelib.core.adapters.records import audit_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.vod.adapters.records import thumbnail_from_item, thumbnail_item, thumbnail_key
from chalicelib.vod.domain.thumbnails import Thumbnail


class DynamoThumbnailRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get_thumbnail(self, project_id: str, video_id: str) -> Thumbnail | None:
        item = self.table.get(*thumbnail_key(project_id, video_id))
        return None if item is None else thumbnail_from_item(item)

    def save_thumbnail(self, thumbnail: Thumbnail, audit: AuditEvent) -> None:
        # The last upload wins: a thumbnail has no version to race on.
        self.table.write([Put(item=thumbnail_item(thumbnail)), audit_put(audit)])
