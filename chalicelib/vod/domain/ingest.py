"""Sources that arrive without an upload (api.video's `source` on POST /videos) and the rules of
direct S3 multipart uploads: pure decisions only, no I/O.

`source` is either an http(s) URL, fetched by the ingest consumer through the SSRF guard, or
the videoId of a video of the same project, whose source is copied inside S3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel, ConfigDict

from chalicelib.core import ids
from chalicelib.core.domain import urlguard
from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.vod.domain.videos import VIDEO_ID_PREFIX

MIB = 1024 * 1024
GIB = 1024 * MIB
TIB = 1024 * GIB

# -- fetching a URL ---------------------------------------------------------------------------

# The body is streamed to S3 in parts of this size, so a fetch holds one part in memory.
FETCH_PART_BYTES = 8 * MIB
MAX_FETCH_BYTES = 30 * GIB
FETCH_TIMEOUT_SECONDS = 30.0
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# -- S3 multipart limits (CreateMultipartUpload / UploadPart / UploadPartCopy) -----------------

MIN_PART_BYTES = 5 * MIB
MAX_PART_BYTES = 5 * GIB
MAX_PARTS = 10_000
MAX_OBJECT_BYTES = 5 * TIB
# CopyObject copies at most 5 GB in one request; larger sources are copied part by part.
MAX_SINGLE_COPY_BYTES = 5 * GIB
# Fewer, larger parts mean fewer requests; 16 MiB keeps a browser's retry of one part cheap.
DEFAULT_MIN_PART_BYTES = 16 * MIB
COPY_PART_BYTES = 512 * MIB


class IngestKind(StrEnum):
    URL = "url"
    COPY = "copy"
    RECORDING = "recording"  # a live stream's recorded broadcast or a room's recording (domain/recordings.py)


@dataclass(frozen=True)
class UrlSource:
    url: str


@dataclass(frozen=True)
class CopySource:
    video_id: str


Source = UrlSource | CopySource


def source_problem(title: str, detail: str | None = None) -> InvalidInput:
    return InvalidInput([Problem("invalid-attribute", title, "source", detail)])


def classify_source(value: str) -> Source:
    """A videoId, an http(s) URL, or a 400 naming `source`."""
    if ids.is_id(value, VIDEO_ID_PREFIX):
        return CopySource(value)
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is not None and parts.scheme and parts.netloc:
        if parts.scheme.lower() not in urlguard.SCHEMES:
            raise source_problem("The source URL is not allowed.", "Only http and https URLs can be ingested.")
        return UrlSource(value)
    raise source_problem("The source is not valid.", "Give an http(s) URL or the videoId of a video of this project.")


def check_source_url(
    url: str,
    allow_loopback: bool = False,
    resolver: urlguard.Resolver | None = None,
    denied_ports: frozenset[int] = frozenset(),
) -> urlguard.Target:
    """The webhook SSRF guard, reported as a 400 on `source` (the request was about a video)."""
    try:
        return urlguard.check(url, allow_loopback=allow_loopback, resolver=resolver, denied_ports=denied_ports)
    except urlguard.UrlForbidden as refused:
        raise source_problem("The source URL is not allowed.", refused.detail) from refused


class FetchFailed(Exception):
    """Fetching or storing a source failed for a reason the user can act on; `reason` is shown."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def redirect_url(current: str, status: int, location: str | None) -> str:
    """Where a 3xx points, relative Locations resolved against the current URL. The caller checks
    the result with the SSRF guard like any other URL before connecting."""
    if not location:
        raise FetchFailed(f"The source URL answered HTTP {status} without a Location.")
    return urljoin(current, location.strip())


def refused_hop(hop: int, detail: str | None) -> FetchFailed:
    where = "The source URL" if hop == 0 else f"Redirect {hop} of the source URL"
    return FetchFailed(f"{where} is not allowed: {detail}")


# -- the message the ingest consumer receives ------------------------------------------------


