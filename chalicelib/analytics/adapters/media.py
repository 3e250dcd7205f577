"""Which project owns a media id, read from the shared table: the beacon endpoint has no
credentials, so the project comes from the media, never from the beacon; the session views check
with it that a media id is the caller's.

Videos: the VOD context's index entry (GSI1PK `VIDEO#<id>` → GSI1SK = project; the layout
chalicelib/playback/adapters/videos.py reads too, docs/data-model.md). Live streams: the live
context's (GSI1PK `LIVE#<id>`, as chalicelib/playback/adapters/live_streams.py reads it)."""

from __future__ import annotations

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import Table

VIDEO_INDEX_PREFIX = "VIDEO#"
LIVE_STREAM_INDEX_PREFIX = "LIVE#"
_INDEX_PREFIXES = {"vi": VIDEO_INDEX_PREFIX, "li": LIVE_STREAM_INDEX_PREFIX}


class DynamoMediaDirectory:
    def __init__(self, table: Table) -> None:
        self.table = table

    def project_of(self, media_id: str) -> str | None:
        prefix = _INDEX_PREFIXES.get(media_id[:2])
        if prefix is None:
            return None
        for item in self.table.query(prefix + media_id, index=resources.GSI1):
            return str(item[resources.GSI1_SORT_KEY])
        return None
