"""What the analytics services need from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.analytics.domain.beacons import EventRecord, Viewer


class MediaDirectory(Protocol):
    def project_of(self, media_id: str) -> str | None:
        """The project that owns a video or live stream; None when no such media exists."""
        ...


class EventSink(Protocol):
    def put(self, records: Sequence[EventRecord]) -> None: ...


class ViewerParser(Protocol):
    def viewer(self, user_agent: str, country: str) -> Viewer: ...


class QueryExecutor(Protocol):
    def rows(self, sql: str) -> list[dict[str, str | None]]:
        """Runs one query; every row by column name, values as the engine's text (None: NULL)."""
        ...
