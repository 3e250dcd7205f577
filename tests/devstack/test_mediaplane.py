"""The ffmpeg media plane, driven like MediaConvert: boto3's mediaconvert client and the app's own requests.

Every job is submitted up front and runs concurrently (the plane's worker pool), so the module costs
roughly the slowest few jobs, not their sum."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chalicelib.vod.adapters.mediaconvert import MediaConvertEncoder, build_create_job_request
from chalicelib.vod.domain.encoding import (
    EncodingJob,
    JobKind,
    Rendition,
    SourceUnreadable,
    WatermarkPlacement,
    renditions_for,
)
from devstack import mediatools
from devstack.mediaplane import MediaPlane
from tests.devstack.media_fixtures import MEDIA_BUCKET, UPLOADS_BUCKET, Aws, make_inputs, start_aws

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/videoplane-mediaconvert"
LOWEST = Rendition(quality="240p", width=426, height=240, max_bitrate=400_000, qvbr_level=7, audio_bitrate=64_000)


@dataclass(frozen=True)
class Plane:
    aws: Aws
    mediaconvert: Any
    encoder: MediaConvertEncoder
    plane: MediaPlane


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plane]:
    inputs = make_inputs(tmp_path_factory.mktemp("inputs"))
    for aws in start_aws():
        for name, path in inputs.items():
            aws.s3.upload_file(str(path), UPLOADS_BUCKET, f"sources/{name}")
        media_plane = MediaPlane(aws.s3, aws.events, workers=2)
        endpoint = media_plane.start()
        mediaconvert = aws.client("mediaconvert", endpoint)
        try:
            yield Plane(aws, mediaconvert, MediaConvertEncoder(mediaconvert, ROLE), media_plane)
        finally:
            media_plane.stop()


def job(name: str, kind: JobKind, **extra: Any) -> EncodingJob:
    return EncodingJob(
        project_id="pr1",
        video_id=f"vi-{name}",
        kind=kind,
        source_url=f"s3://{UPLOADS_BUCKET}/sources/{extra.pop('source', name)}",
        destination_prefix=f"s3://{MEDIA_BUCKET}/vod/vi-{name}/",
        idempotency_token=str(uuid.uuid4()),
        **extra,
    )


JOBS = {
    "remux": job("remux", JobKind.REMUX, source="h264"),
    "rendition": job("rendition", JobKind.RENDITION, source="h264", quality="240p", rendition=LOWEST),
    "clip": job(
        "clip",
        JobKind.RENDITION,
        source="h264",
        quality="240p",
        rendition=LOWEST,
        clip_start=1.0,
        clip_end=3.0,
        framerate=25.0,
        watermark=WatermarkPlacement(
            image_url=f"s3://{UPLOADS_BUCKET}/sources/watermark", top="10px", right="10px", opacity="50%"
        ),
    ),
    "mp4": job("mp4", JobKind.MP4, source="odd", audio=False),
    "thumbnail": job("thumbnail", JobKind.THUMBNAIL, source="h264", thumbnail_at=1.0),
    "rotated": job("rotated", JobKind.MP4, source="rotated"),
    "opus": job("opus", JobKind.RENDITION, source="opus", quality="240p", rendition=LOWEST),
    "audio_only": job("audio_only", JobKind.RENDITION, source="audio_only", quality="240p", rendition=LOWEST),
    "corrupt": job("corrupt", JobKind.REMUX, source="corrupt"),
    "truncated": job("truncated", JobKind.RENDITION, source="truncated", quality="240p", rendition=LOWEST),
}


@pytest.fixture(scope="module")
def finished(plane: Plane) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """Every job run to its end: name -> (job id, its events' details in arrival order)."""
    ids = {name: plane.encoder.submit(encoding_job) for name, encoding_job in JOBS.items()}
    assert plane.plane.wait_idle(90), "the plane did not finish its jobs in time"
    details = drain(plane.aws, expected_ends=len(ids))
    by_job: dict[str, list[dict[str, Any]]] = {}
    for detail in details:
        by_job.setdefault(detail["jobId"], []).append(detail)
    return {name: (job_id, by_job.get(job_id, [])) for name, job_id in ids.items()}


def drain(aws: Aws, expected_ends: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    details: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = aws.sqs.receive_message(QueueUrl=aws.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in messages.get("Messages", []):
            details.append(json.loads(message["Body"])["detail"])
            aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=message["ReceiptHandle"])
        if sum(detail["status"] in ("COMPLETE", "ERROR") for detail in details) >= expected_ends:
            return details
    return details


def download(aws: Aws, url: str, folder: Path) -> Path:
    key = url.removeprefix(f"s3://{MEDIA_BUCKET}/")
    target = folder / Path(key).name
    aws.s3.download_file(MEDIA_BUCKET, key, str(target))
    return target


def decode(path: Path) -> mediatools.MediaInfo:
    """Decodes every frame (errors fail the test), then reads the stream info."""
    completed = subprocess.run(
        [mediatools.ffmpeg(), "-hide_banner", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.strip() == ""
    return mediatools.inspect(path)


def complete(finished: dict[str, tuple[str, list[dict[str, Any]]]], name: str) -> dict[str, Any]:
    _, details = finished[name]
    statuses = [detail["status"] for detail in details]
    assert statuses[0] == "PROGRESSING", statuses
    assert statuses[-1] == "COMPLETE", details[-1]
    assert "STATUS_UPDATE" in statuses
    assert all(status == "STATUS_UPDATE" for status in statuses[1:-1])
    return details[-1]


def hls_download(aws: Aws, detail: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """The master and child playlists plus every segment, side by side as on S3."""
    group = detail["outputGroupDetails"][0]
    master = download(aws, group["playlistFilePaths"][0], folder)
    child = download(aws, group["outputDetails"][0]["outputFilePaths"][0], folder)
    prefix = group["playlistFilePaths"][0].removeprefix(f"s3://{MEDIA_BUCKET}/").rpartition("/")[0]
    for item in aws.s3.list_objects_v2(Bucket=MEDIA_BUCKET, Prefix=f"{prefix}/")["Contents"]:
        if item["Key"].endswith(".ts"):
            download(aws, f"s3://{MEDIA_BUCKET}/{item['Key']}", folder)
    return master, child


def test_probe(plane: Plane) -> None:
    h264 = plane.encoder.probe(f"s3://{UPLOADS_BUCKET}/sources/h264")
    assert (h264.container, h264.video_codec, h264.audio_codec, h264.width, h264.height) == (
        "mp4",
        "h264",
        "aac",
        640,
        360,
    )
    assert h264.duration == pytest.approx(4.0, abs=0.1)
    assert (h264.framerate, h264.samplerate, h264.remuxable) == (25.0, 48000, True)
    rotated = plane.encoder.probe(f"s3://{UPLOADS_BUCKET}/sources/rotated")
    assert (rotated.rotation, rotated.display_width, rotated.display_height) == (270, 360, 640)
    assert [rung.quality for rung in renditions_for(rotated)] == ["240p", "360p"]
    audio = plane.encoder.probe(f"s3://{UPLOADS_BUCKET}/sources/audio_only")
    assert (audio.has_video, audio.audio_codec) == (False, "aac")


@pytest.mark.parametrize(
    ("name", "reason"),
    [("corrupt", "Invalid data found when processing input"), ("truncated", "moov atom not found")],
)
def test_probe_refuses_unreadable_sources(plane: Plane, name: str, reason: str) -> None:
    with pytest.raises(SourceUnreadable) as raised:
        plane.encoder.probe(f"s3://{UPLOADS_BUCKET}/sources/{name}")
    assert raised.value.code == "BadRequestException"
    assert reason in raised.value.reason
    assert "could not be read as media" in raised.value.reason


def test_remux_is_playable_hls(plane: Plane, finished: Any, tmp_path: Path) -> None:
    detail = complete(finished, "remux")
    group = detail["outputGroupDetails"][0]
    assert group["type"] == "HLS_GROUP"
    assert group["playlistFilePaths"] == [f"s3://{MEDIA_BUCKET}/vod/vi-remux/hls/source/index.m3u8"]
    assert group["outputDetails"][0]["outputFilePaths"] == [
        f"s3://{MEDIA_BUCKET}/vod/vi-remux/hls/source/index_source.m3u8"
    ]
    master, child = hls_download(plane.aws, detail, tmp_path)
    assert "#EXT-X-STREAM-INF:" in master.read_text()
    assert 'CODECS="avc1.' in master.read_text()
    assert "index_source_00001.ts" in child.read_text()
    info = decode(master)
    assert info.video is not None
    assert info.audio is not None
    assert (info.video.width, info.video.height) == (640, 360)
    head = plane.aws.s3.head_object(Bucket=MEDIA_BUCKET, Key="vod/vi-remux/hls/source/index_source_00001.ts")
    assert head["ContentType"] == "video/mp2t"
    head = plane.aws.s3.head_object(Bucket=MEDIA_BUCKET, Key="vod/vi-remux/hls/source/index.m3u8")
    assert head["ContentType"] == "application/vnd.apple.mpegurl"


def test_rendition_is_scaled_and_segmented(plane: Plane, finished: Any, tmp_path: Path) -> None:
    detail = complete(finished, "rendition")
    output = detail["outputGroupDetails"][0]["outputDetails"][0]
    assert output["outputFilePaths"] == [f"s3://{MEDIA_BUCKET}/vod/vi-rendition/hls/240p/index_240p.m3u8"]
    assert output["videoDetails"] == {"widthInPx": 426, "heightInPx": 240}
    assert output["durationInMs"] == pytest.approx(4000, abs=200)
    master, child = hls_download(plane.aws, detail, tmp_path)
    assert "RESOLUTION=426x240" in master.read_text()
    assert child.read_text().count("#EXTINF:") == 2  # 4 s in 3 s segments
    info = decode(master)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (426, 240)


def test_clip_shortens_and_watermark_encodes(plane: Plane, finished: Any, tmp_path: Path) -> None:
    detail = complete(finished, "clip")
    output = detail["outputGroupDetails"][0]["outputDetails"][0]
    assert output["durationInMs"] == pytest.approx(2000, abs=200)
    master, _ = hls_download(plane.aws, detail, tmp_path)
    info = decode(master)
    assert info.duration == pytest.approx(2.0, abs=0.2)


def test_mp4_from_an_odd_sized_source_without_audio(plane: Plane, finished: Any, tmp_path: Path) -> None:
    detail = complete(finished, "mp4")
    group = detail["outputGroupDetails"][0]
    assert group["type"] == "FILE_GROUP"
    url = group["outputDetails"][0]["outputFilePaths"][0]
    assert url == f"s3://{MEDIA_BUCKET}/vod/vi-mp4/mp4/source.mp4"
    info = decode(download(plane.aws, url, tmp_path))
    assert info.video is not None
    assert (info.video.width, info.video.height, info.audio) == (320, 240, None)
    head = plane.aws.s3.head_object(Bucket=MEDIA_BUCKET, Key="vod/vi-mp4/mp4/source.mp4")
    assert head["ContentType"] == "video/mp4"


def test_rotated_source_comes_out_upright(plane: Plane, finished: Any, tmp_path: Path) -> None:
    detail = complete(finished, "rotated")
    output = detail["outputGroupDetails"][0]["outputDetails"][0]
    assert output["videoDetails"] == {"widthInPx": 360, "heightInPx": 640}
    info = decode(download(plane.aws, output["outputFilePaths"][0], tmp_path))
    assert info.video is not None
    assert (info.video.width, info.video.height, info.video.rotation) == (360, 640, 0)


def test_opus_audio_is_encoded_to_aac(plane: Plane, finished: Any, tmp_path: Path) -> None:
    master, _ = hls_download(plane.aws, complete(finished, "opus"), tmp_path)
    info = decode(master)
    assert info.audio is not None
    assert info.audio.codec == "aac"


def test_thumbnail_is_a_jpeg(plane: Plane, finished: Any) -> None:
    detail = complete(finished, "thumbnail")
    url = detail["outputGroupDetails"][0]["outputDetails"][0]["outputFilePaths"][0]
    assert url == f"s3://{MEDIA_BUCKET}/vod/vi-thumbnail/thumbnail.0000000.jpg"
    obj = plane.aws.s3.get_object(Bucket=MEDIA_BUCKET, Key="vod/vi-thumbnail/thumbnail.0000000.jpg")
    assert obj["ContentType"] == "image/jpeg"
    assert obj["Body"].read()[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("audio_only", 1010, "The input has no video track"),
        ("corrupt", 1010, "The input could not be read as media: Invalid data found when processing input"),
        ("truncated", 1010, "The input could not be read as media: moov atom not found"),
    ],
)
def test_bad_inputs_end_in_error(finished: Any, name: str, code: int, message: str) -> None:
    _, details = finished[name]
    assert [detail["status"] for detail in details] == ["PROGRESSING", "ERROR"]
    assert (details[-1]["errorCode"], details[-1]["errorMessage"]) == (code, message)
    assert details[-1]["userMetadata"]["videoId"] == f"vi-{name}"


def test_get_job_and_event_envelope_fields(plane: Plane, finished: Any) -> None:
    job_id, details = finished["rendition"]
    job = plane.mediaconvert.get_job(Id=job_id)["Job"]
    assert (job["Status"], job["JobPercentComplete"], job["UserMetadata"]["quality"]) == ("COMPLETE", 100, "240p")
    assert job["OutputGroupDetails"][0]["OutputDetails"][0]["VideoDetails"] == {"WidthInPx": 426, "HeightInPx": 240}
    error = plane.mediaconvert.get_job(Id=finished["corrupt"][0])["Job"]
    assert (error["Status"], error["ErrorCode"]) == ("ERROR", 1010)
    assert {"timestamp", "accountId", "queue", "jobId", "userMetadata"} <= set(details[0])


def test_client_request_token_returns_the_original_job(plane: Plane, finished: Any) -> None:
    request = build_create_job_request(JOBS["thumbnail"].model_copy(update={"idempotency_token": "same"}), ROLE)
    first = plane.mediaconvert.create_job(**request)["Job"]
    again = plane.mediaconvert.create_job(**request)["Job"]
    assert first["Id"] == again["Id"]
    assert plane.plane.wait_idle(30)


def test_unknown_job_is_not_found(plane: Plane) -> None:
    with pytest.raises(plane.mediaconvert.exceptions.NotFoundException):
        plane.mediaconvert.get_job(Id="nope")
