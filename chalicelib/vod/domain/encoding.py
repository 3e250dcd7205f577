"""Encoding: what a source is, which renditions it gets, and the jobs and job states the media plane speaks.

Pure: no boto3. The MediaConvert adapter turns an `EncodingJob` into a CreateJob request and a
"Job State Change" event back into a `JobState`; everything here is decided before and after that.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

# Exactly the api.video SDK's quality enum, lowest first: consumers compare rungs by this order.
QUALITIES: tuple[str, ...] = ("240p", "360p", "480p", "720p", "1080p", "2160p")

# MediaConvert refuses output frames narrower or shorter than this (VideoDescription Width/Height min).
MIN_FRAME_SIDE = 32

Rotation = Literal[0, 90, 180, 270]


class EncoderError(Exception):
    """The media plane refused or failed a request. `code` is the service's error code, `reason` is for humans."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class SourceUnreadable(EncoderError):
    """The source could not be probed: not media, truncated, or not reachable by the media plane."""


# What the probe reports for a track it cannot name (the devstack's plane for PNG, GIF, ...).
UNKNOWN_CODEC = "unknown"
# Shorter than this is a single frame or a still image, not a video (a JPEG probes as 0.04 s).
MIN_VIDEO_SECONDS = 0.1


class SourceMetadata(BaseModel):
    """What a probe learned about a source. Every field may be unknown except rotation (absent means 0)."""

    model_config = ConfigDict(frozen=True)
    container: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    bitrate: int | None = None
    framerate: float | None = None
    samplerate: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    rotation: Rotation = 0

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None and bool(self.width) and bool(self.height)

    def not_a_video(self) -> str | None:
        """Why this source cannot become a playable video, or None. A still image probes as one
        video track (PNG: codec unknown, no duration; JPEG: one frame of 0.04 s): without these
        checks it would turn `playable` with codec `unknown` and no duration."""
        if not self.has_video:
            return "The source has no video track."
        if self.video_codec == UNKNOWN_CODEC:
            return "The source is not a video: its picture format is not a video codec (a still image?)."
        if self.duration is None or self.duration < MIN_VIDEO_SECONDS:
            return "The source is not a video: it has no duration (a still image?)."
        return None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def display_width(self) -> int | None:
        # Phones store portrait video as landscape frames plus a rotation; players show it turned.
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int | None:
        return self.width if self.rotation in (90, 270) else self.height

    @property
    def aspect_ratio(self) -> str | None:
        width, height = self.display_width, self.display_height
        if not width or not height:
            return None
        divisor = math.gcd(width, height)
        return f"{width // divisor}/{height // divisor}"

    @property
    def remuxable(self) -> bool:
        """True when HLS can be cut from the source without re-encoding (the playable-in-seconds path).

        Players need H.264 (+ AAC) in TS, and a remux cannot apply a rotation."""
        return (
            self.has_video
            and self.video_codec == "h264"
            and (self.audio_codec is None or self.audio_codec == "aac")
            and self.rotation == 0
        )


class Rendition(BaseModel):
    model_config = ConfigDict(frozen=True)
    quality: str
    width: int
    height: int
    max_bitrate: int
    qvbr_level: int
    audio_bitrate: int


# The AWS VOD solution's QVBR ladder (video-on-demand-on-aws v6, *_qvbr_no_preset templates), renamed to
# the api.video rungs: its 270p and 540p become 240p and 480p, and 2160p comes from its older README.
LADDER: tuple[Rendition, ...] = (
    Rendition(quality="240p", width=426, height=240, max_bitrate=400_000, qvbr_level=7, audio_bitrate=64_000),
    Rendition(quality="360p", width=640, height=360, max_bitrate=1_500_000, qvbr_level=7, audio_bitrate=64_000),
    Rendition(quality="480p", width=854, height=480, max_bitrate=2_500_000, qvbr_level=8, audio_bitrate=96_000),
    Rendition(quality="720p", width=1280, height=720, max_bitrate=6_000_000, qvbr_level=8, audio_bitrate=96_000),
    Rendition(quality="1080p", width=1920, height=1080, max_bitrate=8_500_000, qvbr_level=9, audio_bitrate=128_000),
    Rendition(quality="2160p", width=3840, height=2160, max_bitrate=15_000_000, qvbr_level=9, audio_bitrate=128_000),
)


class EncodingProfile(BaseModel):
    model_config = ConfigDict(frozen=True)
    profile_id: str
    name: str
    qualities: tuple[str, ...] = QUALITIES
    # An MP4 at source quality, for videos created with mp4Support.
    mp4: bool = True
    # 3 s segments over 3 s closed GOPs, like the AWS solution: every segment starts on a keyframe.
    segment_seconds: int = 3
    # None: pick a frame early enough to exist, late enough to skip a black first frame (see thumbnail_time).
    thumbnail_at_seconds: float | None = None


DEFAULT_PROFILE = EncodingProfile(profile_id="default", name="Default")


def _even(value: float) -> int:
    """libx264 and MediaConvert both need even frame sides."""
    return max(2, round(value / 2) * 2)


