"""Item layouts of videos and their sub-resources (docs/data-model.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, project_partition
from chalicelib.core.adapters.records import TTL, item_body
from chalicelib.core.clock import epoch_seconds
from chalicelib.vod.domain.encoding_profiles import EncodingProfile
from chalicelib.vod.domain.media import MediaState
from chalicelib.vod.domain.thumbnails import Thumbnail
from chalicelib.vod.domain.tracks import TextTrack, TrackKind
from chalicelib.vod.domain.videos import Metadata, Video, VideoListing
from chalicelib.vod.domain.watermarks import Watermark


def video_key(project_id: str, video_id: str) -> tuple[str, str]:
    return project_partition(project_id, "VIDEO"), video_id


# The embed page's URL names only the video: this index entry finds its project (playback context).
PUBLIC_VIDEO_INDEX_PREFIX = "VIDEO#"


def video_item(video: Video) -> dict[str, Any]:
    pk, sk = video_key(video.project_id, video.video_id)
    body = video.model_dump(mode="json")
    # A discarded video is purged by DynamoDB TTL when `deletesAt` passes.
    ttl = epoch_seconds(video.deletes_at) if video.deletes_at else None
    index = {
        resources.GSI1_PARTITION_KEY: PUBLIC_VIDEO_INDEX_PREFIX + video.video_id,
        resources.GSI1_SORT_KEY: video.project_id,
        **video_listing_key(video.project_id, video.video_id, video.created_at, video.discarded),
    }
    return {PK: pk, SK: sk, "entity": "video", TTL: ttl, **index, **body}


def video_listing_partition(project_id: str, discarded: bool) -> str:
    return project_partition(project_id, "DISCARDED_VIDEOS" if discarded else "VIDEOS")


def video_listing_key(project_id: str, video_id: str, created_at: datetime, discarded: bool) -> dict[str, str]:
    """The video's entry in the listing index (GSI2), kept videos apart from discarded ones, in
    creation order: a fixed-width UTC time sorts as the time does."""
    created = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        resources.GSI2_PARTITION_KEY: video_listing_partition(project_id, discarded),
        resources.GSI2_SORT_KEY: f"{created}#{video_id}",
    }


def listing_from_item(item: dict[str, Any]) -> VideoListing:
    """A listing index row, holding the attributes its query asked for."""
    listed: dict[str, Any] = {"video_id": item["video_id"], "created_at": datetime.fromisoformat(item["created_at"])}
    for name in ("title", "description", "live_stream_id"):
        if name in item:
            listed[name] = item[name]
    for name in ("updated_at", "published_at"):
        if name in item:
            listed[name] = datetime.fromisoformat(item[name])
    if "tags" in item:
        listed["tags"] = tuple(item["tags"])
    if "metadata" in item:
        listed["metadata"] = tuple(Metadata.model_validate(pair) for pair in item["metadata"])
    return VideoListing(**listed)


def video_from_item(item: dict[str, Any]) -> Video:
    return Video.model_validate(item_body(item))


def media_from_item(item: dict[str, Any]) -> MediaState:
    """The media state item (chalicelib.vod.adapters.uploads writes it) beside its video."""
    return MediaState.model_validate({k: v for k, v in item_body(item).items() if k not in ("pipeline", "jobs")})


def track_key(project_id: str, kind: TrackKind, video_id: str, language: str) -> tuple[str, str]:
    """One partition per video and kind, so that listing a video's captions is one query."""
    return project_partition(project_id, f"{kind.value.upper()}#{video_id}"), language


def track_item(track: TextTrack) -> dict[str, Any]:
    pk, sk = track_key(track.project_id, track.kind, track.video_id, track.language)
    return {PK: pk, SK: sk, "entity": track.kind.value, **track.model_dump(mode="json")}


def track_from_item(item: dict[str, Any]) -> TextTrack:
    return TextTrack.model_validate(item_body(item))


def thumbnail_key(project_id: str, video_id: str) -> tuple[str, str]:
    return project_partition(project_id, "THUMBNAIL"), video_id


def thumbnail_item(thumbnail: Thumbnail) -> dict[str, Any]:
    pk, sk = thumbnail_key(thumbnail.project_id, thumbnail.video_id)
    return {PK: pk, SK: sk, "entity": "thumbnail", **thumbnail.model_dump(mode="json")}


def thumbnail_from_item(item: dict[str, Any]) -> Thumbnail:
    return Thumbnail.model_validate(item_body(item))


def watermark_key(project_id: str, watermark_id: str) -> tuple[str, str]:
    return project_partition(project_id, "WATERMARK"), watermark_id


def watermark_item(watermark: Watermark) -> dict[str, Any]:
    pk, sk = watermark_key(watermark.project_id, watermark.watermark_id)
    return {PK: pk, SK: sk, "entity": "watermark", **watermark.model_dump(mode="json")}


def watermark_from_item(item: dict[str, Any]) -> Watermark:
    return Watermark.model_validate(item_body(item))


def profile_key(project_id: str, profile_id: str) -> tuple[str, str]:
    return project_partition(project_id, "ENCODING_PROFILE"), profile_id


def profile_item(profile: EncodingProfile) -> dict[str, Any]:
    pk, sk = profile_key(profile.project_id, profile.profile_id)
    return {PK: pk, SK: sk, "entity": "encodingProfile", **profile.model_dump(mode="json")}


def profile_from_item(item: dict[str, Any]) -> EncodingProfile:
    return EncodingProfile.model_validate(item_body(item))
