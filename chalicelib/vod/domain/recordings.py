"""Live-to-VOD: a recorded broadcast (the live context's `live-stream.recording.ended`) becomes one
video per 12 hours of it (api.video cuts recordings at 12 h), with `liveStreamId`. Pure rules.

A broadcast's recordings are IVS recordings, one per push, each under its key prefix in the media
bucket as IVS lays them out: `events/recording-ended.json` names the HLS renditions
(`media/hls/<rendition>/playlist.m3u8` and its segments). The video's source is the MPEG-TS
segments of the highest rendition of every push, in order, joined into one file, each later push's
timestamps moved to follow the earlier ones (domain/mpegts.py).

A redelivered event makes no second video: the video ids are derived from the recording (the
live stream, the first push's prefix and the cut's number), and a video is created only if absent.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from chalicelib.core import ids
from chalicelib.vod.domain import mpegts
from chalicelib.vod.domain.videos import VIDEO_ID_PREFIX, Video

CUT = timedelta(hours=12)
ENDED_MANIFEST = "events/recording-ended.json"
# The stored video title's limit (domain.videos.Title).
TITLE_LIMIT = 256


class RecordedBroadcast(BaseModel):
    """The `live-stream.recording.ended` event's payload, as the VOD context reads it; or
    `room.recording.ended`'s (a room session's recording: an IVS composition, laid out the same)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")
    project_id: str = Field(alias="projectId")
    live_stream_id: str | None = Field(default=None, alias="liveStreamId")
    room_id: str | None = Field(default=None, alias="roomId")
    session_id: str | None = Field(default=None, alias="sessionId")
    recording_id: str | None = Field(default=None, alias="recordingId")
    name: str
    broadcast_started_at: datetime = Field(validation_alias=AliasChoices("broadcastStartedAt", "startedAt"))
    recordings: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_origin(self) -> RecordedBroadcast:
        room = (self.room_id, self.session_id, self.recording_id)
        if (self.live_stream_id is None) == (None in room):
            raise ValueError("a recording is of a live stream or of a room's session")
        return self

    @property
    def origin(self) -> str:
        """What recorded it: the live stream or the room."""
        return self.live_stream_id or str(self.room_id)


@dataclass(frozen=True)
class Segment:
    key: str
    seconds: float
    part: int = 0  # which push (recording) of the broadcast


def part_offsets(all_segments: list[Segment], starts: dict[int, int | None]) -> dict[int, int]:
    """Per push, the shift of its timestamps (mpegts.shift) that puts it right after the pushes
    before it: `starts` is each push's first timestamp; the first push stays where it is."""
    offsets: dict[int, int] = {}
    elapsed = 0.0
    first: int | None = None
    for part in sorted({s.part for s in all_segments}):
        start = starts.get(part)
        if first is None:
            first, offsets[part] = start, 0
        elif start is None:
            offsets[part] = 0
        else:
            offsets[part] = mpegts.offset_between(first, elapsed, start)
        elapsed += sum(s.seconds for s in all_segments if s.part == part)
    return offsets


class RecordingUnreadable(Exception):
    """A recording's manifest or playlist is missing or not what IVS writes."""


def ended_manifest_key(prefix: str) -> str:
    return f"{prefix.rstrip('/')}/{ENDED_MANIFEST}"


def playlist_key(prefix: str, manifest: bytes) -> str:
    """The key of the highest rendition's media playlist named by recording-ended.json."""
    try:
        hls = json.loads(manifest)["media"]["hls"]
        renditions: list[dict[str, Any]] = list(hls["renditions"])
        best = max(
            renditions, key=lambda r: (int(r.get("resolution_height") or 0), int(r.get("resolution_width") or 0))
        )
        return "/".join((prefix.rstrip("/"), hls["path"].strip("/"), best["path"].strip("/"), best["playlist"]))
    except (ValueError, KeyError, TypeError) as error:
        raise RecordingUnreadable(f"{ended_manifest_key(prefix)} names no HLS rendition") from error


def _size(rendition: dict[str, Any]) -> tuple[int, int]:
    return int(rendition.get("resolution_height") or 0), int(rendition.get("resolution_width") or 0)


def segments(playlist: str, playlist_key: str, part: int = 0) -> list[Segment]:
    """The media playlist's segments (URIs relative to the playlist) with their durations."""
    folder = playlist_key.rsplit("/", 1)[0]
    found: list[Segment] = []
    seconds: float | None = None
    for line in (raw.strip() for raw in playlist.splitlines()):
        if line.startswith("#EXTINF:"):
            try:
                seconds = float(line[len("#EXTINF:") :].split(",", 1)[0])
            except ValueError as error:
                raise RecordingUnreadable(f"{playlist_key}: {line}") from error
        elif line and not line.startswith("#"):
            if seconds is None or "://" in line or line.startswith("/") or ".." in line.split("/"):
                raise RecordingUnreadable(f"{playlist_key}: unexpected segment {line}")
            found.append(Segment(f"{folder}/{line}", seconds, part))
            seconds = None
    return found


def cuts(all_segments: list[Segment], limit: timedelta = CUT) -> list[list[Segment]]:
    """The segments in runs of at most `limit` (a segment longer than it is a run of its own)."""
    runs: list[list[Segment]] = []
    current: list[Segment] = []
    total = 0.0
    for segment in all_segments:
        if current and total + segment.seconds > limit.total_seconds():
            runs.append(current)
            current, total = [], 0.0
        current.append(segment)
        total += segment.seconds
    if current:
        runs.append(current)
    return runs


def recorded_video_id(recorded: RecordedBroadcast, cut: int) -> str:
    """The same id for the same cut of the same recording, whatever delivers it."""
    seed = f"{recorded.project_id}/{recorded.origin}/{recorded.recordings[0]}/{cut}".encode()
    number = int.from_bytes(hashlib.sha256(seed).digest(), "big")
    body = ""
    for _ in range(ids.ID_BODY_LENGTH):
        number, digit = divmod(number, len(ids.BASE62))
        body += ids.BASE62[digit]
    return VIDEO_ID_PREFIX + body


def recorded_video(recorded: RecordedBroadcast, cut: int, cuts_count: int, now: datetime) -> Video:
    when = recorded.broadcast_started_at.strftime("%Y-%m-%d %H:%M UTC")
    suffix = f" ({when})" if cuts_count == 1 else f" ({when}, part {cut + 1} of {cuts_count})"
    title = recorded.name[: TITLE_LIMIT - len(suffix)] + suffix
    return Video(
        project_id=recorded.project_id,
        video_id=recorded_video_id(recorded, cut),
        title=title,
        live_stream_id=recorded.live_stream_id,
        created_at=now,
        updated_at=now,
        published_at=now,
    )
