"""Time to playable and the ladder's overhead over raw ffmpeg, on the devstack.

A generated 60 s 1080p30 H.264/AAC file is uploaded with the api.video SDK (8 MiB chunks: API
Gateway takes at most 10 MB per request). Measured from the moment the last part is
acknowledged:
- playable: `encoding.playable` is true and `assets.hls` is fetchable (goal <= 2.0 s);
- ladder: every quality encoded or failed. Its ratio to raw ffmpeg (goal <= 1.10) replays the
  exact ffmpeg command lines the media plane ran, with the same parallelism, on local files.

    python -m benchmarks.time_to_playable [--seconds 60] [--height 1080]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import apivideo
import imageio_ffmpeg
from apivideo.api.videos_api import VideosApi
from apivideo.configuration import Configuration
from apivideo.model.video_creation_payload import VideoCreationPayload

from benchmarks.devstack_process import Devstack, running_devstack

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
CHUNK_BYTES = 8 * 1024 * 1024
POLL_SECONDS = 0.05
LADDER_POLL_SECONDS = 1.0
JOB_FOLDER = re.compile(r"^(.*?/mediaplane-\d[^/]*)(/.*)$")
SETTLE_TIMEOUT_SECONDS = 1800.0


def generate(path: Path, seconds: int, height: int) -> float:
    width = height * 16 // 9
    started = time.monotonic()
    subprocess.run(
        [FFMPEG, "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds), "-c:v", "libx264",
         "-preset", "veryfast", "-b:v", "6M", "-g", "60", "-c:a", "aac", "-b:a", "128k", "-pix_fmt", "yuv420p",
         "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return time.monotonic() - started


def get_json(url: str, api_key: str) -> Any:
    request = urllib.request.Request(
        url, headers={"Authorization": "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def fetchable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200 and response.read(7) == b"#EXTM3U"
    except OSError:
        return False


def run_pipeline(stack: Devstack, source: Path) -> dict[str, float]:
    client = apivideo.AuthenticatedApiClient(stack.api_key, configuration=Configuration(chunk_size=CHUNK_BYTES))
    client.configuration.host = stack.api_url
    with client:
        videos = VideosApi(client)
        video_id = videos.create(VideoCreationPayload(title="time to playable"))["video_id"]
        started = time.monotonic()
        with source.open("rb") as file:
            videos.upload(video_id, file)
    acknowledged, acknowledged_wall = time.monotonic(), time.time()
    playable_at = ladder_at = None
    status_url, video_url = f"{stack.api_url}/videos/{video_id}/status", f"{stack.api_url}/videos/{video_id}"
    while time.monotonic() - acknowledged < SETTLE_TIMEOUT_SECONDS:
        status = get_json(status_url, stack.api_key)
        if (
            playable_at is None
            and status["encoding"]["playable"]
            and fetchable(get_json(video_url, stack.api_key)["assets"]["hls"])
        ):
            playable_at = time.monotonic()
        qualities = status["encoding"]["qualities"]
        if qualities and all(q["status"] in ("encoded", "failed") for q in qualities):
            ladder_at = time.monotonic()
            failed = [q for q in qualities if q["status"] == "failed"]
            if failed:
                raise RuntimeError(f"qualities failed: {failed}: {status['encoding'].get('failure')}")
            break
        if status["encoding"].get("failure"):
            raise RuntimeError(status["encoding"]["failure"])
        # Poll fast until playable (that is what is timed), then gently: every status request
        # costs the devstack CPU that the encoders would otherwise have.
        time.sleep(POLL_SECONDS if playable_at is None else LADDER_POLL_SECONDS)
    if playable_at is None or ladder_at is None:
        raise RuntimeError("the video did not settle in time")
    return {
        "acknowledged_wall": acknowledged_wall,
        "upload": acknowledged - started,
        "playable": playable_at - acknowledged,
        "ladder": ladder_at - acknowledged,
        "qualities": float(len(qualities)),
    }


def stages(log: Path, acknowledged_wall: float) -> list[tuple[float, str]]:
    """First time of each pipeline stage the app logged, in seconds after the last part's ack."""
    seen: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines():
        if '"pipeline stage"' not in line:
            continue
        record = json.loads(line)
        at = datetime.strptime(record["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
        seen.setdefault(record["stage"], at - acknowledged_wall)
    return sorted((offset, name) for name, offset in seen.items())


def replay(commands: list[dict[str, Any]], source: Path, workers: int) -> float:
    """The media plane's ffmpeg runs on local files, `workers` at a time, in the same order."""
    root = Path(tempfile.mkdtemp(prefix="vp-raw-ladder-"))
    try:
        prepared = []
        for index, record in enumerate(sorted(commands, key=lambda r: r["startedAt"])):
            target = root / str(index)
            argv = []
            for original in record["argv"]:
                job_path = JOB_FOLDER.match(original)
                if original == record["source"]:
                    arg = str(source)
                elif job_path is not None:
                    # Outputs go to the job's temporary folder (mediaplane-<job id>-...).
                    arg = str(target) + job_path.group(2)
                    Path(arg).parent.mkdir(parents=True, exist_ok=True)
                else:
                    arg = original
                argv.append(arg)
            prepared.append(argv)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda argv: subprocess.run(argv, capture_output=True, check=False), prepared))
        elapsed = time.monotonic() - started
        for argv, result in zip(prepared, results, strict=True):
            if result.returncode != 0:
                raise RuntimeError(f"replayed ffmpeg failed: {' '.join(argv)}\n{result.stderr.decode()[-2000:]}")
        return elapsed
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--height", type=int, default=1080)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vp-ttp-") as workdir:
        source = Path(workdir) / "source.mp4"
        generation = generate(source, args.seconds, args.height)
        size_mib = source.stat().st_size / 1024 / 1024
        print(
            f"source: {args.seconds} s {args.height}p30 H.264/AAC, {size_mib:.1f} MiB (generated in {generation:.1f} s)"
        )
        with running_devstack("vp-ttp-stack-") as stack:
            figures = run_pipeline(stack, source)
            commands = [json.loads(line) for line in stack.command_log.read_text().splitlines()]
            timeline = stages(stack.log_file, figures["acknowledged_wall"])
        ladder = f"full ladder ({int(figures['qualities'])} qualities)"
        print(f"upload ({CHUNK_BYTES // 1024 // 1024} MiB chunks): {figures['upload']:.2f} s")
        print(f"last part acknowledged -> playable with master fetchable: {figures['playable']:.2f} s (goal <= 2.0)")
        print(f"last part acknowledged -> {ladder}: {figures['ladder']:.2f} s")
        print("stages after the last part's acknowledgment (s):")
        for offset, name in timeline:
            print(f"  {offset:8.2f}  {name}")
        sys.stdout.flush()
        workers = os.cpu_count() or 1
        raw = replay(commands, source, workers)
        plane_seconds = sum(float(c["seconds"]) for c in commands)
        print(f"raw ffmpeg, same {len(commands)} command lines, {workers} at a time: {raw:.2f} s")
        print(f"  (the plane's own ffmpeg runs add up to {plane_seconds:.2f} s)")
        print(f"ratio pipeline / raw ffmpeg: {figures['ladder'] / raw:.3f} (goal <= 1.10)")
        print(f"devstack: {stack.stop_outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
