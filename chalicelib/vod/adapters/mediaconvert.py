"""AWS Elemental MediaConvert: CreateJob requests built from `EncodingJob`s, Probe, and job-state events.

The output layout under `vod/{videoId}/` is a contract with the consumers of job states; MediaConvert
derives object names from the group Destination (base name) and each output's NameModifier:

- REMUX      `hls/source/index.m3u8` (master), `hls/source/index_source.m3u8`, `index_source_00001.ts`
- RENDITION  `hls/{q}/index.m3u8` (master), `hls/{q}/index_{q}.m3u8`, `index_{q}_00001.ts`
- MP4        `mp4/source.mp4`
- THUMBNAIL  `thumbnail.0000000.jpg`

The same requests drive the devstack's ffmpeg plane, which interprets the Settings the same way.
"""

from __future__ import annotations

import math
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.vod.domain.encoding import (
    EncoderError,
    EncodingJob,
    JobKind,
    JobState,
    Rendition,
    SourceMetadata,
    SourceUnreadable,
    watermark_box,
)

APP_TAG = "videoplane"
AUDIO_SELECTOR = "Audio Selector 1"
# Timecodes need a frame rate; when the caller does not know the source's, frame 0 of each second is
# still exact, so only sub-second clip points lose precision.
DEFAULT_FRAMERATE = 30.0
# A frame capture only needs the frames up to the capture point; stopping one second later keeps a
# thumbnail job from decoding the whole source.
THUMBNAIL_WINDOW_SECONDS = 1.0
AAC_SAMPLE_RATE = 48_000
MP4_AUDIO_BITRATE = 128_000

_PROBE_CODECS = {"AVC": "h264", "HEVC": "hevc", "MP4V": "mpeg4", "MPEG2": "mpeg2video", "UNKNOWN": "unknown"}


def hls_destination(job: EncodingJob) -> str:
    name = "source" if job.kind is JobKind.REMUX else job.quality
    return f"{job.destination_prefix}hls/{name}/index"


def build_create_job_request(job: EncodingJob, role_arn: str) -> dict[str, Any]:
    """The CreateJob parameters for one job: one input, one output group."""
    if job.kind is JobKind.REMUX and job.watermark is not None:
        raise ValueError("A remux copies the source's frames, so it cannot draw a watermark; encode instead.")
    if job.kind is JobKind.RENDITION and (job.rendition is None or job.quality is None):
        raise ValueError("A RENDITION job needs its rendition and quality.")
    user_metadata = {"app": APP_TAG, "projectId": job.project_id, "videoId": job.video_id, "kind": job.kind.value}
    if job.quality is not None:
        user_metadata["quality"] = job.quality
    return {
        "Role": role_arn,
        "ClientRequestToken": job.idempotency_token,
        "StatusUpdateInterval": "SECONDS_10",
        "UserMetadata": user_metadata,
        "Settings": {
            "TimecodeConfig": {"Source": "ZEROBASED"},
            "Inputs": [_input(job)],
            "OutputGroups": [_output_group(job)],
        },
    }


def _input(job: EncodingJob) -> dict[str, Any]:
    # AUTO turns phone video upright (the default, DEGREE_0, would keep it sideways).
    settings: dict[str, Any] = {
        "FileInput": job.source_url,
        "TimecodeSource": "ZEROBASED",
        "VideoSelector": {"Rotate": "AUTO"},
    }
    if job.audio:
        settings["AudioSelectors"] = {AUDIO_SELECTOR: {"DefaultSelection": "DEFAULT"}}
    clipping = _clipping(job)
    if clipping:
        settings["InputClippings"] = [clipping]
    return settings


def _clipping(job: EncodingJob) -> dict[str, str]:
    framerate = job.framerate or DEFAULT_FRAMERATE
    start, end = job.clip_start, job.clip_end
    if job.kind is JobKind.THUMBNAIL:
        # The capture happens at the first frame after the clipping start, inside any clip.
        start = (job.clip_start or 0.0) + (job.thumbnail_at or 0.0)
        window_end = start + THUMBNAIL_WINDOW_SECONDS
        end = window_end if job.clip_end is None else min(job.clip_end, window_end)
    clipping: dict[str, str] = {}
    if start:
        clipping["StartTimecode"] = timecode(start, framerate)
    if end is not None:
        clipping["EndTimecode"] = timecode(end, framerate)
    return clipping


def timecode(seconds: float, framerate: float) -> str:
    """Seconds as a ZEROBASED "HH:MM:SS:FF" timecode; the frame number never reaches the frame rate."""
    whole = int(seconds)
    frames = min(round((seconds - whole) * framerate), max(0, math.ceil(framerate) - 1))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}:{frames:02d}"


