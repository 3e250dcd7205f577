"""What the shared kernel's services need from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

# Types only: importing the ports must not pull in PyJWT or every model (cold-start budget).
if TYPE_CHECKING:
    from chalicelib.core.domain.access import Principal
    from chalicelib.core.domain.audit import AuditEvent


class AuditLog(Protocol):
    def append(self, event: AuditEvent) -> None: ...
    def between(self, project_id: str, since: datetime, until: datetime) -> Sequence[AuditEvent]: ...


class RateCounter(Protocol):
    def hit(self, project_id: str, bucket: str, window_start: int, window_seconds: int) -> int: ...


class MediaFiles(Protocol):
    """Files served to players (the media bucket)."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def delete(self, key: str) -> None: ...
    def url(self) -> str:
        """`s3://bucket`, the prefix MediaConvert reads the files from."""
        ...


class Authenticator(Protocol):
    """Resolves the caller of a request from its Authorization header (Bearer token or Basic key)."""

    def authenticate(self, authorization: str | None, request_id: str) -> Principal: ...
