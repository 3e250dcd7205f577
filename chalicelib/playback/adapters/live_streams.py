"""The live context's streams, read for the public embed page straight from the shared table, as
adapters/videos.py reads videos (the same reasons: the page needs the stream as it is now).
Depends on the live stream item layout (docs/data-model.md: `LIVE#<id>` index entry, `public`,
`name`, `player_id`, `broadcasting`, `channel`, `thumbnail`, `state`, `entity`); the live code is
never imported. tests/integration/test_live_embed.py holds the two sides together."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import Table, from_attributes, project_partition
from chalicelib.playback.domain.embed import PublicLiveStream

LIVE_STREAM_INDEX_PREFIX = "LIVE#"
LIVE_STREAM_COLLECTION = "LIVE_STREAM"
LIVE_STREAM_ENTITY = "liveStream"


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

    def is_private(self, live_stream_id: str) -> bool:
        """Whether the stream exists and is private: what the devstack's media server asks of a
        path of the stream's files without a playback session (two reads)."""
        project_id = self._project_of(live_stream_id)
        if project_id is None:
            return False
        return bool(self.privacy(project_id, live_stream_id))

    def privacy(self, project_id: str, live_stream_id: str) -> bool | None:
        """Whether the stream is private, read consistently in its project (the events name it);
        None when the stream has no item."""
        item = self.table.get(project_partition(project_id, LIVE_STREAM_COLLECTION), live_stream_id)
        return None if item is None else not bool(item.get("public", True))

    def private_live_stream_ids(self) -> Iterator[tuple[str, str]]:
        """(project id, live stream id) of every private stream: a Scan of the table, for a one-off
        backfill of the edge's list (`python -m infra.keys edge`)."""
        pages = self.table.client.get_paginator("scan").paginate(
            TableName=self.table.name,
            FilterExpression="#entity = :stream AND #public = :private",
            ExpressionAttributeNames={"#entity": "entity", "#public": "public"},
            ExpressionAttributeValues={":stream": {"S": LIVE_STREAM_ENTITY}, ":private": {"BOOL": False}},
            ProjectionExpression="project_id, live_stream_id",
        )
        for page in pages:
            for item in page.get("Items", []):
                stream = from_attributes(item)
                yield str(stream["project_id"]), str(stream["live_stream_id"])

    def _project_of(self, live_stream_id: str) -> str | None:
        for item in self.table.query(LIVE_STREAM_INDEX_PREFIX + live_stream_id, index=resources.GSI1):
            return str(item[resources.GSI1_SORT_KEY])
        return None
