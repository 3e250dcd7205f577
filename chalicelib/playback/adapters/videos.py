"""The VOD context's videos, read for the public embed page straight from the shared table.

Why a read of the table rather than a projection fed by events: the page needs the video, its
media state, its captions and chapters and its thumbnail as they are *now* (a caption uploaded a
second ago must show), and the VOD events carry ids, not those attributes; a projection would
repeat the VOD context's writes for every sub-resource and still lag them. So this adapter
depends on the VOD item layouts (docs/data-model.md: video, video media, caption, chapter), reads
only the attributes listed there, and maps them into this context's own `PublicVideo`; the VOD
code is never imported. tests/integration/test_embed_api.py holds the two sides together.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import SK, Table, from_attributes, project_partition
from chalicelib.playback.domain.embed import PublicVideo, TextTrack

# VOD's index entry on every video item (chalicelib/vod/adapters/records.py): GSI1PK -> GSI1SK = project.
VIDEO_INDEX_PREFIX = "VIDEO#"
MEDIA_SUFFIX = "#media"


class DynamoPublicVideos:
    def __init__(self, table: Table) -> None:
        self.table = table

    def find(self, video_id: str) -> PublicVideo | None:
        project_id = self._project_of(video_id)
        if project_id is None:
            return None
        items = {
            item["SK"]: item
            for item in self.table.query(
                project_partition(project_id, "VIDEO"), sk_between=(video_id, video_id + MEDIA_SUFFIX), consistent=True
            )
        }
        video = items.get(video_id)
        if video is None:
            return None
        media = items.get(video_id + MEDIA_SUFFIX, {})
        return PublicVideo(
            project_id=project_id,
            video_id=video_id,
            title=str(video.get("title", "")),
            public=bool(video.get("public", True)),
            discarded=video.get("discarded_at") is not None,
            playable=bool(media.get("playable", False)),
            player_id=video.get("player_id"),
            thumbnail_file=media.get("thumbnail_file"),
            captions=self._tracks(project_id, "CAPTION", video_id),
            chapters=self._tracks(project_id, "CHAPTER", video_id),
        )

    def is_private(self, video_id: str) -> bool:
        """Whether the video exists and is private: what the media server asks of a path without
        a playback session (two reads, no tracks)."""
        project_id = self._project_of(video_id)
        if project_id is None:
            return False
        video = self.table.get(project_partition(project_id, "VIDEO"), video_id)
        return video is not None and not bool(video.get("public", True))

    def privacy(self, project_id: str, video_id: str) -> bool | None:
        """Whether the video is private, read consistently in its project (the events name it);
        None when the video has no item."""
        video = self.table.get(project_partition(project_id, "VIDEO"), video_id)
        return None if video is None else not bool(video.get("public", True))

    def video_ids(self, project_id: str) -> Iterator[str]:
        """Every video of the project, read consistently (a restriction set a moment ago must reach
        the videos created just before it)."""
        for item in self.table.query(project_partition(project_id, "VIDEO"), consistent=True):
            if MEDIA_SUFFIX[0] not in str(item[SK]):  # the video's own item, not its media state
                yield str(item[SK])

    def private_video_ids(self) -> Iterator[tuple[str, str]]:
        """(project id, video id) of every private video: a Scan of the table, for a one-off backfill
        of the edge's list (a new store on a stack that already has private videos)."""
        pages = self.table.client.get_paginator("scan").paginate(
            TableName=self.table.name,
            FilterExpression="#entity = :video AND #public = :private",
            ExpressionAttributeNames={"#entity": "entity", "#public": "public", "#sk": SK},
            ExpressionAttributeValues={":video": {"S": "video"}, ":private": {"BOOL": False}},
            ProjectionExpression="project_id, video_id, #sk",
        )
        for page in pages:
            for item in page.get("Items", []):
                video = from_attributes(item)
                if "#" not in str(video.get(SK, "#")):  # the video's own item, not its media state
                    yield str(video["project_id"]), str(video["video_id"])

    def project_of(self, video_id: str) -> str | None:
        """The video's project (GSI1), None for an unknown video."""
        return self._project_of(video_id)

    def _project_of(self, video_id: str) -> str | None:
        for item in self.table.query(VIDEO_INDEX_PREFIX + video_id, index=resources.GSI1):
            return str(item[resources.GSI1_SORT_KEY])
        return None

    def _tracks(self, project_id: str, kind: str, video_id: str) -> tuple[TextTrack, ...]:
        items: list[dict[str, Any]] = list(self.table.query(project_partition(project_id, f"{kind}#{video_id}")))
        return tuple(TextTrack(language=str(i["language"]), default=bool(i.get("default", False))) for i in items)
