"""Live latency on the devstack: push start -> `broadcasting: true`, and glass-to-glass.

Each run creates a live stream and starts an encoder (ffmpeg, libx264 `-tune zerolatency`, 1 s
GOP, + AAC) pushing to its RTMP (or SRT) ingest URL, fed raw frames by this script in real time.

- **Push start -> broadcasting**: from launching the encoder to the first `GET /live-streams/{id}`
  answering `broadcasting: true` (polled every 50 ms). Goal <= 2 s.
- **Glass-to-glass**: the capture time is carried **in the picture**: every frame is a barcode of
  the wall-clock milliseconds at which this script handed it to the encoder (42 black/white
  stripes, read back after decoding). A poller fetches the playlist at `assets.hls` every 50 ms,
  notes when each segment is first listed (the moment a player can fetch it), fetches and decodes
  it, and reads every frame's capture time. Per segment, `oldest` = listed - capture of its first
  frame (what a frame waits at worst) and `newest` = listed - capture of its last frame. Goal for
  `oldest` <= 4 s with 1 s segments. A player adds its own buffer (hls.js holds about 3 segments).
- **Resume after a drop**: the encoder stops for `--drop` seconds (10 by default; within the
  stream's 60 s reconnect window) and starts again: from its relaunch to the first segment of the
  new push listed in the same playlist (after its discontinuity). Goal <= 2 s.
- **Where the start goes**: the live plane writes each push's start, step by step (the caller's
  first handshake, its listener's answer, admission, media relayed, first segment listed, Stream
  Start put on the bus; `VIDEOPLANE_LIVE_TIMELINE_LOG`), printed as p50 seconds after the encoder's
  launch, with `broadcasting` (the consumer applied it) last.
- `--muxdelay 0`: the encoder's MPEG-TS muxer does not hold its output back (ffmpeg's default
  0.7 s; SRT only), as an operator can set it.

- **Restream start** (`--restream`): a stream with one restream target (a listening ffmpeg RTMP
  receiver on loopback) broadcasts; once that target gets media, a PATCH adds a second target:
  from sending the PATCH to the second receiver's recording holding its first media (past the FLV
  preamble), and from `broadcasting: true` to the first target's first media. Both include the
  relay's start (a process on the devstack; an ECS task start on AWS adds its 20-60 s) and its HLS
  read from the newest segment.

    python -m benchmarks.live_latency [--runs 5] [--seconds 12] [--drop 10] [--protocol rtmp|srt] [--muxdelay 0]
    python -m benchmarks.live_latency --restream [--runs 5]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import imageio_ffmpeg
import requests

from benchmarks.devstack_process import Devstack, running_devstack
from tests.e2e.rtmp_receivers import RtmpReceiver

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
BITS = 42  # epoch milliseconds fit in 41 bits until 2039
STRIPE = 8
WIDTH, HEIGHT = BITS * STRIPE, 96
FPS = 25
POLL_SECONDS = 0.05
BLACK, WHITE = 16, 235
BROADCAST_GOAL, GLASS_GOAL, RESUME_GOAL = 2.0, 4.0, 2.0
RESUME_TIMEOUT_SECONDS = 20.0
RESTREAM_TIMEOUT_SECONDS = 30.0


def barcode(millis: int) -> bytes:
    """One gray frame: bit i of `millis` (most significant first) as stripe i."""
    row = b"".join(bytes([WHITE if millis >> (BITS - 1 - i) & 1 else BLACK]) * STRIPE for i in range(BITS))
    return row * HEIGHT


def read_barcode(frame: bytes) -> int:
    row = frame[(HEIGHT // 2) * WIDTH : (HEIGHT // 2 + 1) * WIDTH]
    value = 0
    for i in range(BITS):
        value = value << 1 | (row[i * STRIPE + STRIPE // 2] > (BLACK + WHITE) // 2)
    return value


class Encoder:
    """ffmpeg encoding the frames this script writes, at FPS, to the ingest URL."""

    def __init__(self, url: str, protocol: str, muxdelay: float | None = None) -> None:
        container = {"rtmp": "flv", "srt": "mpegts"}[protocol]
        mux = ["-muxdelay", str(muxdelay)] if muxdelay is not None else []
        self.launched = time.time()
        self.process = subprocess.Popen(
            [FFMPEG, "-hide_banner", "-loglevel", "error",
             "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "pipe:0",
             "-f", "lavfi", "-i", "sine=frequency=440",
             "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", str(FPS),
             "-pix_fmt", "yuv420p", "-c:a", "aac", *mux, "-f", container, url],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        assert self.process.stdin is not None
        start = time.monotonic()
        frame = 0
        while not self._stop.is_set():
            time.sleep(max(0.0, start + frame / FPS - time.monotonic()))
            try:
                self.process.stdin.write(barcode(int(time.time() * 1000)))
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError):
                return
            frame += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Segment:
    name: str
    listed: float
    captures: list[float] = field(default_factory=list)


@dataclass
class PlaylistWatch:
    """Notes when each segment is first listed, then reads the capture times of its frames."""

    playlist_url: str
    segments: dict[str, Segment] = field(default_factory=dict)
    unreadable: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self, launched: float) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            response = session.get(self.playlist_url, timeout=5)
            now = time.time()
            if response.status_code == 200:
                for line in response.text.splitlines():
                    if line and not line.startswith("#") and line not in self.segments:
                        self.segments[line] = Segment(line, now)
                        self._read(session, self.segments[line], launched)
            time.sleep(POLL_SECONDS)

    def _read(self, session: requests.Session, segment: Segment, launched: float) -> None:
        body = session.get(urljoin(self.playlist_url, segment.name), timeout=5).content
        decoded = subprocess.run(
            [FFMPEG, "-v", "error", "-f", "mpegts", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
            input=body, capture_output=True, check=False,
        ).stdout  # fmt: skip
        size = WIDTH * HEIGHT
        for start in range(0, len(decoded) - size + 1, size):
            captured = read_barcode(decoded[start : start + size]) / 1000
            if launched - 1 <= captured <= segment.listed:
                segment.captures.append(captured)
            else:
                self.unreadable += 1

    def stop(self) -> None:
        self._stop.set()


def http(stack: Devstack) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = "Basic " + base64.b64encode(f"{stack.api_key}:".encode()).decode()
    return session


@dataclass
class Run:
    to_broadcasting: float
    watch: PlaylistWatch
    launched: float = 0.0
    resumed: float | None = None  # relaunch -> first segment of the new push listed
    relaunched: float | None = None
    stops: list[float] = field(default_factory=list)  # when each push was stopped

    def start_steps(self, timeline_log: Path) -> dict[str, float]:
        """Seconds from the launch to each step of the first push's start (the live plane's log),
        then to `broadcasting`."""
        end = self.relaunched or float("inf")
        for line in timeline_log.read_text().splitlines() if timeline_log.exists() else []:
            marks = {step: value for step, value in json.loads(line).items() if isinstance(value, float)}
            if marks and self.launched <= min(marks.values()) < end:
                return {step: value - self.launched for step, value in marks.items()} | {
                    "broadcasting": self.to_broadcasting
                }
        return {}

    def live_segments(self) -> list[Segment]:
        """Segments listed while their push was on: a push's last one is written when it stops."""
        return [
            s for s in self.watch.segments.values()
            if s.captures and not any(max(s.captures) < stop <= s.listed for stop in self.stops)
        ]  # fmt: skip


