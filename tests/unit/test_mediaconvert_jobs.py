"""MediaConvert requests built from EncodingJobs: the model walker, botocore's validator, events."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.vod.adapters.mediaconvert import (
    MediaConvertEncoder,
    build_create_job_request,
    job_state_from_event,
    timecode,
)
from chalicelib.vod.domain.encoding import (
    EncodingJob,
    JobKind,
    SourceMetadata,
    SourceUnreadable,
    WatermarkPlacement,
    renditions_for,
)
from tests.unit import strict_model

ROLE = "arn:aws:iam::123456789012:role/videoplane-mediaconvert"
SOURCE = "s3://videoplane-uploads/pr1/vi1/source"
PREFIX = "s3://videoplane-media/vod/vi1/"
SOURCES = {
    "1080p": SourceMetadata(width=1920, height=1080, video_codec="h264", audio_codec="aac", duration=60.0),
    "portrait": SourceMetadata(width=1920, height=1080, rotation=90, video_codec="h264", audio_codec="aac"),
    "tiny": SourceMetadata(width=160, height=120, video_codec="h264", duration=2.0),
    "4k": SourceMetadata(width=3840, height=2160, video_codec="hevc", audio_codec="opus", framerate=29.97),
}
WATERMARK = WatermarkPlacement(image_url="s3://videoplane-media/watermarks/wm1.png", top="10px", right="5%")


def jobs_for(source: SourceMetadata, *, clip: bool, watermark: bool) -> Iterator[EncodingJob]:
    ladder = renditions_for(source)
    common: dict[str, Any] = {
        "project_id": "pr1",
        "video_id": "vi1",
        "source_url": SOURCE,
        "destination_prefix": PREFIX,
        "idempotency_token": "token-1",
        "audio": source.has_audio,
        "framerate": source.framerate,
        "clip_start": 1.5 if clip else None,
        "clip_end": 4.25 if clip else None,
        "watermark": WATERMARK if watermark else None,
    }
    if not watermark:
        yield EncodingJob(kind=JobKind.REMUX, **common)
    for rung in ladder:
        yield EncodingJob(kind=JobKind.RENDITION, quality=rung.quality, rendition=rung, **common)
    yield EncodingJob(kind=JobKind.MP4, quality=ladder[-1].quality, rendition=ladder[-1], **common)
    yield EncodingJob(kind=JobKind.THUMBNAIL, thumbnail_at=2.0, rendition=ladder[-1], **common)


ALL_JOBS = [
    pytest.param(job, id=f"{name}-{job.kind}-{job.quality}-clip{clip}-wm{watermark}")
    for name, source in SOURCES.items()
    for clip in (False, True)
    for watermark in (False, True)
    for job in jobs_for(source, clip=clip, watermark=watermark)
]


def mediaconvert() -> Any:
    # Stubber never sends; the client only needs a region and (unused) credentials.
    return boto3.client("mediaconvert", region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit")


def job_response(request: dict[str, Any], job_id: str = "1700000000000-abc123") -> dict[str, Any]:
    return {
        "Job": {
            "Id": job_id,
            "Arn": f"arn:aws:mediaconvert:us-east-1:123456789012:jobs/{job_id}",
            "Role": request["Role"],
            "Settings": request["Settings"],
            "Status": "SUBMITTED",
            "CreatedAt": datetime(2026, 1, 1, tzinfo=UTC),
            "UserMetadata": request["UserMetadata"],
        }
    }


def valid_request() -> dict[str, Any]:
    source = SOURCES["1080p"]
    rung = renditions_for(source)[0]
    job = EncodingJob(
        project_id="pr1",
        video_id="vi1",
        kind=JobKind.RENDITION,
        quality=rung.quality,
        rendition=rung,
        source_url=SOURCE,
        destination_prefix=PREFIX,
        idempotency_token="t",
    )
    return build_create_job_request(job, ROLE)


def test_the_walker_passes_a_valid_job() -> None:
    assert strict_model.findings("mediaconvert", "CreateJob", valid_request()) == []


def test_the_walker_catches_what_botocore_does_not() -> None:
    request = valid_request()
    video = request["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]
    video["CodecSettings"]["H264Settings"]["RateControlMode"] = "QVBRR"
    video["CodecSettings"]["H264Settings"]["QvbrSettings"]["QvbrQualityLevel"] = 42
    request["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["HlsGroupSettings"]["Destination"] = (
        "https://example.com/hls/"
    )
    found = strict_model.findings("mediaconvert", "CreateJob", request)
    assert len(found) == 3
    assert any("RateControlMode: 'QVBRR' is not one of" in finding for finding in found)
    assert any("QvbrQualityLevel: 42 is above the maximum 10" in finding for finding in found)
    assert any("Destination: 'https://example.com/hls/' does not match" in finding for finding in found)


def test_the_walker_catches_unknown_keys_types_and_missing_members() -> None:
    request = valid_request()
    del request["Role"]
    video = request["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]
    video["Widht"] = 640
    video["Height"] = "360"
    found = strict_model.findings("mediaconvert", "CreateJob", request)
    assert sorted(found) == sorted(
        [
            "Role: required",
            "Settings.OutputGroups[0].Outputs[0].VideoDescription.Widht: unknown member of VideoDescription",
            "Settings.OutputGroups[0].Outputs[0].VideoDescription.Height: expected integer, got str",
        ]
    )


@pytest.mark.parametrize("job", ALL_JOBS)
def test_every_job_passes_the_model_and_botocore(job: EncodingJob) -> None:
    request = build_create_job_request(job, ROLE)
    assert strict_model.findings("mediaconvert", "CreateJob", request) == []
    client = mediaconvert()
    with Stubber(client) as stubber:
        stubber.add_response("create_job", job_response(request), expected_params=copy.deepcopy(request))
        assert MediaConvertEncoder(client, ROLE).submit(job) == "1700000000000-abc123"
        stubber.assert_no_pending_responses()


def test_output_layout() -> None:
    by_kind = {
        (job.kind, job.quality): build_create_job_request(job, ROLE)
        for job in jobs_for(SOURCES["1080p"], clip=False, watermark=False)
    }

    def group(kind: JobKind, quality: str | None) -> dict[str, Any]:
        settings: dict[str, Any] = by_kind[(kind, quality)]["Settings"]["OutputGroups"][0]
        return settings

    remux = group(JobKind.REMUX, None)
    assert remux["OutputGroupSettings"]["HlsGroupSettings"]["Destination"] == f"{PREFIX}hls/source/index"
    assert remux["Outputs"][0]["NameModifier"] == "_source"
    assert remux["Outputs"][0]["VideoDescription"]["CodecSettings"]["Codec"] == "PASSTHROUGH"
    rung = group(JobKind.RENDITION, "720p")
    hls = rung["OutputGroupSettings"]["HlsGroupSettings"]
    assert (hls["Destination"], hls["SegmentLength"], hls["SegmentControl"]) == (
        f"{PREFIX}hls/720p/index",
        3,
        "SEGMENTED_FILES",
    )
    video = rung["Outputs"][0]["VideoDescription"]
    assert (video["Width"], video["Height"]) == (1280, 720)
    assert video["CodecSettings"]["H264Settings"]["MaxBitrate"] == 6_000_000
    assert rung["Outputs"][0]["NameModifier"] == "_720p"
    mp4 = group(JobKind.MP4, "1080p")
    assert mp4["OutputGroupSettings"]["FileGroupSettings"]["Destination"] == f"{PREFIX}mp4/source"
    thumbnail = by_kind[(JobKind.THUMBNAIL, None)]
    assert thumbnail["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["FileGroupSettings"]["Destination"] == (
        f"{PREFIX}thumbnail"
    )
    assert thumbnail["Settings"]["Inputs"][0]["InputClippings"] == [
        {"StartTimecode": "00:00:02:00", "EndTimecode": "00:00:03:00"}
    ]
    assert by_kind[(JobKind.REMUX, None)]["UserMetadata"] == {
        "app": "videoplane",
        "projectId": "pr1",
        "videoId": "vi1",
        "kind": "remux",
    }


def test_clip_and_watermark_settings() -> None:
    source = SOURCES["1080p"]
    job = next(
        job for job in jobs_for(source, clip=True, watermark=True) if job.kind is JobKind.RENDITION
    )  # 240p: 426x240
    settings = build_create_job_request(job, ROLE)["Settings"]
    assert settings["Inputs"][0]["InputClippings"] == [{"StartTimecode": "00:00:01:15", "EndTimecode": "00:00:04:08"}]
    image = settings["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["VideoPreprocessors"]["ImageInserter"]
    assert image["InsertableImages"][0] | {} == {
        "ImageInserterInput": WATERMARK.image_url,
        "ImageX": 426 - 21 - 86,  # right 5% of 426, image a fifth of the frame wide
        "ImageY": 10,
        "Layer": 0,
        "Opacity": 100,
        "Width": 86,
    }


def test_jobs_the_service_cannot_run_are_refused() -> None:
    base: dict[str, Any] = {
        "project_id": "pr1",
        "video_id": "vi1",
        "source_url": SOURCE,
        "destination_prefix": PREFIX,
        "idempotency_token": "t",
    }
    with pytest.raises(ValueError, match="remux"):
        build_create_job_request(EncodingJob(kind=JobKind.REMUX, watermark=WATERMARK, **base), ROLE)
    with pytest.raises(ValueError, match="rendition"):
        build_create_job_request(EncodingJob(kind=JobKind.RENDITION, quality="240p", **base), ROLE)


def test_timecodes() -> None:
    assert timecode(0.0, 25) == "00:00:00:00"
    assert timecode(3725.5, 25) == "01:02:05:12"
    assert timecode(1.999, 29.97) == "00:00:01:29"


PROBE_RESULT: dict[str, Any] = {
    "ProbeResults": [
        {
            "Container": {
                "Format": "mp4",
                "Duration": 3.0,
                "BitRate": 812_000,
                "Tracks": [
                    {
                        "TrackType": "video",
                        "Codec": "AVC",
                        "Index": 0,
                        "VideoProperties": {
                            "Width": 1920,
                            "Height": 1080,
                            "Rotation": 90,
                            "FrameRate": {"Numerator": 30000, "Denominator": 1001},
                        },
                    },
                    {"TrackType": "audio", "Codec": "AAC", "Index": 1, "AudioProperties": {"SampleRate": 48000}},
                ],
            }
        }
    ]
}


def test_probe_through_botocore() -> None:
    client = mediaconvert()
    with Stubber(client) as stubber:
        stubber.add_response("probe", PROBE_RESULT, expected_params={"InputFiles": [{"FileUrl": SOURCE}]})
        metadata = MediaConvertEncoder(client, ROLE).probe(SOURCE)
    assert metadata.model_dump() == {
        "container": "mp4",
        "duration": 3.0,
        "width": 1920,
        "height": 1080,
        "bitrate": 812_000,
        "framerate": pytest.approx(29.97, abs=0.001),
        "samplerate": 48000,
        "video_codec": "h264",
        "audio_codec": "aac",
        "rotation": 90,
    }
    assert (metadata.display_width, metadata.display_height) == (1080, 1920)


def test_probe_refusal_is_a_source_error() -> None:
    client = mediaconvert()
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "probe", service_error_code="BadRequestException", service_message="The input is not a media file."
        )
        with pytest.raises(SourceUnreadable) as raised:
            MediaConvertEncoder(client, ROLE).probe(SOURCE)
    assert (raised.value.code, raised.value.reason) == ("BadRequestException", "The input is not a media file.")


def envelope(detail: dict[str, Any]) -> dict[str, Any]:
    # As moto delivers it: no `account`.
    return {
        "version": "0",
        "id": "e1",
        "detail-type": "MediaConvert Job State Change",
        "source": "aws.mediaconvert",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:mediaconvert:us-east-1:123456789012:jobs/j1"],
        "detail": {
            "timestamp": 1767225600000,
            "accountId": "123456789012",
            "queue": "arn:aws:mediaconvert:us-east-1:123456789012:queues/Default",
            "jobId": "j1",
            "userMetadata": {
                "app": "videoplane",
                "projectId": "pr1",
                "videoId": "vi1",
                "kind": "rendition",
                "quality": "240p",
            },
            **detail,
        },
    }


def test_complete_event() -> None:
    state = job_state_from_event(
        envelope(
            {
                "status": "COMPLETE",
                "outputGroupDetails": [
                    {
                        "type": "HLS_GROUP",
                        "playlistFilePaths": [f"{PREFIX}hls/240p/index.m3u8"],
                        "outputDetails": [
                            {
                                "outputFilePaths": [f"{PREFIX}hls/240p/index_240p.m3u8"],
                                "durationInMs": 3000,
                                "videoDetails": {"widthInPx": 426, "heightInPx": 240},
                            }
                        ],
                    }
                ],
            }
        )
    )
    assert state is not None
    assert (state.status, state.kind, state.quality, state.percent, state.finished) == (
        "COMPLETE",
        JobKind.RENDITION,
        "240p",
        100,
        True,
    )
    assert state.outputs == (f"{PREFIX}hls/240p/index.m3u8", f"{PREFIX}hls/240p/index_240p.m3u8")
    assert (state.width, state.height) == (426, 240)


def test_error_and_progress_events() -> None:
    error = job_state_from_event(
        envelope({"status": "ERROR", "errorCode": 1010, "errorMessage": "The input has no video track"})
    )
    assert error is not None
    assert (error.error_code, error.error_message, error.finished) == (1010, "The input has no video track", True)
    update = job_state_from_event(envelope({"status": "STATUS_UPDATE", "jobProgress": {"jobPercentComplete": 42}}))
    assert update is not None
    assert (update.percent, update.finished) == (42, False)
    progressing = job_state_from_event(envelope({"status": "PROGRESSING"}))
    assert progressing is not None
    assert progressing.percent is None


def test_other_apps_jobs_are_ignored() -> None:
    foreign = envelope({"status": "COMPLETE"})
    foreign["detail"]["userMetadata"] = {"workflow": "vod-stack"}
    assert job_state_from_event(foreign) is None
    assert job_state_from_event({"detail-type": "Something else", "detail": {}}) is None
