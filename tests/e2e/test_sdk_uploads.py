"""The api.video SDK uploads real files to the running devstack four ways; each video becomes
playable through the ffmpeg media plane, its assets decode, and signed
`video.encoding.quality.completed` webhooks arrive (issue 3 and issue 4's done-when)."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apivideo
import imageio_ffmpeg
import pytest
from apivideo.api.upload_tokens_api import UploadTokensApi
from apivideo.api.videos_api import VideosApi
from apivideo.api.webhooks_api import WebhooksApi
from apivideo.api_client import ApiClient
from apivideo.configuration import Configuration
from apivideo.model.token_creation_payload import TokenCreationPayload
from apivideo.model.video_creation_payload import VideoCreationPayload
from apivideo.model.webhooks_creation_payload import WebhooksCreationPayload

from .receivers import Receiver, verify_both_ways
from .support import Api, Devstack, Tenant

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
MIB = 1024 * 1024
SETTLE_SECONDS = 120


def generate(path: Path, seconds: int, noise: int, quality: int) -> Path:
    """H.264/AAC test pattern; noise and QP set the size (the chunked upload needs > 10 MiB)."""
    subprocess.run(
        [FFMPEG, "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size=640x360:rate=30,noise=alls={noise}:allf=t", "-f", "lavfi", "-i", "sine=frequency=440",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-qp", str(quality), "-c:a", "aac",
         "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("media") / "small.mp4", seconds=3, noise=0, quality=30)


@pytest.fixture(scope="module")
def large_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clip = generate(tmp_path_factory.mktemp("media") / "large.mp4", seconds=3, noise=40, quality=24)
    assert clip.stat().st_size > 2 * 5 * MIB
    return clip


def settled(videos: VideosApi, video_id: str) -> Any:
    """Waits until playable and every quality is encoded or failed."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        status = videos.get_status(video_id)
        qualities = status["encoding"]["qualities"]
        if (
            status["encoding"]["playable"]
            and qualities
            and all(q["status"] in ("encoded", "failed") for q in qualities)
        ):
            return status
        time.sleep(0.5)
    raise AssertionError(f"video {video_id} did not settle: {videos.get_status(video_id)}")


def decodes(url: str) -> str:
    """ffmpeg reads the whole asset over HTTP; returns its description of the input."""
    result = subprocess.run(
        [FFMPEG, "-hide_banner", "-v", "error", "-i", url, "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    probe = subprocess.run([FFMPEG, "-hide_banner", "-i", url], capture_output=True, text=True, check=False)
    return probe.stderr


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        data: bytes = response.read()
        return data


def test_single_request_upload_plays_everywhere(sdk: Any, small_clip: Path, receiver: Callable[..., Receiver]) -> None:
    hook = receiver()
    webhooks = WebhooksApi(sdk)
    created = webhooks.create(WebhooksCreationPayload(events=["video.encoding.quality.completed"], url=hook.url))
    videos = VideosApi(sdk)
    try:
        video = videos.create(VideoCreationPayload(title="single part"))
        with small_clip.open("rb") as file:
            uploaded = videos.upload(video["video_id"], file)
        assert uploaded["video_id"] == video["video_id"]
        status = settled(videos, video["video_id"])
        assert status["ingest"]["status"] == "uploaded" and status["ingest"]["filesize"] == small_clip.stat().st_size
        metadata = status["encoding"]["metadata"]
        assert (metadata["width"], metadata["height"]) == (640, 360) and metadata["video_codec"] == "h264"
        qualities = {(q["type"], q["quality"]): q["status"] for q in status["encoding"]["qualities"]}
        assert qualities == {("hls", "240p"): "encoded", ("hls", "360p"): "encoded", ("mp4", "360p"): "encoded"}

        assets = videos.get(video["video_id"])["assets"]
        master = fetch(assets["hls"]).decode()
        assert master.startswith("#EXTM3U") and "RESOLUTION=426x240" in master and "RESOLUTION=640x360" in master
        assert "Video: h264" in decodes(assets["hls"])
        described = decodes(assets["mp4"])
        assert "Video: h264" in described and "640x360" in described
        assert fetch(assets["thumbnail"])[:3] == b"\xff\xd8\xff"

        # One signed delivery per encoded quality (two HLS renditions and the MP4).
        deliveries = hook.wait_for(3, seconds=30)
        payloads = [verify_both_ways(created["signature_secret"], created["webhook_id"], d) for d in deliveries]
        assert {(p["encoding"], p["quality"]) for p in payloads if p["videoId"] == video["video_id"]} == {
            ("hls", "240p"),
            ("hls", "360p"),
            ("mp4", "360p"),
        }
    finally:
        webhooks.delete(created["webhook_id"])


def test_five_mib_chunks_upload(devstack: Devstack, large_clip: Path) -> None:
    client = apivideo.AuthenticatedApiClient(devstack.dev_api_key, configuration=Configuration(chunk_size=5 * MIB))
    client.configuration.host = devstack.api_url
    with client:
        videos = VideosApi(client)
        video = videos.create(VideoCreationPayload(title="chunked"))
        with large_clip.open("rb") as file:
            videos.upload(video["video_id"], file)
        status = settled(videos, video["video_id"])
        assert status["ingest"]["filesize"] == large_clip.stat().st_size
        assert status["ingest"]["received_parts"]["parts"] == [1, 2, 3]
        assert status["ingest"]["received_parts"]["total"] == 3


def test_progressive_upload(sdk: Any, large_clip: Path, tmp_path: Path) -> None:
    data = large_clip.read_bytes()
    first, rest = tmp_path / "first.part", tmp_path / "rest.part"
    first.write_bytes(data[: 5 * MIB])
    rest.write_bytes(data[5 * MIB :])
    videos = VideosApi(sdk)
    video = videos.create(VideoCreationPayload(title="progressive"))
    session = videos.create_upload_progressive_session(video["video_id"])
    with first.open("rb") as part:
        assert session.uploadPart(part)["video_id"] == video["video_id"]
    with rest.open("rb") as part:
        session.uploadLastPart(part)
    status = settled(videos, video["video_id"])
    assert status["ingest"]["received_parts"]["total"] == 2


def test_upload_token_upload(sdk: Any, devstack: Devstack, small_clip: Path) -> None:
    token = UploadTokensApi(sdk).create_token(TokenCreationPayload(ttl=600))["token"]
    with ApiClient(Configuration(host=devstack.api_url)) as anonymous, small_clip.open("rb") as file:
        video = VideosApi(anonymous).upload_with_upload_token(token, file)
    settled(VideosApi(sdk), video["video_id"])


def test_a_broken_file_ends_failed(api: Api, project_a: Tenant, sdk: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    videos = VideosApi(sdk)
    video = videos.create(VideoCreationPayload(title="broken"))
    with broken.open("rb") as file:
        videos.upload(video["video_id"], file)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = api.ok("GET", f"/videos/{video['video_id']}/status", project_a.api_key)
        if status["encoding"].get("failure"):
            break
        time.sleep(0.5)
    assert "could not be read" in status["encoding"]["failure"]
    assert status["encoding"]["playable"] is False and status["ingest"]["status"] == "uploaded"
