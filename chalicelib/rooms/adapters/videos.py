"""What a room recording's video plays, for EnableX's archive routes. Videos belong to the VOD context;
the rooms context reads only the video item's presence and visibility and its media item's two
readiness flags, by their documented layout (docs/data-model.md: `video` and `video media`, both in
`P#<projectId>#VIDEO`), never through VOD's code, as chalicelib/live/adapters/players.py does for
players. The URLs are the ones VOD's API answers as a public video's assets (docs/uploads.md).
tests/integration/test_room_archive_api.py holds the layouts together."""

from __future__ import annotations

from chalicelib.core.adapters.dynamodb import SK, Table, project_partition
from chalicelib.rooms.domain.recordings import VideoAssets

VIDEO_COLLECTION = "VIDEO"
MEDIA_SUFFIX = "#media"


class DynamoRecordedVideos:
    def __init__(self, table: Table, media_base_url: str) -> None:
        self.table = table
        self.media_base_url = media_base_url.rstrip("/")

    def assets(self, project_id: str, video_id: str) -> VideoAssets | None:
        # The video and its media item, side by side in the partition: one Query.
        items = {
            item[SK]: item
            for item in self.table.query(
                project_partition(project_id, VIDEO_COLLECTION), sk_between=(video_id, video_id + "#~"), consistent=True
            )
        }
        video, media = items.get(video_id), items.get(video_id + MEDIA_SUFFIX) or {}
        if video is None or video.get("discarded_at"):
            return None
        if not video.get("public", True):
            return VideoAssets(video_id, None, None)
        base = f"{self.media_base_url}/vod/{video_id}"
        hls = f"{base}/hls/manifest.m3u8" if media.get("playable") else None
        mp4 = f"{base}/mp4/source.mp4" if video.get("mp4_support", True) and media.get("mp4") else None
        return VideoAssets(video_id, hls, mp4)
