"""Which project owns a media id, read from the shared table: the beacon endpoint has no
credentials, so the project comes from the media, never from the beacon.

Videos: the VOD context's index entry (GSI1PK `VIDEO#<id>` → GSI1SK = project; the layout
chalicelib/playback/adapters/videos.py reads too, docs/data-model.md). Live streams have no such
entry yet, so their beacons are refused as unknown media (docs/analytics.md)."""

from __future__ import annotations

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import Table

VIDEO_INDEX_PREFIX = "VIDEO#"


class DynamoMediaDirectory:
    def __init__(self, table: Table) -> None:
        self.table = table

    def project_of(self, media_id: str) -> str | None:
        if not media_id.startswith("vi"):
            return None
        for item in self.table.query(VIDEO_INDEX_PREFIX + media_id, index=resources.GSI1):
            return str(item[resources.GSI1_SORT_KEY])
        return None