def _output_group(job: EncodingJob) -> dict[str, Any]:
    if job.kind is JobKind.REMUX:
        return _hls_group(job, "_source", _passthrough_video(), _audio(job, passthrough=True))
    if job.kind is JobKind.RENDITION:
        assert job.rendition is not None  # checked in build_create_job_request
        return _hls_group(
            job, f"_{job.quality}", _h264_video(job, job.rendition), _audio(job, job.rendition.audio_bitrate)
        )
    if job.kind is JobKind.MP4:
        output = {
            "ContainerSettings": {"Container": "MP4", "Mp4Settings": {"MoovPlacement": "PROGRESSIVE_DOWNLOAD"}},
            "VideoDescription": _h264_video(job, job.rendition),
            "AudioDescriptions": _audio(job, MP4_AUDIO_BITRATE),
        }
        return _file_group(job, "mp4/source", _without_empty(output))
    frame_capture = {
        "ContainerSettings": {"Container": "RAW"},
        "VideoDescription": _sized(
            job,
            job.rendition,
            {
                "Codec": "FRAME_CAPTURE",
                "FrameCaptureSettings": {
                    "FramerateNumerator": 1,
                    "FramerateDenominator": 1,
                    "MaxCaptures": 1,
                    "Quality": 80,
                },
            },
        ),
    }
    return _file_group(job, "thumbnail", frame_capture)


def _without_empty(output: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in output.items() if value}


def _hls_group(
    job: EncodingJob, name_modifier: str, video: dict[str, Any], audio: list[dict[str, Any]]
) -> dict[str, Any]:
    output = {
        "NameModifier": name_modifier,
        "ContainerSettings": {"Container": "M3U8", "M3u8Settings": {}},
        "OutputSettings": {"HlsSettings": {}},
        "VideoDescription": video,
        "AudioDescriptions": audio,
    }
    return {
        "Name": "HLS",
        "OutputGroupSettings": {
            "Type": "HLS_GROUP_SETTINGS",
            "HlsGroupSettings": {
                "Destination": hls_destination(job),
                "SegmentLength": job.segment_seconds,
                "MinSegmentLength": 0,
                "SegmentControl": "SEGMENTED_FILES",
                "DirectoryStructure": "SINGLE_DIRECTORY",
                "ManifestDurationFormat": "FLOATING_POINT",
                "CodecSpecification": "RFC_4281",
                "StreamInfResolution": "INCLUDE",
                "OutputSelection": "MANIFESTS_AND_SEGMENTS",
            },
        },
        "Outputs": [_without_empty(output)],
    }


def _file_group(job: EncodingJob, base_name: str, output: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": "File",
        "OutputGroupSettings": {
            "Type": "FILE_GROUP_SETTINGS",
            "FileGroupSettings": {"Destination": f"{job.destination_prefix}{base_name}"},
        },
        "Outputs": [output],
    }


def _passthrough_video() -> dict[str, Any]:
    # HLS segments must start on an IDR frame to be decodable on their own.
    return {"CodecSettings": {"Codec": "PASSTHROUGH", "PassthroughSettings": {"FrameControl": "NEAREST_IDRFRAME"}}}


def _h264_video(job: EncodingJob, rendition: Rendition | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "RateControlMode": "QVBR",
        "QualityTuningLevel": "SINGLE_PASS_HQ",
        "CodecProfile": "HIGH",
        "CodecLevel": "AUTO",
        "GopSize": 3.0,
        "GopSizeUnits": "SECONDS",
        "GopClosedCadence": 1,
        "NumberBFramesBetweenReferenceFrames": 2,
        "SceneChangeDetect": "TRANSITION_DETECTION",
        "FramerateControl": "INITIALIZE_FROM_SOURCE",
        "ParControl": "INITIALIZE_FROM_SOURCE",
        "AdaptiveQuantization": "AUTO",
    }
    if rendition is None:
        # Source quality with no ladder rung to cap it: MP4 at the source's own size.
        settings |= {"MaxBitrate": 8_500_000, "QvbrSettings": {"QvbrQualityLevel": 9}}
    else:
        settings |= {
            "MaxBitrate": rendition.max_bitrate,
            "HrdBufferSize": 2 * rendition.max_bitrate,
            "QvbrSettings": {"QvbrQualityLevel": rendition.qvbr_level},
        }
    return _sized(job, rendition, {"Codec": "H_264", "H264Settings": settings})


def _sized(job: EncodingJob, rendition: Rendition | None, codec: dict[str, Any]) -> dict[str, Any]:
    video: dict[str, Any] = {"CodecSettings": codec, "ScalingBehavior": "DEFAULT", "AntiAlias": "ENABLED"}
    if rendition is not None:
        video |= {"Width": rendition.width, "Height": rendition.height}
    if job.watermark is not None:
        if rendition is None:
            raise ValueError("A watermark is placed in output pixels, so the job needs its rendition (output size).")
        box = watermark_box(job.watermark, rendition.width, rendition.height)
        image: dict[str, Any] = {
            "ImageInserterInput": job.watermark.image_url,
            "ImageX": box.x,
            "ImageY": box.y,
            "Layer": 0,
            "Opacity": box.opacity,
        }
        if box.width is not None:
            image["Width"] = box.width
        if box.height is not None:
            image["Height"] = box.height
        video["VideoPreprocessors"] = {"ImageInserter": {"InsertableImages": [image]}}
    return video


