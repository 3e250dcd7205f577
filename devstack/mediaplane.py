"""An ffmpeg stand-in for AWS Elemental MediaConvert, speaking its REST API on loopback.

The app's `boto3.client("mediaconvert")` is pointed here with AWS_ENDPOINT_URL_MEDIACONVERT and cannot
tell the difference for what it uses: CreateJob (with ClientRequestToken de-duplication), GetJob and
Probe. Jobs are run from their Settings, not from UserMetadata: output group type and destination,
NameModifier, H.264 size/bitrate/GOP, PASSTHROUGH, AAC, FRAME_CAPTURE, InputClippings, ImageInserter.
Objects are written with the names MediaConvert gives them, and "MediaConvert Job State Change"
events go to the default EventBridge bus like the real service's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, Shape, StructureShape

from devstack import mediatools
from devstack.mediatools import MediaInfo, Unreadable

logger = logging.getLogger(__name__)

API = "/2017-08-29"
# MediaConvert de-duplicates CreateJob calls carrying the same ClientRequestToken for one minute.
IDEMPOTENCY_SECONDS = 60.0
# Devstack stand-in for StatusUpdateInterval: short enough that a test sees updates on tiny inputs.
STATUS_UPDATE_SECONDS = 2.0
DEFAULT_JOB_TIMEOUT_SECONDS = 900.0

# Error codes in the style of MediaConvert's documented ranges (1000s: input and settings problems).
ERROR_INPUT_UNREADABLE = 1010
ERROR_INPUT_MISSING = 1020
ERROR_DECODE = 1030
ERROR_TIMEOUT = 1040
ERROR_UNSUPPORTED = 1999

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
}


UPLOAD_THREADS = 4
# Scheduling priority of ffmpeg runs that decode (0 = that of the devstack); remuxes keep it.
ENCODE_NICENESS = 10
# Sources kept on disk for the jobs that follow (a video's jobs arrive together).
SOURCE_CACHE_ENTRIES = 8


class JobFailed(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BadRequest(Exception):
    """Answered as MediaConvert's 400 BadRequestException."""


@dataclass
class Job:
    job_id: str
    arn: str
    request: dict[str, Any]  # CreateJob parameters, in the model's member names
    created_at: datetime
    status: str = "SUBMITTED"
    phase: str | None = None
    percent: int | None = None
    error_code: int | None = None
    error_message: str | None = None
    output_group_details: list[dict[str, Any]] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def describe(self) -> dict[str, Any]:
        """The Job shape GetJob and CreateJob return, in the model's member names."""
        job: dict[str, Any] = {
            "Arn": self.arn,
            "Id": self.job_id,
            "CreatedAt": self.created_at,
            "Role": self.request["Role"],
            "Settings": self.request["Settings"],
            "Status": self.status,
            "UserMetadata": self.request.get("UserMetadata", {}),
            "StatusUpdateInterval": self.request.get("StatusUpdateInterval", "SECONDS_60"),
            "Queue": self.request.get("Queue") or "Default",
            "RetryCount": 0,
            "Timing": {
                key: value
                for key, value in (
                    ("SubmitTime", self.created_at),
                    ("StartTime", self.started_at),
                    ("FinishTime", self.finished_at),
                )
                if value is not None
            },
        }
        optional = {
            "ClientRequestToken": self.request.get("ClientRequestToken"),
            "CurrentPhase": self.phase,
            "JobPercentComplete": self.percent,
            "ErrorCode": self.error_code,
            "ErrorMessage": self.error_message,
            "OutputGroupDetails": [
                {"OutputDetails": [_api_output_detail(output) for output in group.get("outputDetails", [])]}
                for group in self.output_group_details
            ]
            or None,
        }
        return job | {key: value for key, value in optional.items() if value is not None}


