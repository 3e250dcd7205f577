"""Source uploads in api.video's wire format: Content-Range forms, the rules a part
must satisfy, and when a set of parts is complete. Pure: no AWS here.

A part is judged twice. When the request arrives only its headers are known (the body goes
straight to S3), so `admit` applies every rule that needs no body; when the stored body has
been parsed, `accept` applies the size rules with the file's exact length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from chalicelib.core import resources
from chalicelib.core.domain import formdata
from chalicelib.core.domain.errors import DomainError, InvalidInput, Problem

MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000
MAX_TOTAL_BYTES = 52_428_800_000
# A request without Content-Range is a whole file; api.video caps those at 200 MiB.
MAX_SINGLE_REQUEST_BYTES = 200 * 1024 * 1024
HEADER = "Content-Range"
INCOMING_PREFIX = resources.INCOMING_PREFIX
SOURCES_PREFIX = resources.SOURCES_PREFIX
# Object metadata the gateway stores with each request body (x-amz-meta-*).
RANGE_METADATA = "content-range"
TOKEN_METADATA = "upload-token"
# The request's Content-Type (with the multipart boundary); the object is stored as octet-stream.
CONTENT_TYPE_METADATA = "content-type"
DELEGATED_TITLE = "Uploaded with a token"

UPLOAD_TOKEN_PREFIX = "to"

_RANGE = re.compile(
    r"^\s*(?:bytes (?P<start>\d{1,15})-(?P<end>\d{1,15})|part (?P<part>\d{1,6}))/(?P<total>\d{1,15}|\*)\s*$"
)


class RangeForm(StrEnum):
    PART = "part"
    BYTES = "bytes"


@dataclass(frozen=True)
class ContentRange:
    """One request's place in the upload. For the byte form `end` is inclusive, as on the wire."""

    form: RangeForm
    part: int = 0
    total_parts: int | None = None
    start: int = 0
    end: int = 0
    total_bytes: int | None = None

    @property
    def is_last(self) -> bool:
        if self.form is RangeForm.PART:
            return self.total_parts is not None and self.part == self.total_parts
        return self.total_bytes is not None and self.end == self.total_bytes - 1

    @property
    def key(self) -> str:
        """Sorts parts in file order: part number, or byte offset."""
        return f"part-{self.part:05d}" if self.form is RangeForm.PART else f"bytes-{self.start:015d}"

    def header(self) -> str:
        if self.form is RangeForm.PART:
            return f"part {self.part}/{self.total_parts if self.total_parts is not None else '*'}"
        return f"bytes {self.start}-{self.end}/{self.total_bytes}"


WHOLE_FILE = ContentRange(RangeForm.PART, part=1, total_parts=1)


def range_problem(slug: str, title: str) -> InvalidInput:
    return InvalidInput([Problem(slug, title, HEADER)])


def malformed() -> InvalidInput:
    return range_problem(
        "video-content-range-malformed",
        "The Content-Range header must be `part N/M`, `part N/*` or `bytes from-to/total`.",
    )


def parse_content_range(header: str | None) -> ContentRange:
    if header is None or not header.strip():
        return WHOLE_FILE
    match = _RANGE.match(header)
    if match is None:
        raise malformed()
    total = match.group("total")
    if match.group("part") is not None:
        part = int(match.group("part"))
        total_parts = None if total == "*" else int(total)
        if part < 1 or part > MAX_PARTS or (total_parts is not None and not part <= total_parts <= MAX_PARTS):
            raise range_problem(
                "video-content-range-by-part-invalid-part",
                f"Parts are numbered from 1 to the total, at most {MAX_PARTS}.",
            )
        return ContentRange(RangeForm.PART, part=part, total_parts=total_parts)
    if total == "*":
        raise malformed()
    start, end, total_bytes = int(match.group("start")), int(match.group("end")), int(total)
    if not 0 <= start <= end < total_bytes or total_bytes > MAX_TOTAL_BYTES:
        raise range_problem(
            "video-content-range-by-bytes-invalid-range",
            f"The range must satisfy from <= to < total, with a total of at most {MAX_TOTAL_BYTES} bytes.",
        )
    return ContentRange(RangeForm.BYTES, start=start, end=end, total_bytes=total_bytes)


class UploadStatus(StrEnum):
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    # A part was refused after its request was answered 2xx; the reason is the video's
    # `encoding.failure` (the SDK knows only the first two values, so the wire keeps `uploading`).
    FAILED = "failed"


class ReceivedPart(BaseModel):
    """A part whose body is stored: where its file bytes are inside the stored request."""

    model_config = ConfigDict(frozen=True)
    key: str
    part: int = 0
    start: int = 0
    end: int = 0
    size: int
    object_key: str
    offset: int
    received_at: datetime


