"""Wire shapes of captions, chapters, watermarks (api.video SDK 1.4.7 models) and encoding profiles."""

from __future__ import annotations

from typing import Any

from chalicelib.core.clock import to_atom
from chalicelib.vod.domain.encoding_profiles import EncodingProfile
from chalicelib.vod.domain.tracks import TextTrack
from chalicelib.vod.domain.watermarks import Watermark


def caption(track: TextTrack, media_base_url: str) -> dict[str, Any]:
    return {
        "uri": track.uri,
        "src": f"{media_base_url}/{track.object_key}",
        "srclang": track.language,
        "languageName": track.language_name,
        "default": track.default,
    }


def chapter(track: TextTrack, media_base_url: str) -> dict[str, Any]:
    return {"uri": track.uri, "src": f"{media_base_url}/{track.object_key}", "language": track.language}


def watermark(w: Watermark) -> dict[str, Any]:
    return {"watermarkId": w.watermark_id, "createdAt": to_atom(w.created_at)}


def encoding_profile(p: EncodingProfile) -> dict[str, Any]:
    return {
        "profileId": p.profile_id,
        "name": p.name,
        "qualities": list(p.qualities),
        "mp4": p.mp4,
        "segmentSeconds": p.segment_seconds,
        "default": p.default,
        "createdAt": to_atom(p.created_at),
        "updatedAt": to_atom(p.updated_at),
    }
