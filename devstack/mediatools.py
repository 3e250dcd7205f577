"""What the ffmpeg build tells us about a file, read from `ffmpeg -i` stderr (the build has no ffprobe)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import imageio_ffmpeg

PROBE_TIMEOUT_SECONDS = 30

_INPUT = re.compile(r"^Input #0, (.+?), from ", re.MULTILINE)
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_BITRATE = re.compile(r"bitrate: (\d+) kb/s")
_STREAM = re.compile(r"^\s*Stream #0:(\d+)[^:]*: (Video|Audio|Data|Subtitle): (\w+)(.*)$")
_SIZE = re.compile(r"[ ,](\d{1,5})x(\d{1,5})[ ,\n]")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")
_STREAM_BITRATE = re.compile(r"(\d+) kb/s")
_SAMPLE_RATE = re.compile(r"(\d+) Hz")
_CHANNELS = {"mono": 1, "stereo": 2, "5.1": 6, "5.1(side)": 6, "7.1": 8}
_CHANNEL_COUNT = re.compile(r"(\d+) channels")
# Side data written under the stream; the display matrix angle is counter-clockwise, the legacy
# "rotate" tag (what phones write) clockwise.
_DISPLAY_MATRIX = re.compile(r"rotation of (-?[\d.]+) degrees")
_ROTATE_TAG = re.compile(r"^\s*rotate\s*:\s*(-?\d+)", re.MULTILINE)
_H264_PROFILE = re.compile(r"^h264 \(([^)]+)\)")

_VIDEO_CODECS = {
    "h264": "AVC",
    "hevc": "HEVC",
    "vp9": "VP9",
    "vp8": "VP8",
    "av1": "AV1",
    "mpeg4": "MP4V",
    "mpeg2video": "MPEG2",
    "mpeg1video": "MPEG1",
    "mjpeg": "MJPEG",
    "prores": "PRORES",
    "theora": "THEORA",
    "vc1": "VC1",
}
_AUDIO_CODECS = {
    "aac": "AAC",
    "opus": "OPUS",
    "mp3": "MP3",
    "ac3": "AC3",
    "eac3": "EAC3",
    "flac": "FLAC",
    "vorbis": "VORBIS",
    "mp2": "MP2",
}
# ffmpeg demuxer names -> the Probe API's Container.Format enum.
_FORMATS = {
    "mpegts": "mpegts",
    "avi": "avi",
    "mp3": "mp3",
    "wav": "wave",
    "ogg": "ogg",
    "flac": "flac",
    "aac": "aac",
    "ac3": "ac3",
    "eac3": "eac3",
    "asf": "asf",
    "mxf": "mxf",
    "mpeg": "mpegps",
}


@cache
def ffmpeg() -> str:
    return str(imageio_ffmpeg.get_ffmpeg_exe())


@dataclass(frozen=True)
class VideoStream:
    codec: str  # ffmpeg's name: h264, hevc, ...
    width: int
    height: int
    framerate: float | None
    bitrate: int | None
    rotation: int  # clockwise degrees a player turns the frames, 0/90/180/270
    detail: str  # the rest of ffmpeg's stream line (profile, pixel format, ...)

    @property
    def display_size(self) -> tuple[int, int]:
        return (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)


@dataclass(frozen=True)
class AudioStream:
    codec: str
    sample_rate: int | None
    channels: int | None
    bitrate: int | None


@dataclass(frozen=True)
class MediaInfo:
    formats: tuple[str, ...]
    duration: float | None
    bitrate: int | None
    video: VideoStream | None
    audio: AudioStream | None

    @property
    def container(self) -> str | None:
        for name in self.formats:
            if name in _FORMATS:
                return _FORMATS[name]
        if "mp4" in self.formats:
            return "mp4"
        if "matroska" in self.formats:
            return "webm" if self.video is not None and self.video.codec in ("vp8", "vp9", "av1") else "matroska"
        return None


class Unreadable(Exception):
    """ffmpeg could not open the file as media; the message is its last error line."""


def inspect(path: Path | str) -> MediaInfo:
    """Opens a file with `ffmpeg -i` and reads its streams. Raises Unreadable for non-media or truncated files."""
    completed = subprocess.run(
        [ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=PROBE_TIMEOUT_SECONDS,
        check=False,
    )
    return parse_info(completed.stderr)


def last_error_line(stderr: str) -> str:
    """ffmpeg's most specific complaint: its last line that is not one of the generic summaries."""
    # Drop the "[in#0 @ 0x55...]" context prefix: it is a pointer, not information.
    lines = [re.sub(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", line.strip()) for line in stderr.splitlines() if line.strip()]
    generic = ("Error opening input", "At least one output file", "Conversion failed", "Error while ")
    specific = [line for line in lines if not line.startswith(generic)]
    if specific:
        return specific[-1]
    opening = [line for line in lines if line.startswith("Error opening input:")]
    return (opening or lines or ["no output from ffmpeg"])[-1].removeprefix("Error opening input: ")


def parse_info(stderr: str) -> MediaInfo:
    header = _INPUT.search(stderr)
    if header is None:
        raise Unreadable(last_error_line(stderr))
    video: VideoStream | None = None
    audio: AudioStream | None = None
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        match = _STREAM.match(line)
        if match is None:
            continue
        kind, codec, rest = match.group(2), match.group(3), f"{match.group(3)}{match.group(4)}\n"
        # Cover art in audio files shows up as a one-frame "attached pic" video stream.
        if kind == "Video" and video is None and "attached pic" not in rest:
            video = _video(codec, rest, _side_data(lines, index))
        elif kind == "Audio" and audio is None:
            audio = _audio(codec, rest)
    duration = _DURATION.search(stderr)
    bitrate = _BITRATE.search(stderr)
    if video is None and audio is None:
        raise Unreadable("The input has no audio or video stream")
    return MediaInfo(
        formats=tuple(header.group(1).split(",")),
        duration=None
        if duration is None
        else int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3)),
        bitrate=None if bitrate is None else int(bitrate.group(1)) * 1000,
        video=video,
        audio=audio,
    )


