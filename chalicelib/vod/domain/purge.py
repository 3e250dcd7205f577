"""What a video leaves in the buckets, and so what its purge deletes (docs/data-model.md)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core import resources
from chalicelib.vod.domain.uploads import source_key


@dataclass(frozen=True)
class VideoFiles:
    """Prefixes of a video's objects: a prefix ending in `/` is a folder, any other names one
    object (and a folder of the same name, if one ever exists)."""

    uploads: tuple[str, ...]
    media: tuple[str, ...]


def media_folder(video_id: str) -> str:
    """Renditions, HLS playlists, the MP4, captions, chapters and thumbnails."""
    return f"vod/{video_id}/"


def video_files(project_id: str, video_id: str) -> VideoFiles:
    return VideoFiles(
        # The assembled source, and the request bodies of its upload (kept 7 days by the bucket).
        uploads=(source_key(project_id, video_id), f"{resources.INCOMING_PREFIX}{project_id}/{video_id}/"),
        media=(media_folder(video_id),),
    )


def belongs(key: str, prefix: str) -> bool:
    """Whether a listed key is the video's: `sources/p/vi1` never takes `sources/p/vi10`."""
    if prefix.endswith("/"):
        return key.startswith(prefix)
    return key == prefix or key.startswith(f"{prefix}/")


@dataclass(frozen=True)
class Purged:
    """What one purge removed (zero everywhere when a redelivered record finds nothing left)."""

    project_id: str
    video_id: str
    upload_objects: int
    media_objects: int
    items: int
