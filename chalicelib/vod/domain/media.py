"""A video's media: how its source arrived, what the probe found, and each rendition's state.

Kept apart from the video's metadata (title, tags, ...) so that encoding progress written by
consumers never races a user's PATCH of the same item.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class IngestStatus(StrEnum):
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    INGESTING = "ingesting"
    INGESTED = "ingested"


class IngestMethod(StrEnum):
    UPLOAD = "upload"
    URL = "url"
    COPY = "copy"
    RECORDING = "recording"


class QualityStatus(StrEnum):
    WAITING = "waiting"
    ENCODING = "encoding"
    ENCODED = "encoded"
    FAILED = "failed"


SETTLED = frozenset({QualityStatus.ENCODED, QualityStatus.FAILED})
QUALITY_ORDER = ("240p", "360p", "480p", "720p", "1080p", "2160p")


def quality_key(encoding: str, quality: str) -> str:
    """`hls:720p` / `mp4:1080p`: one entry per output the API reports."""
    return f"{encoding}:{quality}"


class MediaState(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    video_id: str
    ingest_status: IngestStatus | None = None
    ingest_method: IngestMethod | None = None
    filesize: int | None = None
    source_key: str | None = None
    # SourceMetadata as JSON (chalicelib.vod.domain.encoding); empty until the probe ran.
    metadata: dict[str, Any] = {}
    qualities: dict[str, QualityStatus] = {}
    # Child playlist of each encoded HLS rendition, relative to the video's hls/ folder.
    playlists: dict[str, str] = {}
    # The remuxed source, playable before the ladder is encoded.
    preview_playlist: str | None = None
    playable: bool = False
    ready: bool = False
    mp4: bool = False
    thumbnail: bool = False
    # Relative to vod/{videoId}/; `thumbnail_source` says who chose it (auto, upload, pick).
    thumbnail_file: str | None = None
    thumbnail_source: str | None = None
    failure: str | None = None
    updated_at: datetime | None = None

    @property
    def settled(self) -> bool:
        return bool(self.qualities) and all(status in SETTLED for status in self.qualities.values())

    def encoded(self, encoding: str) -> list[str]:
        prefix = f"{encoding}:"
        names = [
            k[len(prefix) :] for k, s in self.qualities.items() if k.startswith(prefix) and s is QualityStatus.ENCODED
        ]
        return sorted(names, key=QUALITY_ORDER.index)

    def encoded_seconds(self) -> float | None:
        """Seconds of output encoded (the usage counters' minutes encoded): the source's duration
        once per encoded HLS rendition and MP4; None while the duration is unknown."""
        duration = self.metadata.get("duration")
        if not duration:
            return None
        outputs = sum(1 for status in self.qualities.values() if status is QualityStatus.ENCODED)
        return round(float(duration) * outputs, 3)


def quality_rows(state: MediaState) -> list[dict[str, str]]:
    """VideoStatus.encoding.qualities: HLS rungs in ladder order, then the MP4."""

    def order(key: str) -> tuple[int, int]:
        encoding, quality = key.split(":", 1)
        return (0 if encoding == "hls" else 1, QUALITY_ORDER.index(quality) if quality in QUALITY_ORDER else 99)

    rows = []
    for key in sorted(state.qualities, key=order):
        encoding, quality = key.split(":", 1)
        rows.append({"type": encoding, "quality": quality, "status": state.qualities[key].value})
    return rows


def timecode_seconds(value: str, framerate: float | None = None) -> float:
    """api.video timecodes: `HH:MM:SS`, `HH:MM:SS.mmm`, `HH:MM:SS:FF` (frames) or whole seconds."""
    if ":" not in value:
        return float(value)
    fields = value.split(":")
    hours, minutes = int(fields[0]), int(fields[1])
    seconds = float(fields[2])
    frames = int(fields[3]) / (framerate or 25.0) if len(fields) == 4 else 0.0
    return hours * 3600 + minutes * 60 + seconds + frames


def variant_line(
    bandwidth: int, width: int | None, height: int | None, codecs: str | None, uri: str, subtitles: bool
) -> list[str]:
    attributes = [f"BANDWIDTH={bandwidth}"]
    if width and height:
        attributes.append(f"RESOLUTION={width}x{height}")
    if codecs:
        attributes.append(f'CODECS="{codecs}"')
    if subtitles:
        attributes.append('SUBTITLES="subs"')
    return [f"#EXT-X-STREAM-INF:{','.join(attributes)}", uri]
