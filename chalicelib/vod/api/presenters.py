"""Entity -> wire shapes, field for field as the api.video SDK 1.4.7 models expect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.core.clock import to_atom
from chalicelib.core.config import get_settings
from chalicelib.vod.domain.media import MediaState, quality_rows
from chalicelib.vod.domain.uploads import RangeForm, ReceivedPart, UploadSession, UploadToken
from chalicelib.vod.domain.videos import Video


def video(v: Video, media: MediaState | None = None, private_token: str | None = None) -> dict[str, Any]:
    """`private_token`: a private video's single-use token, which its assets carry (api.video's
    private videos); the playback context exchanges it for a playback session."""
    body: dict[str, Any] = {
        "videoId": v.video_id,
        "createdAt": to_atom(v.created_at),
        "title": v.title,
        "description": v.description,
        "publishedAt": to_atom(v.published_at),
        "updatedAt": to_atom(v.updated_at),
        "discardedAt": to_atom(v.discarded_at) if v.discarded_at else None,
        "deletesAt": to_atom(v.deletes_at) if v.deletes_at else None,
        "discarded": v.discarded,
        "languageOrigin": v.language_origin.value if v.language_origin else None,
        "tags": list(v.tags),
        "metadata": [{"key": m.key, "value": m.value} for m in v.metadata],
        "source": {"uri": f"/videos/{v.video_id}/source"},
        "public": v.public,
        "panoramic": v.panoramic,
        "mp4Support": v.mp4_support,
    }
    if not v.discarded:
        # From creation, as on api.video: `hls` (and `mp4`) start working once encoded.
        body["assets"] = assets(v, media) if private_token is None else private_assets(v, private_token, media)
    # Omitted rather than null: these are plain strings in the SDK models.
    if v.language is not None:
        body["language"] = v.language
    if v.player_id is not None:
        body["playerId"] = v.player_id
    if v.encoding_profile_id is not None:
        body["encodingProfileId"] = v.encoding_profile_id
    return body


def assets(v: Video, media: MediaState | None) -> dict[str, str]:
    settings = get_settings()
    base = f"{settings.media_base_url.rstrip('/')}/vod/{v.video_id}"
    player = f"{settings.player_base_url.rstrip('/')}/vod/{v.video_id}"
    body = {
        "hls": f"{base}/hls/manifest.m3u8",
        "iframe": (
            f'<iframe src="{player}" width="100%" height="100%" frameborder="0" scrolling="no" allowfullscreen="">'
            "</iframe>"
        ),
        "player": player,
    }
    # Each frame gets a new object name (CDN caches never go stale), so there is no URL to give
    # before the first one exists.
    if media is not None and media.thumbnail_file:
        body["thumbnail"] = f"{base}/{media.thumbnail_file}"
    if v.mp4_support:
        body["mp4"] = f"{base}/mp4/source.mp4"
    return body


def private_assets(v: Video, token: str, media: MediaState | None = None) -> dict[str, str]:
    """A private video's assets, all through the player's token routes (docs/playback.md): the
    page, and redirects from the HLS manifest, the thumbnail and the MP4 into a playback session
    on the media domain (api.video's `…/token/<token>/thumbnail.jpg` and `…/mp4/source.mp4`)."""
    base = f"{get_settings().player_base_url.rstrip('/')}/vod/{v.video_id}"
    player = f"{base}?token={token}"
    body = {
        "hls": f"{base}/token/{token}/hls/manifest.m3u8",
        "iframe": (
            f'<iframe src="{player}" width="100%" height="100%" frameborder="0" scrolling="no" allowfullscreen="">'
            "</iframe>"
        ),
        "player": player,
    }
    if media is not None and media.thumbnail_file:
        body["thumbnail"] = f"{base}/token/{token}/thumbnail.jpg"
    if v.mp4_support:
        body["mp4"] = f"{base}/token/{token}/mp4/source.mp4"
    return body


def video_status(
    media: MediaState | None, session: UploadSession | None, parts: Sequence[ReceivedPart]
) -> dict[str, Any]:
    """`ingest` is omitted until something arrives: the SDK refuses a null status."""
    body: dict[str, Any] = {
        "encoding": {
            "playable": bool(media and media.playable),
            "qualities": quality_rows(media) if media else [],
            "metadata": encoding_metadata(media.metadata if media else {}),
        }
    }
    if media is not None and media.failure:
        # Videoplane extension (the SDK ignores unknown keys): why encoding stopped.
        body["encoding"]["failure"] = media.failure
    status = media.ingest_status.value if media and media.ingest_status else ("uploading" if session else None)
    if status is not None:
        body["ingest"] = {
            "status": status,
            "filesize": media.filesize if media else None,
            "receivedBytes": [
                {"from": p.start, "to": p.end, "total": session.total_bytes}
                for p in sorted(parts, key=lambda p: p.start)
                if session is not None and session.form is RangeForm.BYTES
            ],
            "receivedParts": {
                "parts": sorted(p.part for p in parts if p.part),
                "total": session.total_parts if session else None,
            },
        }
    return body


def encoding_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """SourceMetadata (snake_case, bit/s) → VideoStatusEncodingMetadata; empty before the probe."""
    if not metadata:
        return {}

    def whole(name: str) -> int | None:
        value = metadata.get(name)
        return None if value is None else round(value)

    bitrate = metadata.get("bitrate")
    return {
        "width": metadata.get("display_width") or metadata.get("width"),
        "height": metadata.get("display_height") or metadata.get("height"),
        "bitrate": round(bitrate / 1000, 2) if bitrate else None,
        "duration": whole("duration"),
        "framerate": whole("framerate"),
        "samplerate": metadata.get("samplerate"),
        "videoCodec": metadata.get("video_codec"),
        "audioCodec": metadata.get("audio_codec"),
        "aspectRatio": metadata.get("aspect_ratio"),
    }


def upload_token(token: UploadToken) -> dict[str, Any]:
    expires = token.expires_at
    return {
        "token": token.token_id,
        "ttl": token.ttl,
        "createdAt": to_atom(token.created_at),
        "expiresAt": to_atom(expires) if expires else None,
    }


def tag(row: tuple[str, int]) -> dict[str, Any]:
    return {"value": row[0], "videoCount": row[1]}
