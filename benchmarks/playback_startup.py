"""Embed page startup on the devstack: page load -> first frame (`playing`), in headless Chromium.

A generated clip is uploaded with the api.video SDK and waited for until playable; then its
`assets.player` page is opened RUNS times with `#autoplay`, each in a fresh browser context (no
cached page, scripts or segments). The figure is the page's own clock (performance.now(), whose
origin is the navigation start) at the video's first `playing` event: HTML, hls.js, the manifest,
the first segments, decoding.

A second clip is uploaded as a private video (`public: false`) and measured the same way, each run
from a fresh `assets.player` (a new single-use token, read outside the timing: the token exchange
is in the figure). Last, the per-segment cost of the media server's private check: the same
segment fetched SEGMENT_FETCHES times through a playback session (one HMAC) and from the public
video (the privacy lookup, cached), interleaved; the ratio of medians (goal <= 1.1).

    python -m benchmarks.playback_startup [--runs 10] [--seconds 20] [--height 720]

Needs Debian's chromium (apt-get install chromium) and Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import apivideo
import imageio_ffmpeg
import requests
from apivideo.api.videos_api import VideosApi
from apivideo.model.video_creation_payload import VideoCreationPayload

from benchmarks.devstack_process import running_devstack

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
PLAYABLE_TIMEOUT_SECONDS = 300.0
PLAYING_TIMEOUT_MS = 60_000
SEGMENT_FETCHES = 300
# The first `playing` of the page's video, on the page's clock (capture: media events do not bubble).
FIRST_PLAYING = """
window.__firstPlaying = null;
document.addEventListener("playing", () => {
  if (window.__firstPlaying === null) window.__firstPlaying = performance.now();
}, true);
"""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required", "--no-first-run"]


def generate(path: Path, seconds: int, height: int) -> None:
    width = height * 16 // 9
    subprocess.run(
        [FFMPEG, "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast",
         "-g", "60", "-c:a", "aac", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip


def upload_playable(api_url: str, api_key: str, source: Path, public: bool = True) -> str:
    """The id of the uploaded clip, once it is playable (every rendition settled)."""
    client = apivideo.AuthenticatedApiClient(api_key)
    client.configuration.host = api_url
    with client:
        videos = VideosApi(client)
        video = videos.create(VideoCreationPayload(title="startup benchmark", public=public))
        with source.open("rb") as file:
            videos.upload(video.video_id, file)
        deadline = time.monotonic() + PLAYABLE_TIMEOUT_SECONDS
        while True:
            status = videos.get_status(video.video_id)
            qualities = status["encoding"]["qualities"]
            if qualities and all(q["status"] in ("encoded", "failed") for q in qualities):
                return str(video.video_id)
            if time.monotonic() > deadline:
                raise RuntimeError(f"not settled after {PLAYABLE_TIMEOUT_SECONDS:.0f} s: {status}")
            time.sleep(0.5)


def assets(api_url: str, api_key: str, video_id: str) -> dict[str, str]:
    """The video's assets; a private video's carry a new single-use token each time."""
    response = requests.get(f"{api_url}/videos/{video_id}", auth=(api_key, ""), timeout=30)
    response.raise_for_status()
    return dict(response.json()["assets"])


def first_segment(manifest_url: str, session: requests.Session) -> str:
    """The first segment of the manifest's first rendition (following the private HLS redirect)."""
    manifest = session.get(manifest_url, timeout=30)
    manifest.raise_for_status()
    rendition = next(line for line in manifest.text.splitlines() if line and not line.startswith("#"))
    rendition_url = manifest.url.rsplit("/", 1)[0] + "/" + rendition
    playlist = session.get(rendition_url, timeout=30)
    playlist.raise_for_status()
    segment = next(line for line in playlist.text.splitlines() if line and not line.startswith("#"))
    return rendition_url.rsplit("/", 1)[0] + "/" + segment


def segment_costs(public_url: str, private_url: str, fetches: int) -> tuple[float, float]:
    """Median seconds per GET of each segment over one keep-alive connection, interleaved."""
    timings: dict[str, list[float]] = {public_url: [], private_url: []}
    with requests.Session() as session:
        for url in (public_url, private_url):
            session.get(url, timeout=30).raise_for_status()  # warm: connection, privacy cache
        for _ in range(fetches):
            for url in (public_url, private_url):
                started = time.perf_counter()
                response = session.get(url, timeout=30)
                timings[url].append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: {response.status_code}")
    return statistics.median(timings[public_url]), statistics.median(timings[private_url])


def measure(player_url: str | Callable[[], str], runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium is needed: apt-get install chromium")
    startups: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 720})
                page = context.new_page()
                page.add_init_script(FIRST_PLAYING)
                url = player_url() if callable(player_url) else player_url
                page.goto(url + "#autoplay")
                page.wait_for_function("() => window.__firstPlaying !== null", timeout=PLAYING_TIMEOUT_MS)
                startups.append(float(page.evaluate("window.__firstPlaying")))
                context.close()
        finally:
            browser.close()
    return startups


def report(label: str, startups: list[float]) -> None:
    print(f"{label}: page load -> first `playing` over {len(startups)} cold runs (ms): "
          + ", ".join(f"{s:.0f}" for s in startups))  # fmt: skip
    print(f"  p50 {statistics.median(startups):.0f} ms, p95 {percentile(startups, 0.95):.0f} ms, "
          f"min {min(startups):.0f} ms, max {max(startups):.0f} ms")  # fmt: skip


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--segment-fetches", type=int, default=SEGMENT_FETCHES)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vp-startup-") as workdir:
        source = Path(workdir) / "source.mp4"
        generate(source, args.seconds, args.height)
        with running_devstack("vp-startup-stack-") as stack:
            public_id = upload_playable(stack.api_url, stack.api_key, source)
            private_id = upload_playable(stack.api_url, stack.api_key, source, public=False)
            public_assets = assets(stack.api_url, stack.api_key, public_id)
            print(f"player: {public_assets['player']} ({args.seconds} s {args.height}p source, full ladder encoded)")
            report("public", measure(public_assets["player"], args.runs))
            report(
                "private (token exchange included)",
                measure(lambda: assets(stack.api_url, stack.api_key, private_id)["player"], args.runs),
            )
            with requests.Session() as session:
                public_segment = first_segment(public_assets["hls"], session)
                private_segment = first_segment(assets(stack.api_url, stack.api_key, private_id)["hls"], session)
            public_cost, private_cost = segment_costs(public_segment, private_segment, args.segment_fetches)
            print(f"segment GET, median of {args.segment_fetches}: public {public_cost * 1000:.2f} ms, "
                  f"private (session checked) {private_cost * 1000:.2f} ms, "
                  f"ratio {private_cost / public_cost:.3f}")  # fmt: skip
        print(f"devstack: {stack.stop_outcome}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