def _api_output_detail(output: dict[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = {"DurationInMs": output.get("durationInMs", 0)}
    video = output.get("videoDetails")
    if video:
        detail["VideoDetails"] = {"WidthInPx": video["widthInPx"], "HeightInPx": video["heightInPx"]}
    return detail


class MediaPlane:
    def __init__(
        self,
        s3_client: Any,
        events_client: Any,
        workers: int | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        job_timeout: float = DEFAULT_JOB_TIMEOUT_SECONDS,
        command_log: Path | None = None,
    ) -> None:
        self.s3 = s3_client
        # benchmarks/time_to_playable.py replays these exact ffmpeg runs as its raw baseline.
        self.command_log = command_log
        self.events = events_client
        self.region = region
        self.account = account
        self.job_timeout = job_timeout
        self.workers = max(1, workers or os.cpu_count() or 1)
        # Each ffmpeg gets its share of the cores: `workers` jobs at once never oversubscribe much.
        self.threads_per_job = max(1, (os.cpu_count() or 1) // self.workers)
        self.queue_arn = f"arn:aws:mediaconvert:{region}:{account}:queues/Default"
        self._jobs: dict[str, Job] = {}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active = 0
        self._processes: set[subprocess.Popen[str]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._server: _Server | None = None
        self._model = botocore.session.get_session().get_service_model("mediaconvert")
        self._cache_dir = Path(tempfile.mkdtemp(prefix="mediaplane-sources-"))
        self._source_locks: dict[str, threading.Lock] = {}
        self._inspected: dict[Path, mediatools.MediaInfo] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> str:
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="mediaplane")
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, name="mediaplane-http", daemon=True).start()
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            for process in list(self._processes):
                process.kill()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self._cache_dir, ignore_errors=True)

    def wait_idle(self, timeout: float) -> bool:
        """True once no job is queued or running; False if that did not happen within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._active:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    # -- API operations (parameters and results in the model's member names) --------------------

    def create_job(self, params: dict[str, Any]) -> dict[str, Any]:
        _check_job_settings(params)
        token = params.get("ClientRequestToken")
        now = time.monotonic()
        with self._lock:
            if token and token in self._tokens and now - self._tokens[token][1] < IDEMPOTENCY_SECONDS:
                return {"Job": self._jobs[self._tokens[token][0]].describe()}
            job_id = f"{int(time.time() * 1000)}-{secrets.token_hex(3)}"
            job = Job(
                job_id=job_id,
                arn=f"arn:aws:mediaconvert:{self.region}:{self.account}:jobs/{job_id}",
                request=params,
                created_at=datetime.now(UTC),
            )
            self._jobs[job_id] = job
            if token:
                self._tokens[token] = (job_id, now)
            self._active += 1
        assert self._executor is not None, "start() the plane first"
        self._executor.submit(self._run_guarded, job)
        return {"Job": job.describe()}

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else {"Job": job.describe()}

    def probe(self, params: dict[str, Any]) -> dict[str, Any]:
        results = []
        for input_file in params.get("InputFiles") or []:
            url = input_file.get("FileUrl", "")
            try:
                path = self._source(url)
            except JobFailed as error:
                raise BadRequest(error.message) from error
            try:
                info = self._inspect(path)
            except Unreadable as error:
                raise BadRequest(f"The input {url} could not be read as media: {error}") from error
            results.append(mediatools.probe_result(info, path.stat().st_size))
        return {"ProbeResults": results}

    # -- running a job ---------------------------------------------------------------------------

    def _run_guarded(self, job: Job) -> None:
        """Every job ends COMPLETE or ERROR, whatever happens inside."""
        try:
            with tempfile.TemporaryDirectory(prefix=f"mediaplane-{job.job_id}-") as folder:
                self._run(job, Path(folder))
        except JobFailed as error:
            self._finish_error(job, error.code, error.message)
        except Exception as error:
            logger.exception("media plane job %s failed", job.job_id)
            self._finish_error(job, ERROR_UNSUPPORTED, f"The media plane failed: {error}")
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _run(self, job: Job, folder: Path) -> None:
        settings = job.request["Settings"]
        job_input = settings["Inputs"][0]
        with self._lock:
            job.status, job.phase, job.started_at = "PROGRESSING", "PROBING", datetime.now(UTC)
        self._emit(job, "PROGRESSING")
        source = self._source(job_input["FileInput"])
        try:
            info = self._inspect(source)
        except Unreadable as error:
            raise JobFailed(ERROR_INPUT_UNREADABLE, f"The input could not be read as media: {error}") from error
        plan = _Plan.build(settings, info, self._download_image(job_input, settings, folder))
        with self._lock:
            job.phase = "TRANSCODING"
        details = []
        for group in settings["OutputGroups"]:
            details.append(self._run_group(job, group, plan, source, folder))
        with self._lock:
            job.status, job.phase, job.percent = "COMPLETE", None, 100
            job.finished_at, job.output_group_details = datetime.now(UTC), details
        self._emit(job, "COMPLETE", outputGroupDetails=details)

    def _run_group(self, job: Job, group: dict[str, Any], plan: _Plan, source: Path, folder: Path) -> dict[str, Any]:
        group_settings = group["OutputGroupSettings"]
        output_dir = folder / f"out-{secrets.token_hex(4)}"
        output_dir.mkdir()
        if group_settings["Type"] == "HLS_GROUP_SETTINGS":
            hls = group_settings["HlsGroupSettings"]
            bucket, prefix, base = _split_destination(hls["Destination"])
            details = []
            variants = []
            for output in group["Outputs"]:
                child = f"{base}{output.get('NameModifier', '')}"
                args = plan.hls_args(output, output_dir / child, int(hls.get("SegmentLength", 10)))
                self._ffmpeg(job, plan, source, args)
                detail, variant = _hls_output(output_dir / f"{child}.m3u8", plan, output, bucket, prefix)
                details.append(detail)
                variants.append(variant)
            (output_dir / f"{base}.m3u8").write_text(_master_playlist(variants))
            self._upload_folder(output_dir, bucket, prefix)
            return {
                "type": "HLS_GROUP",
                "playlistFilePaths": [f"s3://{bucket}/{prefix}{base}.m3u8"],
                "outputDetails": details,
            }
        if group_settings["Type"] == "FILE_GROUP_SETTINGS":
            bucket, prefix, base = _split_destination(group_settings["FileGroupSettings"]["Destination"])
            details = []
            for output in group["Outputs"]:
                target = output_dir / plan.file_name(base, output)
                self._ffmpeg(job, plan, source, plan.file_args(output, target))
                details.append(_file_output(target, bucket, prefix))
            self._upload_folder(output_dir, bucket, prefix)
            return {"type": "FILE_GROUP", "outputDetails": details}
        raise JobFailed(ERROR_UNSUPPORTED, f"The output group type {group_settings['Type']} is not supported here.")

    def _ffmpeg(self, job: Job, plan: _Plan, source: Path, output_args: list[str]) -> None:
        command = [
            mediatools.ffmpeg(),
            "-hide_banner",
            "-nostdin",
            "-y",
            "-loglevel",
            "error",
            "-nostats",
            "-progress",
            "pipe:1",
            *plan.input_args(source),
            "-threads",
            str(self.threads_per_job),
            *output_args,
        ]
        stderr_path = Path(output_args[-1]).with_suffix(".stderr")
        started, started_at = time.monotonic(), time.time()
        with stderr_path.open("w+") as stderr:
            # Encodes yield the CPU to remuxes, frame captures and the API: a video becomes playable
            # in seconds even while its ladder keeps both cores busy (idle cores are used all the same).
            nice = shutil.which("nice")
            copies = "copy" in output_args and "libx264" not in output_args
            niced = [nice, "-n", str(ENCODE_NICENESS)] if nice and not copies else []
            process = subprocess.Popen([*niced, *command], stdout=subprocess.PIPE, stderr=stderr, text=True)
            with self._lock:
                self._processes.add(process)
            timed_out = threading.Event()

            def kill() -> None:
                timed_out.set()
                process.kill()

            timer = threading.Timer(self.job_timeout, kill)
            timer.start()
            try:
                self._follow_progress(job, process, plan.duration)
                returncode = process.wait()
            finally:
                timer.cancel()
                with self._lock:
                    self._processes.discard(process)
            stderr.seek(0)
            errors = stderr.read()
        if self.command_log is not None:
            record = {"argv": command, "source": str(source), "startedAt": started_at,
                      "seconds": round(time.monotonic() - started, 3)}  # fmt: skip
            with self._lock, self.command_log.open("a") as log:
                log.write(json.dumps(record) + "\n")
        if timed_out.is_set():
            raise JobFailed(ERROR_TIMEOUT, f"The job did not finish within {self.job_timeout:.0f} seconds.")
        if returncode != 0:
            raise JobFailed(ERROR_DECODE, f"The input could not be decoded: {mediatools.last_error_line(errors)}")

    def _follow_progress(self, job: Job, process: subprocess.Popen[str], duration: float | None) -> None:
        """Reads ffmpeg's `-progress` key=value lines and sends STATUS_UPDATEs, at least one per job."""
        assert process.stdout is not None
        last_sent = 0.0
        sent = False
        percent = 0
        for line in process.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit() and duration:
                percent = max(percent, min(99, int(int(value) / 1e6 / duration * 100)))
            elif key == "progress":
                end = value == "end"
                if end:
                    percent = 100
                now = time.monotonic()
                if now - last_sent >= STATUS_UPDATE_SECONDS or (end and not sent):
                    with self._lock:
                        job.percent = percent
                    self._emit(job, "STATUS_UPDATE", jobProgress=_progress(percent))
                    last_sent, sent = now, True

    def _finish_error(self, job: Job, code: int, message: str) -> None:
        with self._lock:
            job.status, job.error_code, job.error_message = "ERROR", code, message
            job.finished_at = datetime.now(UTC)
        self._emit(job, "ERROR", errorCode=code, errorMessage=message)

    # -- S3 and EventBridge ----------------------------------------------------------------------

    def _source(self, url: str) -> Path:
        """The input, downloaded once per S3 object version: every job of a video (probe, remux,
        each rendition, MP4, thumbnail) reads the same source, as MediaConvert reads S3 in place."""
        match = re.match(r"^s3://([^/]+)/(.+)$", url)
        if match is None:
            raise JobFailed(ERROR_INPUT_MISSING, f"The input {url!r} is not an s3:// URL.")
        try:
            etag = str(self.s3.head_object(Bucket=match.group(1), Key=match.group(2))["ETag"]).strip('"')
        except ClientError as error:
            raise JobFailed(ERROR_INPUT_MISSING, f"The input {url} could not be read from S3: {error}") from error
        entry = hashlib.sha256(f"{url}#{etag}".encode()).hexdigest()[:32]
        with self._lock:
            entry_lock = self._source_locks.setdefault(entry, threading.Lock())
        with entry_lock:
            folder = self._cache_dir / entry
            cached = folder / (Path(match.group(2)).name or "input")
            if cached.exists():
                folder.touch()
                return cached
            staging = self._download(url, self._cache_dir / f"{entry}.partial")
            staging.parent.rename(folder)
            self._evict()
            return cached

    def _inspect(self, source: Path) -> mediatools.MediaInfo:
        """`ffmpeg -i` once per cached source (the probe and every job read the same one)."""
        with self._lock:
            known = self._inspected.get(source)
        if known is None:
            known = mediatools.inspect(source)
            with self._lock:
                self._inspected[source] = known
        return known

    def _evict(self) -> None:
        """Keeps the most recently used sources; an evicted file still open in ffmpeg stays
        readable until it closes (POSIX)."""
        entries = sorted((p for p in self._cache_dir.iterdir() if p.is_dir() and not p.name.endswith(".partial")),
                         key=lambda p: p.stat().st_mtime)  # fmt: skip
        for stale in entries[:-SOURCE_CACHE_ENTRIES]:
            shutil.rmtree(stale, ignore_errors=True)
            with self._lock:
                self._inspected = {k: v for k, v in self._inspected.items() if stale not in k.parents}

    def _download(self, url: str, folder: Path) -> Path:
        match = re.match(r"^s3://([^/]+)/(.+)$", url)
        if match is None:
            raise JobFailed(ERROR_INPUT_MISSING, f"The input {url!r} is not an s3:// URL.")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (Path(match.group(2)).name or "input")
        try:
            self.s3.download_file(match.group(1), match.group(2), str(target))
        except ClientError as error:
            raise JobFailed(ERROR_INPUT_MISSING, f"The input {url} could not be read from S3: {error}") from error
        return target

    def _download_image(self, job_input: dict[str, Any], settings: dict[str, Any], folder: Path) -> Path | None:
        image = _first_image(job_input, settings)
        if image is None:
            return None
        return self._download(image["ImageInserterInput"], folder / "watermark")

    def _upload_folder(self, folder: Path, bucket: str, prefix: str) -> None:
        # ffmpeg's stderr logs and temporary files stay behind.
        outputs = [
            (path, CONTENT_TYPES[path.suffix]) for path in sorted(folder.iterdir()) if path.suffix in CONTENT_TYPES
        ]

        def upload(output: tuple[Path, str]) -> None:
            path, content_type = output
            self.s3.upload_file(str(path), bucket, f"{prefix}{path.name}", ExtraArgs={"ContentType": content_type})

        # Segments in parallel: the emulator's S3 answers each PUT on its own thread.
        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
            list(pool.map(upload, outputs))

    def _emit(self, job: Job, status: str, **extra: Any) -> None:
        detail = {
            "timestamp": int(time.time() * 1000),
            "accountId": self.account,
            "queue": self.queue_arn,
            "jobId": job.job_id,
            "status": status,
            "userMetadata": job.request.get("UserMetadata", {}),
            **extra,
        }
        entry = {
            "Source": "aws.mediaconvert",
            "DetailType": "MediaConvert Job State Change",
            "Resources": [job.arn],
            "Detail": json.dumps(detail),
        }
        try:
            self.events.put_events(Entries=[entry])
        except ClientError:
            logger.exception("could not put the %s event of job %s", status, job.job_id)

    # -- wire format -------------------------------------------------------------------------------

    def from_wire(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        shape = self._model.operation_model(operation).input_shape
        assert shape is not None
        params: dict[str, Any] = _from_wire(shape, body)
        return params

    def to_wire(self, operation: str, result: dict[str, Any]) -> dict[str, Any]:
        shape = self._model.operation_model(operation).output_shape
        assert shape is not None
        wire: dict[str, Any] = _to_wire(shape, result)
        return wire


def _progress(percent: int) -> dict[str, Any]:
    return {"jobPercentComplete": percent, "currentPhase": "TRANSCODING", "retryCount": 0}


def _check_job_settings(params: dict[str, Any]) -> None:
    settings = params.get("Settings") or {}
    inputs = settings.get("Inputs") or []
    if len(inputs) != 1 or not str(inputs[0].get("FileInput", "")).startswith("s3://"):
        raise BadRequest("/settings/inputs: the media plane takes exactly one input with an s3:// FileInput.")
    groups = settings.get("OutputGroups") or []
    if not groups:
        raise BadRequest("/settings/outputGroups: at least one output group is required.")
    for group in groups:
        group_settings = group.get("OutputGroupSettings") or {}
        kind = group_settings.get("Type")
        key = {"HLS_GROUP_SETTINGS": "HlsGroupSettings", "FILE_GROUP_SETTINGS": "FileGroupSettings"}.get(kind or "")
        if key is None:
            raise BadRequest(f"/settings/outputGroups: type {kind} is not supported by the media plane.")
        if not str(group_settings.get(key, {}).get("Destination", "")).startswith("s3://"):
            raise BadRequest(f"/settings/outputGroups/{key}/destination: an s3:// destination is required.")
        if not group.get("Outputs"):
            raise BadRequest("/settings/outputGroups/outputs: at least one output is required.")


def _split_destination(destination: str) -> tuple[str, str, str]:
    """s3://bucket/vod/vi1/hls/240p/index -> (bucket, "vod/vi1/hls/240p/", "index")."""
    match = re.match(r"^s3://([^/]+)/(.*)$", destination)
    if match is None:
        raise JobFailed(ERROR_UNSUPPORTED, f"The destination {destination!r} is not an s3:// URL.")
    key = match.group(2)
    prefix, _, base = key.rpartition("/")
    # A destination ending in "/" means "use the input's base name", as MediaConvert does.
    return match.group(1), f"{prefix}/" if prefix else "", base or "output"


def _first_image(job_input: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any] | None:
    candidates = [job_input.get("ImageInserter")]
    for group in settings.get("OutputGroups", []):
        for output in group.get("Outputs", []):
            preprocessors = (output.get("VideoDescription") or {}).get("VideoPreprocessors") or {}
            candidates.append(preprocessors.get("ImageInserter"))
    for inserter in candidates:
        images = (inserter or {}).get("InsertableImages") or []
        if images:
            image: dict[str, Any] = images[0]
            return image
    return None


def _seconds(timecode: str, framerate: float) -> float:
    match = re.match(r"^(\d\d):(\d\d):(\d\d)[:;](\d\d)", timecode)
    if match is None:
        raise JobFailed(ERROR_UNSUPPORTED, f"The timecode {timecode!r} is not HH:MM:SS:FF.")
    hours, minutes, seconds, frames = (int(part) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds + frames / framerate


def _even(value: int) -> int:
    return max(2, value - value % 2)


@dataclass(frozen=True)
class _Plan:
    """How the input is read (clipping, watermark image), shared by every output of a job.

    The plane draws one watermark (the first ImageInserter image, from the input or any output) on every
    encoded output of the job; the app's jobs have a single output, so that is all it needs."""

    info: MediaInfo
    start: float | None
    end: float | None
    image: dict[str, Any] | None
    image_path: Path | None

    @classmethod
    def build(cls, settings: dict[str, Any], info: MediaInfo, image_path: Path | None) -> _Plan:
        job_input = settings["Inputs"][0]
        framerate = (info.video.framerate if info.video else None) or 30.0
        clipping = (job_input.get("InputClippings") or [{}])[0]
        start = _seconds(clipping["StartTimecode"], framerate) if clipping.get("StartTimecode") else None
        end = _seconds(clipping["EndTimecode"], framerate) if clipping.get("EndTimecode") else None
        image = _first_image(job_input, settings)
        return cls(info=info, start=start, end=end, image=image, image_path=image_path)

    @property
    def duration(self) -> float | None:
        total = self.info.duration
        end = self.end if self.end is not None else total
        return None if end is None else max(0.0, end - (self.start or 0.0))

    def input_args(self, source: Path) -> list[str]:
        args: list[str] = []
        if self.start is not None:
            args += ["-ss", f"{self.start:.3f}"]
        if self.end is not None:
            args += ["-to", f"{self.end:.3f}"]
        args += ["-i", str(source)]
        if self.image_path is not None:
            args += ["-i", str(self.image_path)]
        return args

    def _needs_video(self) -> None:
        if self.info.video is None:
            raise JobFailed(ERROR_INPUT_UNREADABLE, "The input has no video track")

    def video_args(self, description: dict[str, Any]) -> tuple[list[str], tuple[int, int]]:
        """ffmpeg video arguments for one VideoDescription, and the output frame size."""
        self._needs_video()
        assert self.info.video is not None
        codec = description.get("CodecSettings", {})
        if codec.get("Codec") == "PASSTHROUGH":
            return ["-map", "0:v:0", "-c:v", "copy"], self.info.video.display_size
        size = self._output_size(description)
        chain = f"[0:v:0]scale={size[0]}:{size[1]},setsar=1"
        image = self.image
        if image is not None and self.image_path is not None:
            position = f"{image.get('ImageX', 0)}:{image.get('ImageY', 0)}"
            chain = f"{chain}[base];{_overlay(image)};[base][mark]overlay={position}"
        args = ["-filter_complex", f"{chain},format=yuv420p[v]", "-map", "[v]"]
        if codec.get("Codec") == "FRAME_CAPTURE":
            quality = int(codec.get("FrameCaptureSettings", {}).get("Quality", 80))
            # ffmpeg's JPEG scale runs 2 (best) to 31; MediaConvert's 1-100 (best).
            return [*args, "-frames:v", "1", "-q:v", str(max(2, round(31 - quality * 29 / 100)))], size
        return [*args, *_h264_args(codec.get("H264Settings", {}), self.info.video.framerate)], size

    def _output_size(self, description: dict[str, Any]) -> tuple[int, int]:
        assert self.info.video is not None
        width, height = self.info.video.display_size
        out_width, out_height = description.get("Width"), description.get("Height")
        if out_width and out_height:
            return _even(int(out_width)), _even(int(out_height))
        if out_width:
            return _even(int(out_width)), _even(round(int(out_width) * height / width))
        if out_height:
            return _even(round(int(out_height) * width / height)), _even(int(out_height))
        return _even(width), _even(height)

    def audio_args(self, descriptions: list[dict[str, Any]]) -> list[str]:
        if not descriptions or self.info.audio is None:
            return ["-an"]
        codec = descriptions[0].get("CodecSettings", {})
        aac = codec.get("AacSettings", {})
        if codec.get("Codec") == "PASSTHROUGH" or (
            aac.get("PassthroughControl") == "WHEN_POSSIBLE" and self.info.audio.codec == "aac"
        ):
            return ["-map", "0:a:0", "-c:a", "copy"]
        return [
            "-map",
            "0:a:0",
            "-c:a",
            "aac",
            "-b:a",
            str(aac.get("Bitrate", 96_000)),
            "-ar",
            str(aac.get("SampleRate", 48_000)),
            "-ac",
            "1" if aac.get("CodingMode") == "CODING_MODE_1_0" else "2",
        ]

    def hls_args(self, output: dict[str, Any], child: Path, segment_seconds: int) -> list[str]:
        video, _ = self.video_args(output.get("VideoDescription") or {})
        if (output.get("VideoDescription") or {}).get("CodecSettings", {}).get("Codec") != "PASSTHROUGH":
            # Segments cut exactly every segment_seconds, each on a keyframe.
            video += ["-force_key_frames", f"expr:gte(t,n_forced*{segment_seconds})"]
        return [
            *video,
            *self.audio_args(output.get("AudioDescriptions") or []),
            "-f",
            "hls",
            "-hls_time",
            str(segment_seconds),
            "-hls_playlist_type",
            "vod",
            "-hls_list_size",
            "0",
            "-start_number",
            "1",
            "-hls_segment_filename",
            f"{child}_%05d.ts",
            f"{child}.m3u8",
        ]

    def file_name(self, base: str, output: dict[str, Any]) -> str:
        name = f"{base}{output.get('NameModifier', '')}"
        container = (output.get("ContainerSettings") or {}).get("Container", "MP4")
        codec = ((output.get("VideoDescription") or {}).get("CodecSettings") or {}).get("Codec")
        if codec == "FRAME_CAPTURE":
            return f"{name}.0000000.jpg"  # MediaConvert numbers every capture
        if container != "MP4":
            raise JobFailed(ERROR_UNSUPPORTED, f"The container {container} is not supported by the media plane.")
        return f"{name}.{output.get('Extension') or 'mp4'}"

    def file_args(self, output: dict[str, Any], target: Path) -> list[str]:
        video, _ = self.video_args(output.get("VideoDescription") or {})
        if target.suffix == ".jpg":
            return [*video, "-an", "-update", "1", str(target)]
        audio = self.audio_args(output.get("AudioDescriptions") or [])
        return [*video, *audio, "-movflags", "+faststart", str(target)]


def _overlay(image: dict[str, Any]) -> str:
    width, height = image.get("Width"), image.get("Height")
    scale = f"scale={width or -1}:{height or -1}," if width or height else ""
    opacity = int(image.get("Opacity", 100)) / 100
    return f"[1:v]{scale}format=rgba,colorchannelmixer=aa={opacity:.2f}[mark]"


def _h264_args(settings: dict[str, Any], framerate: float | None) -> list[str]:
    args = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p"]
    level = int((settings.get("QvbrSettings") or {}).get("QvbrQualityLevel", 7))
    # QVBR 1-10 (best) onto x264's CRF, capped by MaxBitrate like QVBR is.
    args += ["-crf", str(38 - 2 * level)]
    max_bitrate = settings.get("MaxBitrate") or settings.get("Bitrate")
    if max_bitrate:
        buffer = settings.get("HrdBufferSize") or 2 * int(max_bitrate)
        args += ["-maxrate", str(max_bitrate), "-bufsize", str(buffer)]
    gop = float(settings.get("GopSize", 0) or 0)
    if gop:
        frames = round(gop * (framerate or 30.0)) if settings.get("GopSizeUnits", "FRAMES") == "SECONDS" else round(gop)
        args += ["-g", str(max(1, frames)), "-keyint_min", str(max(1, frames))]
    if settings.get("GopClosedCadence", 1):
        args += ["-flags", "+cgop"]
    args += ["-bf", str(settings.get("NumberBFramesBetweenReferenceFrames", 2))]
    return args


def _hls_output(
    child: Path, plan: _Plan, output: dict[str, Any], bucket: str, prefix: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The COMPLETE event's outputDetails entry for one HLS output, and its master playlist variant."""
    playlist = child.read_text()
    durations = [float(value) for value in re.findall(r"#EXTINF:([\d.]+)", playlist)]
    segments = re.findall(r"^([^#\s].*\.ts)$", playlist, re.MULTILINE)
    peak = 0
    total_bits = 0
    for name, duration in zip(segments, durations, strict=False):
        bits = (child.parent / name).stat().st_size * 8
        total_bits += bits
        peak = max(peak, round(bits / max(duration, 0.1)))
    total = sum(durations)
    info = mediatools.inspect(child.parent / segments[0]) if segments else None
    size = info.video.display_size if info is not None and info.video is not None else None
    detail: dict[str, Any] = {
        "outputFilePaths": [f"s3://{bucket}/{prefix}{child.name}"],
        "durationInMs": round(total * 1000),
    }
    if size is not None:
        detail["videoDetails"] = {"widthInPx": size[0], "heightInPx": size[1]}
    has_audio = bool(output.get("AudioDescriptions")) and plan.info.audio is not None
    codecs = [mediatools.h264_codecs_tag(info.video if info else None)] + (["mp4a.40.2"] if has_audio else [])
    variant = {
        "uri": child.name,
        "bandwidth": peak,
        "average": round(total_bits / total) if total else peak,
        "size": size,
        "framerate": info.video.framerate if info is not None and info.video is not None else None,
        "codecs": ",".join(codecs),
    }
    return detail, variant


def _file_output(target: Path, bucket: str, prefix: str) -> dict[str, Any]:
    info = mediatools.inspect(target)
    detail: dict[str, Any] = {
        "outputFilePaths": [f"s3://{bucket}/{prefix}{target.name}"],
        "durationInMs": round((info.duration or 0) * 1000) if target.suffix != ".jpg" else 0,
    }
    if info.video is not None:
        width, height = info.video.display_size
        detail["videoDetails"] = {"widthInPx": width, "heightInPx": height}
    return detail


def _master_playlist(variants: list[dict[str, Any]]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for variant in variants:
        attributes = [f"BANDWIDTH={variant['bandwidth']}", f"AVERAGE-BANDWIDTH={variant['average']}"]
        if variant["size"] is not None:
            attributes.append(f"RESOLUTION={variant['size'][0]}x{variant['size'][1]}")
        if variant["framerate"]:
            attributes.append(f"FRAME-RATE={variant['framerate']:.3f}")
        attributes.append(f'CODECS="{variant["codecs"]}"')
        lines += [f"#EXT-X-STREAM-INF:{','.join(attributes)}", variant["uri"]]
    return "\n".join(lines) + "\n"


# -- rest-json: the model's member names <-> the camelCase names on the wire -------------------------


def _from_wire(shape: Shape, value: Any) -> Any:
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        wire_names = {member.serialization.get("name", name): (name, member) for name, member in shape.members.items()}
        return {
            wire_names[key][0]: _from_wire(wire_names[key][1], item) for key, item in value.items() if key in wire_names
        }
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_from_wire(shape.member, item) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: _from_wire(shape.value, item) for key, item in value.items()}
    return value


def _to_wire(shape: Shape, value: Any) -> Any:
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return {
            shape.members[name].serialization.get("name", name): _to_wire(shape.members[name], item)
            for name, item in value.items()
            if name in shape.members and item is not None
        }
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_to_wire(shape.member, item) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: _to_wire(shape.value, item) for key, item in value.items()}
    if isinstance(value, datetime):
        return value.timestamp()  # the model's timestamps are unix seconds
    return value


# -- HTTP ------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, plane: MediaPlane) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.plane = plane


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        logger.debug("mediaplane: " + format, *args)

    def do_POST(self) -> None:
        plane = self.server.plane
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._error(400, "BadRequestException", "The request body is not JSON.")
            return
        path = self.path.split("?")[0].rstrip("/")
        operations = {
            f"{API}/jobs": ("CreateJob", plane.create_job, 201),
            f"{API}/probe": ("Probe", plane.probe, 200),
        }
        if path not in operations:
            self._error(404, "NotFoundException", f"No such operation: POST {path}")
            return
        operation, call, status = operations[path]
        try:
            result = call(plane.from_wire(operation, body))
        except BadRequest as error:
            self._error(400, "BadRequestException", str(error))
            return
        self._json(status, plane.to_wire(operation, result))

    def do_GET(self) -> None:
        match = re.match(rf"^{API}/jobs/([^/?]+)$", self.path.split("?")[0])
        result = self.server.plane.get_job(match.group(1)) if match else None
        if result is None:
            self._error(404, "NotFoundException", "The job does not exist.")
            return
        self._json(200, self.server.plane.to_wire("GetJob", result))

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, error_type: str, message: str) -> None:
        # botocore's rest-json parser takes the error code from this header.
        self._json(status, {"message": message}, {"x-amzn-ErrorType": error_type})