def one_run(
    stack: Devstack, api: requests.Session, protocol: str, seconds: float, drop: float, muxdelay: float | None = None
) -> Run:
    stream = api.post(f"{stack.api_url}/live-streams", json={"name": "latency"}, timeout=10).json()
    url = stream["ingest"][protocol]["url"]
    encoder = Encoder(url, protocol, muxdelay)
    watch = PlaylistWatch(stream["assets"]["hls"])
    watcher = threading.Thread(target=watch.run, args=(encoder.launched,), daemon=True)
    watcher.start()
    stops: list[float] = []
    try:
        run = Run(
            _until_broadcasting(stack, api, stream["liveStreamId"], encoder.launched, seconds),
            watch,
            launched=encoder.launched,
            stops=stops,
        )
        time.sleep(max(0.0, seconds - (time.time() - encoder.launched)))
        if drop:
            stops.append(time.time())
            encoder.stop()
            time.sleep(drop)
            encoder = Encoder(url, protocol, muxdelay)
            run.relaunched = encoder.launched
            run.resumed = _until_resumed(watch, encoder.launched)
    finally:
        time.sleep(1.5)  # the last live segment is listed
        stops.append(time.time())
        encoder.stop()
        time.sleep(1.5)
        watch.stop()
        watcher.join(10)
    api.delete(f"{stack.api_url}/live-streams/{stream['liveStreamId']}", timeout=10)
    return run