class UploadSession(BaseModel):
    """What a video's upload has received so far."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    video_id: str
    form: RangeForm
    status: UploadStatus = UploadStatus.UPLOADING
    total_parts: int | None = None
    total_bytes: int | None = None
    received_count: int = 0
    received_bytes: int = 0
    token_id: str | None = None
    filename: str | None = None
    failure: str | None = None
    created_at: datetime


class SourceAlreadyUploaded(DomainError):
    slug = "video-source-already-uploaded"
    title = "The source of the video is already uploaded."

    def __init__(self) -> None:
        super().__init__(name="file", problems=[Problem(self.slug, self.title, "file")])


class UploadFailed(DomainError):
    slug = "video-upload-failed"
    title = "This upload failed; create a new video to upload the file again."

    def __init__(self, reason: str | None) -> None:
        super().__init__(name="file", detail=reason, problems=[Problem(self.slug, self.title, "file", reason)])


def check_envelope(content_type: str | None, body_length: int | None) -> None:
    """What the headers say about the body: the SDK always sends multipart/form-data with a
    boundary and a file. A body that cannot hold a file is refused before it is stored, so it
    is never answered 2xx and then dropped."""
    if body_length == 0:
        raise formdata.empty_file()
    formdata.boundary_of(content_type)  # raises `uploaded-file-no-file` for anything else


def admit(
    session: UploadSession | None,
    content_range: ContentRange,
    body_length: int | None,
    already_received: bool,
    has_source: bool,
) -> None:
    """The rules that need only the headers (the body is on its way to S3)."""
    if has_source or (session is not None and session.status is UploadStatus.UPLOADED):
        raise SourceAlreadyUploaded()
    if session is not None and session.status is UploadStatus.FAILED:
        raise UploadFailed(session.failure)
    if body_length is not None and content_range == WHOLE_FILE and body_length > MAX_SINGLE_REQUEST_BYTES + 65_536:
        raise InvalidInput([Problem("uploaded-file-too-large", "A single-request upload is at most 200 MiB.", "file")])
    if session is not None:
        _same_upload(session, content_range)
    if already_received:
        if content_range.form is RangeForm.PART:
            raise range_problem("video-content-range-by-part-part-already-sent", "This part was already sent.")
        raise range_problem("video-content-range-by-bytes-range-already-sent", "This range was already sent.")
    # The body is the file plus a multipart envelope, so a body this short is a short file.
    if body_length is not None and not content_range.is_last and body_length < MIN_PART_BYTES:
        raise too_small(content_range)


def _same_upload(session: UploadSession, content_range: ContentRange) -> None:
    if session.form is not content_range.form:
        slug = "video-content-range-started-with-" + session.form.value
        raise range_problem(slug, f"This upload started with the `{session.form.value}` form; keep using it.")
    if content_range.form is RangeForm.BYTES and content_range.total_bytes != session.total_bytes:
        raise range_problem(
            "video-content-range-by-bytes-total-changed", "The total must be the same in every Content-Range."
        )
    if (
        content_range.form is RangeForm.PART
        and session.total_parts is not None
        and content_range.part > session.total_parts
    ):
        raise range_problem(
            "video-content-range-by-part-invalid-part", "The part number is beyond the upload's last part."
        )
    if (
        content_range.form is RangeForm.PART
        and content_range.total_parts is not None
        and session.total_parts is not None
        and content_range.total_parts != session.total_parts
    ):
        raise range_problem(
            "video-content-range-by-part-total-changed", "The number of parts must be the same in every Content-Range."
        )


def too_small(content_range: ContentRange) -> InvalidInput:
    if content_range.form is RangeForm.PART:
        return InvalidInput(
            [
                Problem(
                    "video-content-range-by-part-uploaded-file-too-small",
                    "Every part but the last must be at least 5 MiB.",
                    "file",
                )
            ]
        )
    return range_problem(
        "video-content-range-by-bytes-uploaded-file-too-small", "Every chunk but the last must be at least 5 MiB."
    )


def accept(content_range: ContentRange, file_size: int) -> None:
    """The rules that need the file's exact length, once its body is stored."""
    if file_size == 0:
        raise InvalidInput([Problem("uploaded-file-empty", "The uploaded file is empty.", "file")])
    if not content_range.is_last and file_size < MIN_PART_BYTES:
        raise too_small(content_range)
    if content_range.form is RangeForm.BYTES and file_size != content_range.end - content_range.start + 1:
        raise range_problem(
            "video-content-range-by-bytes-size-mismatch", "The chunk's length must equal to - from + 1."
        )


def overlaps(parts: Sequence[ReceivedPart], content_range: ContentRange) -> bool:
    return content_range.form is RangeForm.BYTES and any(
        p.start <= content_range.end and content_range.start <= p.end for p in parts
    )


def is_complete(session: UploadSession) -> bool:
    if session.form is RangeForm.PART:
        return session.total_parts is not None and session.received_count == session.total_parts
    return session.total_bytes is not None and session.received_bytes == session.total_bytes


def assembly_order(session: UploadSession, parts: Sequence[ReceivedPart]) -> list[ReceivedPart]:
    """The parts in file order, checked to tile the file exactly (parts ≥ 5 MiB but the last)."""
    ordered = sorted(parts, key=lambda p: p.key)
    if session.form is RangeForm.PART:
        if [p.part for p in ordered] != list(range(1, len(ordered) + 1)):
            raise ValueError("parts are missing")
    else:
        position = 0
        for part in ordered:
            if part.start != position:
                raise ValueError("byte ranges leave a gap or overlap")
            position = part.end + 1
        if position != session.total_bytes:
            raise ValueError("byte ranges do not cover the file")
    return ordered


