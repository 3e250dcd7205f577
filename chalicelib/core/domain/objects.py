"""What a bucket holds, as the services see it: stored objects, byte slices and multipart parts."""

from __future__ import annotations

from dataclasses import dataclass, field

OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Slice:
    """Bytes [start, end) of a stored object."""

    key: str
    start: int
    end: int


@dataclass(frozen=True)
class StoredPart:
    """A part S3 already holds of a multipart upload."""

    number: int
    size: int
    etag: str