def _until_broadcasting(
    stack: Devstack, api: requests.Session, live_stream_id: str, launched: float, limit: float
) -> float:
    while not api.get(f"{stack.api_url}/live-streams/{live_stream_id}", timeout=10).json()["broadcasting"]:
        if time.time() - launched > limit:
            raise RuntimeError(f"not broadcasting after {limit} s:\n{stack.log_tail()}")
        time.sleep(POLL_SECONDS)
    return time.time() - launched


def _until_resumed(watch: PlaylistWatch, relaunched: float) -> float | None:
    deadline = time.time() + RESUME_TIMEOUT_SECONDS
    while time.time() < deadline:
        listed = [s.listed for s in list(watch.segments.values()) if s.captures and min(s.captures) >= relaunched]
        if listed:
            return min(listed) - relaunched
        time.sleep(POLL_SECONDS)
    return None


def restream_run(stack: Devstack, api: requests.Session, folder: Path) -> tuple[float | None, float | None]:
    """(broadcasting -> first target's first media, PATCH adding a second target -> its first media)."""
    first, second = RtmpReceiver(folder, "first"), RtmpReceiver(folder, "second")
    targets = [{"name": r.path.stem, "serverUrl": r.server_url, "streamKey": "k"} for r in (first, second)]
    stream = api.post(
        f"{stack.api_url}/live-streams", json={"name": "restream latency", "restreams": targets[:1]}, timeout=10
    ).json()
    encoder = Encoder(stream["ingest"]["rtmp"]["url"], "rtmp")
    try:
        broadcasting = encoder.launched + _until_broadcasting(
            stack, api, stream["liveStreamId"], encoder.launched, RESTREAM_TIMEOUT_SECONDS
        )
        to_first = first.first_media_after(broadcasting, RESTREAM_TIMEOUT_SECONDS)
        patched = time.time()
        api.patch(f"{stack.api_url}/live-streams/{stream['liveStreamId']}", json={"restreams": targets}, timeout=10)
        to_second = second.first_media_after(patched, RESTREAM_TIMEOUT_SECONDS)
    finally:
        encoder.stop()
        api.delete(f"{stack.api_url}/live-streams/{stream['liveStreamId']}", timeout=10)
        first.stop()
        second.stop()
    return to_first, to_second


