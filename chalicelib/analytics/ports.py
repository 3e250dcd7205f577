"""What the analytics services need from the outside world."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.analytics.domain.beacons import EventRecord, Viewer
    from chalicelib.analytics.domain.rollup import RollupRun
    from chalicelib.analytics.domain.usage import Count, UsageDay
    from chalicelib.core.domain.events import UsageDailyReady


class MediaDirectory(Protocol):
    def project_of(self, media_id: str) -> str | None:
        """The project that owns a video or live stream; None when no such media exists."""
        ...


class TaggedMedia(Protocol):
    def media_ids(self, project_id: str, tag: str) -> list[str]:
        """The project's videos carrying `tag` now (case sensitive)."""
        ...


class EventSink(Protocol):
    def put(self, records: Sequence[EventRecord]) -> None: ...


class ViewerParser(Protocol):
    def viewer(self, user_agent: str, country: str) -> Viewer: ...


class QueryExecutor(Protocol):
    def rows(self, sql: str) -> list[dict[str, str | None]]:
        """Runs one query; every row by column name, values as the engine's text (None: NULL)."""
        ...


class UsageCounters(Protocol):
    """The usage counters per project and day, each event counted once (keyed by its id)."""

    def count(self, count: Count, closing: str | None = None) -> bool:
        """Adds the count; False when its event was counted already. `closing`: the live stream
        whose open broadcast is removed in the same write."""
        ...

    def counted(self, project_id: str, event_id: str) -> bool: ...

    def open_broadcast(self, project_id: str, live_stream_id: str, started_at: datetime) -> None: ...

    def broadcast_start(self, project_id: str, live_stream_id: str) -> datetime | None: ...

    def days(self, project_id: str, first: str, last: str) -> dict[str, UsageDay]: ...

    def measure_storage(self, project_id: str, day: str, stored_bytes: int) -> None: ...

    def report(self, event: UsageDailyReady) -> bool:
        """Writes the day's event to the outbox once per project and day; False when it was already."""
        ...


class MediaStorage(Protocol):
    def stored_bytes(self, project_id: str) -> int:
        """Bytes the project's media and sources take now (media and uploads buckets)."""
        ...


class RoomSessions(Protocol):
    def connected(self, project_id: str, session_id: str) -> list[tuple[datetime, datetime]] | None:
        """An ended room session's participants, each from connected to left (None: no such session)."""
        ...


class ProjectDirectory(Protocol):
    def project_ids(self) -> list[str]: ...


class StatementRunner(Protocol):
    def run(self, sql: str, started: Callable[[str], None] = ...) -> str | None:
        """Runs a statement to its end; the S3 URI of its data manifest (None: it wrote nothing).
        `started` gets the execution id as soon as it exists."""
        ...

    def manifest_of(self, execution_id: str) -> str | None: ...


class RollupRuns(Protocol):
    """The record of each hour's rollup run, and the files runs wrote."""

    def last(self, hour_ms: int) -> RollupRun | None: ...

    def record(self, hour_ms: int, run: RollupRun) -> None: ...

    def written(self, manifest_uri: str) -> list[str]:
        """The keys a data manifest lists."""
        ...

    def remove(self, keys: Sequence[str]) -> None: ...
