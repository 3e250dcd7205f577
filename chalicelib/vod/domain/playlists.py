"""HLS playlist text for subtitles (RFC 8216): pure functions, written to S3 by the VOD pipeline."""

from __future__ import annotations

import math
from collections.abc import Iterable

from chalicelib.vod.domain.tracks import TextTrack

SUBTITLES_GROUP_ID = "subs"


def subtitle_media_playlist(vtt_uri: str, duration_seconds: float) -> str:
    """One segment covering the whole video: the VTT file as uploaded, no segmenting needed."""
    duration = max(duration_seconds, 0.001)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        # The target duration must be an integer no smaller than any segment's duration.
        f"#EXT-X-TARGETDURATION:{math.ceil(duration)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXTINF:{duration:.3f},",
        vtt_uri,
        "#EXT-X-ENDLIST",
    ]
    return "\n".join(lines) + "\n"


def _quoted(value: str) -> str:
    # An HLS quoted-string may contain neither double quotes nor line breaks.
    return value.replace('"', "'").replace("\r", " ").replace("\n", " ")


def subtitles_group(captions: Iterable[TextTrack]) -> list[str]:
    """The master playlist's `#EXT-X-MEDIA` lines; renditions reference them with SUBTITLES="subs"."""
    return [
        f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{SUBTITLES_GROUP_ID}",NAME="{_quoted(c.language_name)}",'
        f'LANGUAGE="{c.language}",DEFAULT={"YES" if c.default else "NO"},AUTOSELECT=YES,'
        f'URI="captions/{c.language}.m3u8"'
        for c in sorted(captions, key=lambda c: c.language)
    ]