def renditions_for(source: SourceMetadata, profile: EncodingProfile = DEFAULT_PROFILE) -> list[Rendition]:
    """The HLS ladder for this source: never upscaled, aspect ratio kept, lowest rung first.

    A rung's nominal height is the short side of the frame, so a portrait 1080x1920 source gets a
    1080x1920 "1080p" rung rather than being squeezed into 1920x1080. Rungs above the source's short
    side are dropped; a source smaller than the lowest rung still gets that rung, scaled down to it."""
    if not source.has_video or not source.display_width or not source.display_height:
        return []
    width, height = source.display_width, source.display_height
    short_side, long_side = min(width, height), max(width, height)
    rungs = sorted((rung for rung in LADDER if rung.quality in profile.qualities), key=lambda rung: rung.height)
    if not rungs:
        return []
    chosen = [rung for rung in rungs if rung.height <= short_side]
    targets = [(rung, rung.height) for rung in chosen] or [(rungs[0], short_side)]
    renditions: list[Rendition] = []
    for rung, target_short in targets:
        short = max(MIN_FRAME_SIDE, _even(target_short))
        long = max(MIN_FRAME_SIDE, _even(short * long_side / short_side))
        out_width, out_height = (long, short) if width >= height else (short, long)
        renditions.append(rung.model_copy(update={"width": out_width, "height": out_height}))
    return renditions


def thumbnail_time(source: SourceMetadata, profile: EncodingProfile = DEFAULT_PROFILE) -> float:
    """Seconds into the source for the poster frame, always inside the source when its duration is known."""
    duration = source.duration or 0.0
    if profile.thumbnail_at_seconds is not None:
        wanted = profile.thumbnail_at_seconds
        return max(0.0, min(wanted, duration * 0.9)) if duration else max(0.0, wanted)
    return min(2.0, duration / 2)


class JobKind(StrEnum):
    REMUX = "remux"  # HLS cut from the source without re-encoding: playable in seconds
    RENDITION = "rendition"  # one HLS rung
    MP4 = "mp4"  # the source-quality MP4
    THUMBNAIL = "thumbnail"  # one JPEG frame


_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(px|%)?\s*$")


class WatermarkPlacement(BaseModel):
    """Where to draw an image, in api.video's strings: lengths are "10px" or "10%", opacity "70%"."""

    model_config = ConfigDict(frozen=True)
    image_url: str
    top: str | None = None
    left: str | None = None
    bottom: str | None = None
    right: str | None = None
    width: str | None = None
    height: str | None = None
    opacity: str | None = None


class WatermarkBox(BaseModel):
    """A watermark in output pixels. width/height None: the image's native size on that axis."""

    model_config = ConfigDict(frozen=True)
    x: int
    y: int
    width: int | None
    height: int | None
    opacity: int  # 0-100


def length_in_pixels(value: str, total: int) -> int:
    """ "10px" -> 10; "10%" of a 640 px side -> 64; a bare number is pixels."""
    match = _LENGTH.match(value)
    if match is None:
        raise ValueError(f"Not a length: {value!r} (expected like '10px' or '10%').")
    number, unit = float(match.group(1)), match.group(2)
    return round(number * total / 100) if unit == "%" else round(number)


def opacity_percent(value: str | None) -> int:
    """ "70%" -> 70; "0.7" -> 70; absent -> fully opaque."""
    if value is None:
        return 100
    match = _LENGTH.match(value)
    if match is None:
        raise ValueError(f"Not an opacity: {value!r} (expected like '70%').")
    number, unit = float(match.group(1)), match.group(2)
    percent = number if unit == "%" or number > 1 else number * 100
    return max(0, min(100, round(percent)))


def _axis(start: str | None, end: str | None, size: str | None, total: int) -> tuple[int, int | None]:
    size_px = None if size is None else length_in_pixels(size, total)
    if start is not None or end is None:
        return (0 if start is None else length_in_pixels(start, total)), size_px
    # Anchored to the far edge: the image's size must be known to place it, so an unsized image
    # gets a fifth of the frame (api.video does not document its own default).
    resolved_size = size_px if size_px is not None else _even(total / 5)
    return max(0, total - length_in_pixels(end, total) - resolved_size), resolved_size


def watermark_box(placement: WatermarkPlacement, frame_width: int, frame_height: int) -> WatermarkBox:
    """Resolves api.video's CSS-like placement against an output frame. top/left win over bottom/right."""
    x, width = _axis(placement.left, placement.right, placement.width, frame_width)
    y, height = _axis(placement.top, placement.bottom, placement.height, frame_height)
    return WatermarkBox(x=x, y=y, width=width, height=height, opacity=opacity_percent(placement.opacity))


class EncodingJob(BaseModel):
    """One unit of work for the media plane. The adapter decides the exact output names from `kind`."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    video_id: str
    kind: JobKind
    quality: str | None = None
    source_url: str  # s3://bucket/key
    destination_prefix: str  # s3://bucket/vod/{videoId}/
    idempotency_token: str
    rendition: Rendition | None = None
    clip_start: float | None = None
    clip_end: float | None = None
    watermark: WatermarkPlacement | None = None
    thumbnail_at: float | None = None
    framerate: float | None = None
    # Without audio in the source, asking for an audio output would fail the job, so the caller
    # (who has probed the source) says whether there is any.
    audio: bool = True
    segment_seconds: int = DEFAULT_PROFILE.segment_seconds


JobStatus = Literal["PROGRESSING", "STATUS_UPDATE", "COMPLETE", "ERROR", "CANCELED", "INPUT_INFORMATION", "NEW_WARNING"]


class JobState(BaseModel):
    """A job's state as one "Job State Change" event told it."""

    model_config = ConfigDict(frozen=True)
    job_id: str
    status: JobStatus
    project_id: str
    video_id: str
    kind: JobKind
    quality: str | None = None
    percent: int | None = None
    # What a consumer needs, as s3:// URLs: the HLS master and child playlists, the MP4, the JPEG.
    outputs: tuple[str, ...] = ()
    width: int | None = None
    height: int | None = None
    error_code: int | None = None
    error_message: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("COMPLETE", "ERROR", "CANCELED")