def _audio(job: EncodingJob, bitrate: int = 96_000, *, passthrough: bool = False) -> list[dict[str, Any]]:
    if not job.audio:
        return []
    aac: dict[str, Any] = {
        "Bitrate": bitrate,
        "CodecProfile": "LC",
        "CodingMode": "CODING_MODE_2_0",
        "SampleRate": AAC_SAMPLE_RATE,
        "RateControlMode": "CBR",
    }
    if passthrough:
        # Copies AAC as is, and still encodes if the input turns out not to be AAC.
        aac["PassthroughControl"] = "WHEN_POSSIBLE"
    return [{"AudioSourceName": AUDIO_SELECTOR, "CodecSettings": {"Codec": "AAC", "AacSettings": aac}}]


class MediaConvertEncoder:
    """Submits jobs and probes sources. The boto3 client is injected (the cloud's or the devstack's)."""

    def __init__(self, client: Any, role_arn: str) -> None:
        self.client = client
        self.role_arn = role_arn

    def submit(self, job: EncodingJob) -> str:
        try:
            response = self.client.create_job(**build_create_job_request(job, self.role_arn))
        except ClientError as error:
            raise _encoder_error(error) from error
        return str(response["Job"]["Id"])

    def job_state(self, event: dict[str, Any]) -> JobState | None:
        """A "MediaConvert Job State Change" event as the pipeline's JobState (None if not ours)."""
        return job_state_from_event(event)

    def probe(self, source_url: str) -> SourceMetadata:
        try:
            response = self.client.probe(InputFiles=[{"FileUrl": source_url}])
        except ClientError as error:
            code, reason = _error_fields(error)
            if code in ("BadRequestException", "UnprocessableEntityException", "NotFoundException"):
                raise SourceUnreadable(code, reason) from error
            raise _encoder_error(error) from error
        results = response.get("ProbeResults") or []
        if not results:
            raise SourceUnreadable("BadRequestException", "The probe returned no result for the source.")
        return source_metadata_from_probe(results[0])


def _error_fields(error: ClientError) -> tuple[str, str]:
    details = error.response.get("Error", {})
    return str(details.get("Code", "Unknown")), str(details.get("Message") or "The media service refused the request.")


def _encoder_error(error: ClientError) -> EncoderError:
    return EncoderError(*_error_fields(error))


def source_metadata_from_probe(result: dict[str, Any]) -> SourceMetadata:
    """One Probe result (ProbeResults[i]) as domain metadata."""
    container = result.get("Container", {})
    tracks = container.get("Tracks", [])
    video = next((track for track in tracks if track.get("TrackType") == "video"), None)
    audio = next((track for track in tracks if track.get("TrackType") == "audio"), None)
    fields: dict[str, Any] = {
        "container": container.get("Format"),
        "duration": container.get("Duration"),
        "bitrate": container.get("BitRate"),
    }
    if video is not None:
        properties = video.get("VideoProperties", {})
        rate = properties.get("FrameRate", {})
        fields |= {
            "video_codec": _codec_name(video.get("Codec")),
            "width": properties.get("Width"),
            "height": properties.get("Height"),
            "framerate": rate["Numerator"] / rate["Denominator"] if rate.get("Denominator") else None,
            "rotation": int(properties.get("Rotation") or 0) % 360,
        }
    if audio is not None:
        fields |= {
            "audio_codec": _codec_name(audio.get("Codec")),
            "samplerate": audio.get("AudioProperties", {}).get("SampleRate"),
        }
    return SourceMetadata(**fields)


def _codec_name(codec: str | None) -> str | None:
    return None if codec is None else _PROBE_CODECS.get(codec, codec.lower())


def job_state_from_event(event: dict[str, Any]) -> JobState | None:
    """A "MediaConvert Job State Change" EventBridge event as a JobState; None for other apps' jobs.

    Only `detail` is read: moto-delivered envelopes lack fields such as `account`."""
    detail = event.get("detail") or {}
    metadata = detail.get("userMetadata") or {}
    if metadata.get("app") != APP_TAG or "jobId" not in detail or "status" not in detail:
        return None
    kind = JobKind(metadata["kind"])
    outputs, width, height = _outputs(detail.get("outputGroupDetails") or [])
    progress = detail.get("jobProgress") or {}
    percent = progress.get("jobPercentComplete")
    return JobState(
        job_id=detail["jobId"],
        status=detail["status"],
        project_id=metadata["projectId"],
        video_id=metadata["videoId"],
        kind=kind,
        quality=metadata.get("quality"),
        percent=100 if detail["status"] == "COMPLETE" else (None if percent is None else int(percent)),
        outputs=tuple(outputs),
        width=width,
        height=height,
        error_code=detail.get("errorCode"),
        error_message=detail.get("errorMessage"),
    )


def _outputs(groups: list[dict[str, Any]]) -> tuple[list[str], int | None, int | None]:
    outputs: list[str] = []
    width = height = None
    for group in groups:
        outputs.extend(group.get("playlistFilePaths") or [])
        for output in group.get("outputDetails") or []:
            outputs.extend(output.get("outputFilePaths") or [])
            video = output.get("videoDetails") or {}
            width = video.get("widthInPx", width)
            height = video.get("heightInPx", height)
    return outputs, width, height
