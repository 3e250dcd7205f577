"""The live context's streams, read for the public embed page straight from the shared table, as
adapters/videos.py reads videos (the same reasons: the page needs the stream as it is now).
Depends on the live stream item layout (docs/data-model.md: `LIVE#<id>` index entry, `public`,
`name`, `player_id`, `broadcasting`, `channel`, `thumbnail`, `state`); the live code is never
imported. tests/integration/test_live_embed.py holds the two sides together."""

from __future__ import annotations

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import Table, project_partition
from chalicelib.playback.domain.embed import PublicLiveStream

LIVE_STREAM_INDEX_PREFIX = "LIVE#"
LIVE_STREAM_COLLECTION = "LIVE_STREAM"


class DynamoPublicLiveStreams:
    def __init__(self, table: Table) -> None:
        self.table = table

    def find(self, live_stream_id: str) -> PublicLiveStream | None:
        project_id = self._project_of(live_stream_id)
        if project_id is None:
            return None
        item = self.table.get(project_partition(project_id, LIVE_STREAM_COLLECTION), live_stream_id)
        channel = (item or {}).get("channel") or {}
        if item is None or item.get("state") != "ready" or not channel.get("playback_url"):
            return None
        thumbnail = item.get("thumbnail") or {}
        return PublicLiveStream(
            project_id=project_id,
            live_stream_id=live_stream_id,
            name=str(item.get("name", "")),
            public=bool(item.get("public", True)),
            broadcasting=bool(item.get("broadcasting", False)),
            hls=str(channel["playback_url"]),
            channel_arn=str(channel.get("arn", "")),
            player_id=item.get("player_id"),
            thumbnail_key=thumbnail.get("key"),
        )

    def _project_of(self, live_stream_id: str) -> str | None:
        for item in self.table.query(LIVE_STREAM_INDEX_PREFIX + live_stream_id, index=resources.GSI1):
            return str(item[resources.GSI1_SORT_KEY])
        return None
