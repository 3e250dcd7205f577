"""The pipeline after the source lands, on in-process moto with a recording encoder in place of
MediaConvert: job planning, out-of-order and duplicate job events, the events each state
change writes, the multivariant playlist and its subtitles, thumbnails."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.vod import wiring as vod_wiring
from chalicelib.vod.adapters.mediaconvert import build_create_job_request, job_state_from_event
from chalicelib.vod.domain.encoding import EncodingJob, JobKind, JobState, SourceMetadata, SourceUnreadable
from chalicelib.vod.services.pipeline import PipelineService
from tests.integration.conftest import ApiClient

H264_1080 = SourceMetadata(container="mp4", duration=12.0, width=1920, height=1080, bitrate=6_000_000,
                           framerate=30.0, samplerate=48000, video_codec="h264", audio_codec="aac")  # fmt: skip


class RecordingEncoder:
    """Answers Probe with a fixed result and remembers CreateJob requests (built for real, so a
    malformed job fails here as it would on MediaConvert)."""

    def __init__(self, metadata: SourceMetadata | None = H264_1080) -> None:
        self.metadata = metadata
        self.jobs: list[EncodingJob] = []

    def probe(self, source_url: str) -> SourceMetadata:
        if self.metadata is None:
            raise SourceUnreadable("BadRequestException", "moov atom not found")
        return self.metadata

    def submit(self, job: EncodingJob) -> str:
        build_create_job_request(job, "arn:aws:iam::123456789012:role/videoplane-mediaconvert")
        self.jobs.append(job)
        return f"job-{len(self.jobs)}"

    def job_state(self, event: dict[str, Any]) -> JobState | None:
        return job_state_from_event(event)


@pytest.fixture
def encoder() -> RecordingEncoder:
    return RecordingEncoder()


@pytest.fixture
def pipeline(tenant: ApiClient, encoder: RecordingEncoder) -> Iterator[PipelineService]:
    service = vod_wiring.pipeline_service()
    service.encoder = encoder
    yield service


def uploaded(tenant: ApiClient, data: bytes = b"source bytes") -> tuple[str, str]:
    video_id = str(tenant.call("POST", "/videos", {"title": "pipeline"}).json_body["videoId"])
    key = f"{resources.SOURCES_PREFIX}{tenant.project_id}/{video_id}"
    boto3.client("s3").put_object(Bucket=os.environ[resources.UPLOADS_BUCKET.env], Key=key, Body=data)
    return video_id, key


def job_event(job: EncodingJob, status: str, job_id: str = "job", **detail: Any) -> dict[str, Any]:
    metadata = {"app": "videoplane", "projectId": job.project_id, "videoId": job.video_id, "kind": job.kind.value}
    if job.quality:
        metadata["quality"] = job.quality
    return {"detail-type": "MediaConvert Job State Change", "source": "aws.mediaconvert",
            "detail": {"status": status, "jobId": job_id, "userMetadata": metadata, **detail}}  # fmt: skip


def completed(job: EncodingJob, job_id: str = "job") -> dict[str, Any]:
    bucket = os.environ[resources.MEDIA_BUCKET.env]
    prefix = f"s3://{bucket}/vod/{job.video_id}/"
    if job.kind in (JobKind.REMUX, JobKind.RENDITION):
        folder = "source" if job.kind is JobKind.REMUX else job.quality
        name = "source" if job.kind is JobKind.REMUX else job.quality
        group = {"type": "HLS_GROUP", "playlistFilePaths": [f"{prefix}hls/{folder}/index.m3u8"],
                 "outputDetails": [{"outputFilePaths": [f"{prefix}hls/{folder}/index_{name}.m3u8"]}]}  # fmt: skip
    elif job.kind is JobKind.MP4:
        group = {"type": "FILE_GROUP", "outputDetails": [{"outputFilePaths": [f"{prefix}mp4/source.mp4"]}]}
    else:
        key = f"vod/{job.video_id}/thumbnail.0000000.jpg"
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xff frame")
        group = {"type": "FILE_GROUP", "outputDetails": [{"outputFilePaths": [f"s3://{bucket}/{key}"]}]}
    return job_event(job, "COMPLETE", job_id, outputGroupDetails=[group])


def outbox(tenant: ApiClient) -> list[dict[str, Any]]:
    return [item for item in core_wiring.table().query(f"P#{tenant.project_id}#OUTBOX")]


def types(tenant: ApiClient) -> list[str]:
    return [str(item["eventType"]) for item in outbox(tenant)]


def media_text(key: str) -> str:
    body = boto3.client("s3").get_object(Bucket=os.environ[resources.MEDIA_BUCKET.env], Key=key)["Body"]
    return str(body.read().decode())


def test_ingest_plans_remux_thumbnail_ladder_and_mp4_once(
    pipeline: PipelineService, encoder: RecordingEncoder, tenant: ApiClient
) -> None:
    video_id, key = uploaded(tenant)
    pipeline.ingest(tenant.project_id, video_id, key)
    pipeline.ingest(tenant.project_id, video_id, key)  # S3 notifies twice (moto does for multipart)
    kinds = [(job.kind.value, job.quality) for job in encoder.jobs]
    ladder = [("rendition", q) for q in ("240p", "360p", "480p", "720p", "1080p")]
    assert kinds == [("remux", None), ("thumbnail", None), *ladder, ("mp4", "1080p")]
    assert len({job.idempotency_token for job in encoder.jobs}) == len(encoder.jobs)
    status = tenant.call("GET", f"/videos/{video_id}/status").json_body
    assert status["encoding"]["metadata"] == {"width": 1920, "height": 1080, "bitrate": 6000.0, "duration": 12,
                                              "framerate": 30, "samplerate": 48000, "videoCodec": "h264",
                                              "audioCodec": "aac", "aspectRatio": "16/9"}  # fmt: skip
    assert [q["status"] for q in status["encoding"]["qualities"]] == ["waiting"] * 6


def test_job_events_in_any_order_write_each_event_once(
    pipeline: PipelineService, encoder: RecordingEncoder, tenant: ApiClient
) -> None:
    video_id, key = uploaded(tenant)
    pipeline.ingest(tenant.project_id, video_id, key)
    by_kind = {(job.kind, job.quality): job for job in encoder.jobs}
    rendition_240 = by_kind[(JobKind.RENDITION, "240p")]
    # COMPLETE before PROGRESSING, and twice: the quality ends encoded with one event.
    pipeline.on_job_event(completed(rendition_240))
    pipeline.on_job_event(job_event(rendition_240, "PROGRESSING"))
    pipeline.on_job_event(completed(rendition_240))
    assert types(tenant).count("video.encoding.quality.completed") == 1
    assert types(tenant).count("video.playable") == 1
    status = tenant.call("GET", f"/videos/{video_id}/status").json_body
    assert status["encoding"]["playable"] is True
    assert {"type": "hls", "quality": "240p", "status": "encoded"} in status["encoding"]["qualities"]

    master = media_text(f"vod/{video_id}/hls/manifest.m3u8")
    assert master.startswith("#EXTM3U") and "RESOLUTION=426x240" in master and "240p/index_240p.m3u8" in master

    for job in encoder.jobs:
        if job.kind in (JobKind.RENDITION, JobKind.MP4) and job.quality != "240p":
            pipeline.on_job_event(job_event(job, "STATUS_UPDATE", jobProgress={"jobPercentComplete": 50}))
    pipeline.on_job_event(job_event(by_kind[(JobKind.RENDITION, "1080p")], "ERROR", errorCode=1030,
                                    errorMessage="The input could not be decoded"))  # fmt: skip
    for job in encoder.jobs:
        if job.kind in (JobKind.RENDITION, JobKind.MP4) and job.quality not in ("240p", "1080p"):
            pipeline.on_job_event(completed(job))
    mp4 = by_kind[(JobKind.MP4, "1080p")]
    pipeline.on_job_event(completed(mp4))
    events = types(tenant)
    assert events.count("video.encoding.quality.completed") == 5  # four HLS rungs and the MP4
    assert events.count("video.ready") == 1 and "video.encoding.failed" not in events
    # The usage counters' minutes encoded: the 12 s source once per encoded output (the HLS rungs and the MP4).
    (ready,) = [json.loads(i["payload"]) for i in outbox(tenant) if i["eventType"] == "video.ready"]
    assert ready["encodedSeconds"] == 12.0 * (events.count("video.encoding.quality.completed"))
    qualities = {(q["type"], q["quality"]): q["status"] for q in
                 tenant.call("GET", f"/videos/{video_id}/status").json_body["encoding"]["qualities"]}  # fmt: skip
    assert qualities[("hls", "1080p")] == "failed" and qualities[("mp4", "1080p")] == "encoded"
    master = media_text(f"vod/{video_id}/hls/manifest.m3u8")
    assert [line for line in master.splitlines() if line.endswith(".m3u8")] == [
        "240p/index_240p.m3u8",
        "360p/index_360p.m3u8",
        "480p/index_480p.m3u8",
        "720p/index_720p.m3u8",
    ]
    assets = tenant.call("GET", f"/videos/{video_id}").json_body["assets"]
    assert assets["hls"].endswith(f"/vod/{video_id}/hls/manifest.m3u8")
    assert assets["mp4"].endswith(f"/vod/{video_id}/mp4/source.mp4")


def test_remux_makes_the_video_playable_before_the_ladder(
    pipeline: PipelineService, encoder: RecordingEncoder, tenant: ApiClient
) -> None:
    video_id, key = uploaded(tenant)
    pipeline.ingest(tenant.project_id, video_id, key)
    pipeline.on_job_event(completed(encoder.jobs[0]))
    master = media_text(f"vod/{video_id}/hls/manifest.m3u8")
    assert "source/index_source.m3u8" in master and "RESOLUTION=1920x1080" in master
    assert types(tenant).count("video.playable") == 1
    assert tenant.call("GET", f"/videos/{video_id}/status").json_body["encoding"]["playable"] is True


def test_every_rendition_failing_fails_the_video(
    pipeline: PipelineService, encoder: RecordingEncoder, tenant: ApiClient
) -> None:
    video_id, key = uploaded(tenant)
    pipeline.ingest(tenant.project_id, video_id, key)
    for job in encoder.jobs:
        if job.kind in (JobKind.RENDITION, JobKind.MP4):
            pipeline.on_job_event(job_event(job, "ERROR", errorCode=1010, errorMessage="Broken frames"))
    assert types(tenant).count("video.encoding.failed") == 1 and "video.ready" not in types(tenant)
    assert "Broken frames" in tenant.call("GET", f"/videos/{video_id}/status").json_body["encoding"]["failure"]


def test_an_unreadable_source_fails_with_its_reason(pipeline: PipelineService, tenant: ApiClient) -> None:
    pipeline.encoder = RecordingEncoder(metadata=None)
    video_id, key = uploaded(tenant)
    pipeline.ingest(tenant.project_id, video_id, key)
    failed = [item for item in outbox(tenant) if item["eventType"] == "video.encoding.failed"]
    assert len(failed) == 1 and "moov atom not found" in failed[0]["payload"]


def test_audio_only_sources_are_refused(pipeline: PipelineService, tenant: ApiClient) -> None:
    pipeline.encoder = RecordingEncoder(SourceMetadata(duration=5.0, audio_codec="aac", samplerate=44100))
    video_id, key = uploaded(tenant)
    pipeline.ingest(tenant.project_id, video_id, key)
    status = tenant.call("GET", f"/videos/{video_id}/status").json_body
    assert status["encoding"]["failure"] == "The source has no video track."


def test_captions_join_the_master_as_a_subtitles_group(
    pipeline: PipelineService, encoder: RecordingEncoder, tenant: ApiClient
) -> None:
    video_id, key = uploaded(tenant)
    pipeline.ingest(tenant.project_id, video_id, key)
    pipeline.on_job_event(completed(encoder.jobs[0]))
    vtt = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello\n"
    body, content_type = _multipart(vtt)
    response = tenant.call("POST", f"/videos/{video_id}/captions/fr", body, {"content-type": content_type})
    assert response.status_code == 200, response.body
    tenant.call("PATCH", f"/videos/{video_id}/captions/fr", {"default": True})
    master = media_text(f"vod/{video_id}/hls/manifest.m3u8")
    assert '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français",LANGUAGE="fr",DEFAULT=YES' in master
    assert 'SUBTITLES="subs"' in master
    subtitles = media_text(f"vod/{video_id}/hls/captions/fr.m3u8")
    assert "../../captions/fr.vtt" in subtitles and "#EXT-X-ENDLIST" in subtitles


def test_thumbnails_auto_upload_and_pick(
    pipeline: PipelineService, encoder: RecordingEncoder, tenant: ApiClient
) -> None:
    video_id, key = uploaded(tenant)
    pipeline.ingest(tenant.project_id, video_id, key)
    thumbnail_job = next(job for job in encoder.jobs if job.kind is JobKind.THUMBNAIL)
    pipeline.on_job_event(completed(encoder.jobs[0]))
    pipeline.on_job_event(completed(thumbnail_job, "auto-job"))
    assets = tenant.call("GET", f"/videos/{video_id}").json_body["assets"]
    assert assets["thumbnail"].endswith(f"/vod/{video_id}/thumbnails/auto-auto-job.jpg")

    picked = tenant.call("PATCH", f"/videos/{video_id}/thumbnail", {"timecode": "00:00:05.00"})
    assert picked.status_code == 200 and picked.json_body["videoId"] == video_id
    pick_job = encoder.jobs[-1]
    assert pick_job.kind is JobKind.THUMBNAIL and pick_job.thumbnail_at == 5.0
    pipeline.on_job_event(completed(pick_job, "pick-job"))
    pipeline.on_job_event(completed(thumbnail_job, "late-auto"))  # an automatic frame never wins over a pick
    assets = tenant.call("GET", f"/videos/{video_id}").json_body["assets"]
    assert assets["thumbnail"].endswith("/thumbnails/pick-pick-job.jpg")

    beyond = tenant.call("PATCH", f"/videos/{video_id}/thumbnail", {"timecode": "00:01:00.00"})
    assert beyond.status_code == 400 and beyond.json_body["name"] == "timecode"


def test_a_named_encoding_profile_shapes_the_ladder(
    pipeline: PipelineService, encoder: RecordingEncoder, tenant: ApiClient
) -> None:
    profile = tenant.call("POST", "/encoding-profiles",
                          {"name": "small", "qualities": ["360p", "720p"], "mp4": False}).json_body  # fmt: skip
    created = tenant.call("POST", "/videos", {"title": "profiled", "encodingProfileId": profile["profileId"]})
    assert created.status_code == 201 and created.json_body["encodingProfileId"] == profile["profileId"]
    video_id = created.json_body["videoId"]
    key = f"{resources.SOURCES_PREFIX}{tenant.project_id}/{video_id}"
    boto3.client("s3").put_object(Bucket=os.environ[resources.UPLOADS_BUCKET.env], Key=key, Body=b"x")
    pipeline.ingest(tenant.project_id, video_id, key)
    assert [(job.kind.value, job.quality) for job in encoder.jobs if job.kind is not JobKind.THUMBNAIL] == [
        ("remux", None),
        ("rendition", "360p"),
        ("rendition", "720p"),
    ]
    unknown = tenant.call("POST", "/videos", {"title": "x", "encodingProfileId": "ep" + "a" * 22})
    assert unknown.status_code == 400 and unknown.json_body["name"] == "encodingProfileId"


def _multipart(data: bytes) -> tuple[bytes, str]:
    import urllib3

    body, content_type = urllib3.encode_multipart_formdata([("file", ("fr.vtt", data, "text/vtt"))])
    return body, content_type


@pytest.mark.parametrize(("name", "filters"), [("still.png", ["-frames:v", "1"]), ("still.jpg", ["-frames:v", "1"])])
def test_a_still_image_never_becomes_a_playable_video(
    pipeline: PipelineService, tenant: ApiClient, tmp_path: Any, name: str, filters: list[str]
) -> None:
    """The ffmpeg media plane's real probe of an image (codec unknown or one frame, no duration
    worth the name) ends the video failed with a reason, never `playable` with codec `unknown`."""
    import subprocess

    import imageio_ffmpeg

    from chalicelib.vod.adapters.mediaconvert import source_metadata_from_probe
    from devstack import mediatools

    image = tmp_path / name
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240", *filters, str(image)], check=True)  # fmt: skip
    probed = source_metadata_from_probe(mediatools.probe_result(mediatools.inspect(image), image.stat().st_size))
    pipeline.encoder = RecordingEncoder(probed)
    video_id, key = uploaded(tenant, image.read_bytes())
    pipeline.ingest(tenant.project_id, video_id, key)
    status = tenant.call("GET", f"/videos/{video_id}/status").json_body
    assert "not a video" in status["encoding"]["failure"] and status["encoding"]["playable"] is False
    assert pipeline.encoder.jobs == []
    assert [item["eventType"] for item in outbox(tenant)].count("video.encoding.failed") == 1
