"""A video's uploaded source, which a premiere plays. Videos belong to the VOD context; the live
context reads only the presence of their item (layout: chalicelib/vod/adapters/records.py,
docs/data-model.md) and of their source object (`sources/{projectId}/{videoId}` in the uploads
bucket, resources.SOURCES_PREFIX), as adapters/players.py does for players."""

from __future__ import annotations

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import Table, project_partition
from chalicelib.core.ports import Bucket

VIDEO_COLLECTION = "VIDEO"


class DynamoVideoSources:
    def __init__(self, table: Table, uploads: Bucket) -> None:
        self.table = table
        self.uploads = uploads

    def _key(self, project_id: str, video_id: str) -> str:
        return f"{resources.SOURCES_PREFIX}{project_id}/{video_id}"

    def exists(self, project_id: str, video_id: str) -> bool:
        item = self.table.get(project_partition(project_id, VIDEO_COLLECTION), video_id)
        if item is None or item.get("discarded_at"):
            return False
        return self.uploads.head(self._key(project_id, video_id)) is not None

    def source_url(self, project_id: str, video_id: str) -> str | None:
        if not self.exists(project_id, video_id):
            return None
        return f"s3ssl://{self.uploads.bucket}/{self._key(project_id, video_id)}"
