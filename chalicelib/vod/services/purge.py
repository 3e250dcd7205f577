"""The purge of a video that is gone from the table (the 90-day bin's TTL, or any permanent
delete): its files leave both buckets, then the items that shared its keys leave the table.

Everything is found again from the ids alone, so a purge that failed half-way, or a redelivered
stream record, just runs again and finishes (or finds nothing and succeeds)."""

from __future__ import annotations

from chalicelib.vod.domain.purge import Purged, belongs, video_files
from chalicelib.vod.ports import ObjectSweeper, VideoLeftovers


class PurgeService:
    def __init__(self, uploads: ObjectSweeper, media: ObjectSweeper, leftovers: VideoLeftovers) -> None:
        self.uploads = uploads
        self.media = media
        self.leftovers = leftovers

    def purge(self, project_id: str, video_id: str) -> Purged:
        files = video_files(project_id, video_id)
        upload_objects = sum(sweep(self.uploads, prefix) for prefix in files.uploads)
        media_objects = sum(sweep(self.media, prefix) for prefix in files.media)
        # Last: while a file may be left, the retry needs nothing from these items, but keeping
        # them until the files are gone costs nothing either.
        items = self.leftovers.remove(project_id, video_id)
        return Purged(project_id, video_id, upload_objects, media_objects, items)


def sweep(bucket: ObjectSweeper, prefix: str) -> int:
    """Deletes the video's objects under `prefix`, a listed page at a time; how many there were."""
    removed = 0
    for page in bucket.list_keys(prefix):
        keys = [key for key in page if belongs(key, prefix)]
        if keys:
            bucket.delete_keys(keys)
            removed += len(keys)
    return removed
