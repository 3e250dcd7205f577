"""A restream target on loopback: a real listening ffmpeg (`-listen 1 -f flv`) that records what
one publisher sends it, and the decoded frames of that recording (to check continuity)."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
# Bytes of an FLV file before its first media tag (header, previous tag size, onMetaData).
FLV_PREAMBLE_BYTES = 1024


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RtmpReceiver:
    """Accepts one RTMP publisher at rtmp://127.0.0.1:{port}/live/{any key}; ends when it leaves."""

    def __init__(self, folder: Path, name: str) -> None:
        self.port = free_tcp_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{name}.flv"
        self.server_url = f"rtmp://127.0.0.1:{self.port}/live"
        self.process = subprocess.Popen(
            [FFMPEG, "-hide_banner", "-loglevel", "error", "-listen", "1", "-f", "flv",
             "-i", f"rtmp://127.0.0.1:{self.port}/live/key", "-c", "copy", "-f", "flv", "-flush_packets", "1",
             str(self.path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def received_bytes(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def has_media(self) -> bool:
        return self.received_bytes() > FLV_PREAMBLE_BYTES

    def first_media_after(self, since: float, timeout: float) -> float | None:
        """Seconds from `since` (time.time()) until the recording grows past its preamble."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.has_media():
                return time.time() - since
            time.sleep(0.02)
        return None

    def stop(self) -> None:
        if self.running:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(frozen=True)
class Decoded:
    times: list[float]  # presentation time of each decoded video frame, seconds
    errors: str

    @property
    def largest_gap(self) -> float:
        return max((b - a for a, b in zip(self.times, self.times[1:], strict=False)), default=0.0)

    @property
    def span(self) -> float:
        return self.times[-1] - self.times[0] if self.times else 0.0


def decode(path: Path) -> Decoded:
    """Decodes the recording's video (ffmpeg's framecrc: one line per frame, with its pts)."""
    run = subprocess.run(
        [FFMPEG, "-hide_banner", "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "framecrc", "-"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    base = Fraction(1, 1000)
    times: list[float] = []
    for line in run.stdout.splitlines():
        if line.startswith("#tb 0:"):
            num, den = line.split(":", 1)[1].strip().split("/")
            base = Fraction(int(num), int(den))
        elif re.match(r"^0,", line):
            times.append(float(int(line.split(",")[2]) * base))
    return Decoded(times, run.stderr)