def restream_main(runs: int) -> int:
    to_first: list[float] = []
    to_second: list[float] = []
    with running_devstack("vp-restream-latency-") as stack, tempfile.TemporaryDirectory() as folder:
        api = http(stack)
        for run in range(1, runs + 1):
            first, second = restream_run(stack, api, Path(folder) / str(run))
            to_first += [first] if first is not None else []
            to_second += [second] if second is not None else []
            shown = [f"{value:.2f} s" if value is not None else "never" for value in (first, second)]
            print(f"run {run}: first target's media {shown[0]} after broadcasting; second's {shown[1]} after its PATCH")
        errors = stack.log_errors()
    print(f"\nRestream relays on the devstack ({runs} runs)")
    print(f"broadcasting -> first target's first media: {percentiles(to_first)}")
    print(f"PATCH adding a target -> its first media: {percentiles(to_second)}")
    print(f"errors in the devstack log: {errors}")
    return 0


def percentiles(values: Sequence[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s (n={len(ordered)})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=12.0, help="push length per run")
    parser.add_argument("--drop", type=float, default=10.0, help="seconds the encoder stops (0: no drop)")
    parser.add_argument("--protocol", choices=["rtmp", "srt"], default="rtmp")
    parser.add_argument("--muxdelay", type=float, help="the encoder's -muxdelay (SRT's MPEG-TS; ffmpeg: 0.7)")
    parser.add_argument("--restream", action="store_true", help="measure restream relays instead")
    args = parser.parse_args(argv)
    if args.restream:
        return restream_main(args.runs)

    broadcasting: list[float] = []
    oldest: list[float] = []
    newest: list[float] = []
    resumed: list[float] = []
    steps: dict[str, list[float]] = {}
    unreadable = 0
    timeline_log = Path(tempfile.mkdtemp(prefix="vp-live-timeline-")) / "timeline.jsonl"
    os.environ["VIDEOPLANE_LIVE_TIMELINE_LOG"] = str(timeline_log)
    with running_devstack("vp-live-latency-") as stack:
        api = http(stack)
        for run in range(1, args.runs + 1):
            result = one_run(stack, api, args.protocol, args.seconds, args.drop, args.muxdelay)
            broadcasting.append(result.to_broadcasting)
            for step, seconds in result.start_steps(timeline_log).items():
                steps.setdefault(step, []).append(seconds)
            segments = result.live_segments()
            oldest += [s.listed - min(s.captures) for s in segments]
            newest += [s.listed - max(s.captures) for s in segments]
            unreadable += result.watch.unreadable
            if result.resumed is not None:
                resumed.append(result.resumed)
            resume = "not resumed" if result.resumed is None else f"resumed {result.resumed:.2f} s after the relaunch"
            print(f"run {run}: broadcasting after {result.to_broadcasting:.2f} s; {len(segments)} live segments; "
                  f"{resume if args.drop else 'no drop'}", flush=True)  # fmt: skip
        errors = stack.log_errors()
    print(f"\nLive latency on the devstack ({args.protocol}, {args.runs} runs of {args.seconds:.0f} s, 1 s segments)")
    print(f"push start -> broadcasting: {percentiles(broadcasting)}  (goal <= {BROADCAST_GOAL:.0f} s)")
    by_median = sorted(steps.items(), key=lambda item: statistics.median(item[1]))
    print("  where it goes (p50 s after the launch): " + ", ".join(
        f"{step} {statistics.median(values):.2f}" for step, values in by_median
    ))  # fmt: skip
    print(f"glass-to-glass, oldest frame of a segment: {percentiles(oldest)}  (goal <= {GLASS_GOAL:.0f} s)")
    print(f"glass-to-glass, newest frame of a segment: {percentiles(newest)}")
    if args.drop:
        print(
            f"{args.drop:.0f} s drop -> first new segment listed: {percentiles(resumed)}  (goal <= {RESUME_GOAL:.0f} s)"
        )
    print(f"frames whose barcode did not read: {unreadable}; errors in the devstack log: {errors}")
    met = max(broadcasting) <= BROADCAST_GOAL and bool(oldest) and max(oldest) <= GLASS_GOAL
    if args.drop:
        met = met and len(resumed) == args.runs and max(resumed) <= RESUME_GOAL
    print("goals met" if met else "goals NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