# -- delegated chunks without a videoId ------------------------------------------------------


@dataclass(frozen=True)
class OpenUpload:
    """A delegated upload its token started: `slot` is its form and total (`part-3`,
    `part-any` for a progressive upload, `bytes-1000`), `next` the part number or byte offset it
    expects next (one past the furthest chunk admitted so far)."""

    video_id: str
    slot: str
    next: int


def slot_of(content_range: ContentRange) -> str:
    if content_range.form is RangeForm.BYTES:
        return f"bytes-{content_range.total_bytes}"
    return f"part-{content_range.total_parts if content_range.total_parts is not None else 'any'}"


def position(content_range: ContentRange) -> int:
    return content_range.part if content_range.form is RangeForm.PART else content_range.start


def following(content_range: ContentRange) -> int:
    """The position after this chunk: what its upload expects next if chunks come in order."""
    return content_range.part + 1 if content_range.form is RangeForm.PART else content_range.end + 1


def _fits(upload: OpenUpload, content_range: ContentRange) -> bool:
    if upload.slot == "part-any":
        # A progressive upload: `part k/*`, and its last part names the total (`part n/n`).
        return content_range.form is RangeForm.PART and (content_range.total_parts is None or content_range.is_last)
    return upload.slot == slot_of(content_range)


def _unfinished(upload: OpenUpload) -> bool:
    kind, _, total = upload.slot.partition("-")
    if total == "any":
        return True
    return upload.next <= int(total) if kind == "part" else upload.next < int(total)


class AmbiguousUpload(InvalidInput):
    slug = "video-upload-ambiguous"

    def __init__(self) -> None:
        super().__init__(
            [
                Problem(
                    self.slug,
                    "More than one upload of this token could take this chunk: send its videoId.",
                    "videoId",
                    "Two uploads through one token with the same total expect this chunk. Send the video's "
                    "id (the first chunk's answer names it) as the `videoId` query parameter of every later "
                    "chunk: `/upload?token=...&videoId=...`.",
                )
            ]
        )


def not_started() -> InvalidInput:
    return InvalidInput(
        [Problem("video-upload-not-started", "Send the first part of this upload before the others.", "file")]
    )


def choose_open_upload(open_uploads: Sequence[OpenUpload], content_range: ContentRange) -> OpenUpload:
    """The one unfinished upload of a token that can take a chunk sent without a videoId: the
    only one of its form and total, or else the only one expecting exactly this chunk next.
    Anything else is refused: a guess could put one client's bytes in another's video."""
    candidates = [u for u in open_uploads if _unfinished(u) and _fits(u, content_range)]
    if not candidates:
        raise not_started()
    if len(candidates) == 1:
        return candidates[0]
    expecting = [u for u in candidates if u.next == position(content_range)]
    if len(expecting) == 1:
        return expecting[0]
    raise AmbiguousUpload()


# -- where bodies and sources live in the uploads bucket --------------------------------------


def incoming_key(project_id: str, video_id: str, request_id: str) -> str:
    return f"{INCOMING_PREFIX}{project_id}/{video_id}/{request_id}"


def source_key(project_id: str, video_id: str) -> str:
    return f"{SOURCES_PREFIX}{project_id}/{video_id}"


def parse_incoming_key(key: str) -> tuple[str, str, str] | None:
    parts = key.split("/")
    if len(parts) != 4 or f"{parts[0]}/" != INCOMING_PREFIX:
        return None
    return parts[1], parts[2], parts[3]


def parse_source_key(key: str) -> tuple[str, str] | None:
    parts = key.split("/")
    if len(parts) != 3 or f"{parts[0]}/" != SOURCES_PREFIX:
        return None
    return parts[1], parts[2]


# -- delegated upload tokens -----------------------------------------------------------------

TokenTtl = Annotated[StrictInt, Field(ge=0, le=2_147_483_647)]


class UploadTokenCreation(BaseModel):
    ttl: TokenTtl = 0


class UploadTokenQuery(BaseModel):
    sort_by: str = Field(default="createdAt", alias="sortBy", pattern="^(createdAt|ttl)$")
    sort_order: str = Field(default="asc", alias="sortOrder", pattern="^(asc|desc)$")


class UploadToken(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    token_id: str
    ttl: int
    created_at: datetime

    @property
    def expires_at(self) -> datetime | None:
        return self.created_at + timedelta(seconds=self.ttl) if self.ttl else None

    def valid_at(self, now: datetime) -> bool:
        expires = self.expires_at
        return expires is None or now < expires


def sort_tokens(tokens: Sequence[UploadToken], query: UploadTokenQuery) -> list[UploadToken]:
    def sort_key(token: UploadToken) -> tuple[int | datetime, str]:
        return (token.ttl if query.sort_by == "ttl" else token.created_at, token.token_id)

    return sorted(tokens, key=sort_key, reverse=query.sort_order == "desc")
