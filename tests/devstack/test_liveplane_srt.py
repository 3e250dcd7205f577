"""The SRT front door's warm spare listener (devstack/liveplane.py): ffmpeg encoders push SRT with a
channel's stream key and passphrase to a live plane of its own (an IVS plane without AWS behind
it); each push gets the spare started in advance, a new spare replaces it, and stopping the plane
leaves no listener running."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from devstack.ivsplane import IvsPlane
from devstack.liveplane import PLAYLIST, LivePlane, SrtListener

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
CHANNEL_ARN = "arn:aws:ivs:us-east-1:123456789012:channel/warmspare01"
STREAM_KEY = "sk_us-east-1_warmspare"
PASSPHRASE = "a-channel-passphrase-of-32-chars"
WAIT_SECONDS = 15.0


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[LivePlane]:
    ivs = IvsPlane("http://127.0.0.1:9/media")
    ivs.channels[CHANNEL_ARN] = {
        "arn": CHANNEL_ARN,
        "name": "warm spare",
        "playbackUrl": "http://127.0.0.1:9/media/live/warmspare01/index.m3u8",
        "srt": {"endpoint": "127.0.0.1", "passphrase": PASSPHRASE},
    }
    ivs.stream_keys["key"] = {"arn": "key", "channelArn": CHANNEL_ARN, "value": STREAM_KEY}
    live = LivePlane(ivs, tmp_path / "live", FFMPEG, rtmp_port=0, srt_port=0, timeline_log=tmp_path / "timeline.jsonl")
    live.start()
    try:
        yield live
    finally:
        live.stop()


def wait_until(check: Callable[[], Any], seconds: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"not true after {seconds} s")


def spare(plane: LivePlane) -> SrtListener:
    """The front door's spare, once it is running."""
    door = plane._srt_door
    assert door is not None
    return wait_until(lambda: door.spare if door.spare is not None and door.spare.running else None)


# The push's first second (its first GOP) is black, the rest a test pattern.
FIRST_SECOND_BLACK = (
    "color=black:size=160x120:rate=25:duration=1[black];testsrc=size=160x120:rate=25[pattern];"
    "[black][pattern]concat=n=2:v=1:a=0[out0]"
)


def push(plane: LivePlane, seconds: int = 4) -> subprocess.CompletedProcess[bytes]:
    url = f"srt://127.0.0.1:{plane.srt_port}?streamid={STREAM_KEY}&passphrase={PASSPHRASE}"
    return subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", FIRST_SECOND_BLACK, "-f", "lavfi", "-i", "sine=frequency=440",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mpegts", url],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip


def test_each_push_gets_the_spare_and_a_new_spare_replaces_it(plane: LivePlane, tmp_path: Path) -> None:
    first_spare = spare(plane)
    first = push(plane)
    assert first.returncode == 0, first.stderr.decode()
    playlist = tmp_path / "live" / "warmspare01" / PLAYLIST
    assert "seg_" in playlist.read_text()
    # The first segment has both streams: the HLS ffmpeg's short probing (no frame rate estimate)
    # still finds the video, which starts after the audio in an ffmpeg-muxed MPEG-TS.
    first_segment = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(playlist.parent / "seg_00000.ts")], capture_output=True, check=False
    ).stderr.decode()
    assert "Video: h264" in first_segment and "Audio: aac" in first_segment, first_segment
    # ... and opens with the push's first frame: the listener keeps what its probe read (with
    # `-fflags nobuffer` it dropped it, and the HLS started at the second keyframe, a GOP late).
    first_frame = subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-i", str(playlist.parent / "seg_00000.ts"),
         "-frames:v", "1", "-vf", "scale=1:1", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert first_frame and first_frame[0] < 32, f"the first frame's luma is {first_frame[0]}, not black"
    # The spare served that push (its ffmpeg ended with it) and a new one waits for the next.
    wait_until(lambda: not first_spare.running)
    second_spare = spare(plane)
    assert second_spare is not first_spare
    assert second_spare.port != first_spare.port

    wait_until(lambda: not plane.broadcasts)
    second = push(plane)
    assert second.returncode == 0, second.stderr.decode()
    wait_until(lambda: not second_spare.running)
    assert spare(plane) is not second_spare
    # Both pushes went out, each timed from the caller's first handshake to Stream Start.
    timelines = [json.loads(line) for line in (tmp_path / "timeline.jsonl").read_text().splitlines()]
    assert len(timelines) == 2
    for timeline in timelines:
        assert timeline["handshake"] <= timeline["listener answered"] <= timeline["admitted"]
        assert timeline["admitted"] <= timeline["first segment listed"] <= timeline["Stream Start put"]


def test_a_refused_push_uses_up_the_spare_and_stopping_leaves_no_listener(plane: LivePlane) -> None:
    used = spare(plane)
    url = f"srt://127.0.0.1:{plane.srt_port}?streamid=not-a-key&passphrase={PASSPHRASE}"
    refused = subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc", "-t", "1", "-f", "mpegts", url],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    wait_until(lambda: not used.running)
    waiting = spare(plane)
    assert waiting is not used

    plane.stop()
    assert waiting.process is not None and waiting.process.returncode is not None