def _side_data(lines: list[str], index: int) -> str:
    """The indented lines under a stream line (its metadata and side data), up to the next stream."""
    block: list[str] = []
    for line in lines[index + 1 :]:
        if _STREAM.match(line) or not line.startswith("    "):
            break
        block.append(line)
    return "\n".join(block)


def _video(codec: str, rest: str, side_data: str) -> VideoStream:
    size = _SIZE.search(rest)
    fps = _FPS.search(rest)
    bitrate = _STREAM_BITRATE.search(rest)
    rotation = 0
    matrix = _DISPLAY_MATRIX.search(side_data)
    tag = _ROTATE_TAG.search(side_data)
    if matrix is not None:
        rotation = round(-float(matrix.group(1))) % 360
    elif tag is not None:
        rotation = int(tag.group(1)) % 360
    return VideoStream(
        codec=codec,
        width=int(size.group(1)) if size else 0,
        height=int(size.group(2)) if size else 0,
        framerate=float(fps.group(1)) if fps else None,
        bitrate=int(bitrate.group(1)) * 1000 if bitrate else None,
        rotation=rotation if rotation in (0, 90, 180, 270) else 0,
        detail=rest,
    )


def _audio(codec: str, rest: str) -> AudioStream:
    sample_rate = _SAMPLE_RATE.search(rest)
    bitrate = _STREAM_BITRATE.search(rest)
    fields = [field.strip() for field in rest.split(",")]
    channels = next((_CHANNELS[field] for field in fields if field in _CHANNELS), None)
    count = _CHANNEL_COUNT.search(rest)
    return AudioStream(
        codec=codec,
        sample_rate=int(sample_rate.group(1)) if sample_rate else None,
        channels=int(count.group(1)) if count else channels,
        bitrate=int(bitrate.group(1)) * 1000 if bitrate else None,
    )


def h264_codecs_tag(video: VideoStream | None) -> str:
    """The RFC 6381 CODECS value for the HLS master playlist, from the profile ffmpeg reports."""
    profile = _H264_PROFILE.match(video.detail) if video is not None else None
    name = profile.group(1) if profile else "High"
    if "Baseline" in name:
        return "avc1.42e01e"
    if name == "Main":
        return "avc1.4d401f"
    return "avc1.640028"


def _framerate(value: float) -> dict[str, int]:
    fraction = Fraction(value).limit_denominator(1001)
    return {"Numerator": fraction.numerator, "Denominator": fraction.denominator}


def probe_result(info: MediaInfo, size: int) -> dict[str, Any]:
    """One Probe API result (ProbeResults[i]) in the service model's member names."""
    tracks: list[dict[str, Any]] = []
    if info.video is not None:
        properties: dict[str, Any] = {
            "Width": info.video.width,
            "Height": info.video.height,
            "Rotation": info.video.rotation,
        }
        if info.video.framerate:
            properties["FrameRate"] = _framerate(info.video.framerate)
        if info.video.bitrate:
            properties["BitRate"] = info.video.bitrate
        tracks.append(
            {
                "TrackType": "video",
                "Index": len(tracks),
                "Codec": _VIDEO_CODECS.get(info.video.codec, "UNKNOWN"),
                "VideoProperties": properties,
            }
        )
    if info.audio is not None:
        audio: dict[str, Any] = {
            key: value
            for key, value in (
                ("SampleRate", info.audio.sample_rate),
                ("Channels", info.audio.channels),
                ("BitRate", info.audio.bitrate),
            )
            if value is not None
        }
        codec = "PCM" if info.audio.codec.startswith("pcm_") else _AUDIO_CODECS.get(info.audio.codec, "UNKNOWN")
        tracks.append({"TrackType": "audio", "Index": len(tracks), "Codec": codec, "AudioProperties": audio})
    container: dict[str, Any] = {"Tracks": tracks}
    if info.container is not None:
        container["Format"] = info.container
    if info.duration is not None:
        container["Duration"] = info.duration
    if info.bitrate is not None:
        container["BitRate"] = info.bitrate
    return {"Container": container, "Metadata": {"FileSize": size}}