@dataclass(frozen=True)
class IngestMessage:
    """Sent on the sources queue next to S3's notifications; `Records` tells those apart."""

    kind: IngestKind
    project_id: str
    video_id: str
    url: str | None = None
    from_video_id: str | None = None
    # RECORDING: the recording's key prefixes in the media bucket, the cut (of 12 h) this video
    # is, and the live stream (none for a room's recording).
    recordings: tuple[str, ...] = ()
    cut: int = 0
    live_stream_id: str | None = None

    def body(self) -> str:
        data: dict[str, Any] = {"ingest": self.kind.value, "projectId": self.project_id, "videoId": self.video_id}
        if self.kind is IngestKind.URL:
            data["url"] = self.url
        elif self.kind is IngestKind.COPY:
            data["fromVideoId"] = self.from_video_id
        else:
            data.update(recordings=list(self.recordings), cut=self.cut, liveStreamId=self.live_stream_id)
        return json.dumps(data)

    @classmethod
    def from_body(cls, body: str) -> IngestMessage | None:
        """The message, or None for anything else (an S3 notification or test event)."""
        data = json.loads(body)
        if not isinstance(data, dict) or "Records" in data or "ingest" not in data:
            return None
        kind = IngestKind(data["ingest"])
        message = cls(
            kind,
            str(data["projectId"]),
            str(data["videoId"]),
            data.get("url"),
            data.get("fromVideoId"),
            tuple(str(prefix) for prefix in data.get("recordings", ())),
            int(data.get("cut", 0)),
            data.get("liveStreamId"),
        )
        if (
            (kind is IngestKind.URL and not message.url)
            or (kind is IngestKind.COPY and not message.from_video_id)
            or (kind is IngestKind.RECORDING and not message.recordings)
        ):
            raise ValueError(f"ingest message without its {kind.value} origin")
        return message


# -- direct multipart uploads ------------------------------------------------------------------


@dataclass(frozen=True)
class PartPlan:
    filesize: int
    part_size: int
    count: int

    def size_of(self, number: int) -> int:
        """Every part is `part_size` except the last, which takes the rest."""
        if number < self.count:
            return self.part_size
        return self.filesize - self.part_size * (self.count - 1)

    def sizes(self) -> list[tuple[int, int]]:
        return [(n, self.size_of(n)) for n in range(1, self.count + 1)]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def plan_parts(filesize: int, part_size: int | None = None) -> PartPlan:
    """How a file of `filesize` bytes is cut for S3: at most 10,000 parts of 5 MiB to 5 GiB (the
    last may be smaller). Without a chosen size: whole MiB, at least 16 MiB, few enough parts."""
    if not 1 <= filesize <= MAX_OBJECT_BYTES:
        raise InvalidInput(
            [Problem("invalid-attribute", "The file size must be between 1 byte and 5 TiB.", "filesize")]
        )
    if part_size is None:
        part_size = max(DEFAULT_MIN_PART_BYTES, _ceil_div(_ceil_div(filesize, MAX_PARTS), MIB) * MIB)
    elif not MIN_PART_BYTES <= part_size <= MAX_PART_BYTES:
        raise InvalidInput([Problem("invalid-attribute", "The part size must be between 5 MiB and 5 GiB.", "partSize")])
    count = _ceil_div(filesize, part_size)
    if count > MAX_PARTS:
        raise InvalidInput(
            [
                Problem(
                    "invalid-attribute",
                    f"The part size cuts the file into {count} parts; S3 takes at most {MAX_PARTS}.",
                    "partSize",
                )
            ]
        )
    return PartPlan(filesize=filesize, part_size=part_size, count=count)


class DirectUploadStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    ABORTED = "aborted"


class DirectUpload(BaseModel):
    """A presigned S3 multipart upload of a video's source, kept so it can be resumed and listed."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    video_id: str
    upload_id: str
    filesize: int
    part_size: int
    parts_count: int
    status: DirectUploadStatus = DirectUploadStatus.OPEN
    created_at: datetime

    @property
    def plan(self) -> PartPlan:
        return PartPlan(filesize=self.filesize, part_size=self.part_size, count=self.parts_count)


def missing_parts(plan: PartPlan, stored: dict[int, int]) -> list[int]:
    """Parts S3 does not have at their planned size (`stored`: part number -> size)."""
    return [number for number, size in plan.sizes() if stored.get(number) != size]


def copy_ranges(size: int) -> list[tuple[int, int]]:
    """Inclusive byte ranges for UploadPartCopy of an object too large for CopyObject."""
    part = max(COPY_PART_BYTES, _ceil_div(size, MAX_PARTS))
    return [(start, min(start + part, size) - 1) for start in range(0, size, part)]
