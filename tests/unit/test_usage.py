"""Usage per project and day: the pure rules, the service over in-memory ports (each event counts
once, a broadcast's end waits for its start, the daily event once per project and day), and the
watch-time query in DuckDB over event files."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.analytics.domain import queries, usage
from chalicelib.analytics.domain.errors import BroadcastNotOpen, InvalidUsageRange
from chalicelib.analytics.domain.usage import Count, Counter, UsageDay
from chalicelib.analytics.services.usage import UsageService
from chalicelib.core.clock import to_atom
from chalicelib.core.domain import events
from devstack.athenaplane import run_query
from devstack.sessions import sessions, write_files

PROJECT = "pr" + "A" * 22
OTHER = "pr" + "B" * 22
NOW = datetime(2026, 12, 6, 0, 15, tzinfo=UTC)


# -- pure rules ------------------------------------------------------------------------------------


def test_a_broadcast_across_midnight_counts_on_both_days() -> None:
    start = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    assert usage.seconds_by_day(start, start + timedelta(hours=1)) == {"2026-12-05": 1800.0, "2026-12-06": 1800.0}
    assert usage.seconds_by_day(start, start) == {}


def test_bytes_delivered_are_watch_time_times_the_renditions_bitrate() -> None:
    assert usage.delivered_bytes({"240p": 8.0}) == 464_000
    # No rendition reported: the 720p bitrate.
    assert usage.delivered_bytes({None: 1.0, "1080p": 1.0}) == (6_096_000 + 8_628_000) // 8


def test_the_term_is_the_calendar_month_and_the_quota_counts_encoded_minutes() -> None:
    term = usage.Term.of(datetime(2026, 2, 14, tzinfo=UTC))
    assert (term.start, term.end) == (date(2026, 2, 1), date(2026, 2, 28))
    rows = [UsageDay(day="2026-02-01", encoded_seconds=600.0), UsageDay(day="2026-02-02", encoded_seconds=330.0)]
    quota = usage.quota(rows, 100)
    assert (quota.used, quota.remaining, quota.total) == (16, 84, 100)
    assert usage.quota(rows, 0).remaining == 0  # no quota: nothing remaining is invented


def test_a_usage_range_is_ordered_and_bounded() -> None:
    assert usage.days(date(2026, 1, 30), date(2026, 2, 1)) == ["2026-01-30", "2026-01-31", "2026-02-01"]
    with pytest.raises(InvalidUsageRange):
        usage.days(date(2026, 2, 2), date(2026, 2, 1))
    with pytest.raises(InvalidUsageRange):
        usage.days(date(2026, 1, 1), date(2026, 6, 1))


# -- the service over in-memory ports ------------------------------------------------------------


FIELDS = {Counter.ENCODED: "encoded_seconds", Counter.LIVE: "live_seconds", Counter.ROOM: "room_seconds"}


class MemoryCounters:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.rows: dict[tuple[str, str], UsageDay] = {}
        self.open: dict[tuple[str, str], datetime] = {}
        self.reports: dict[tuple[str, str], events.UsageDailyReady] = {}

    def count(self, count: Count, closing: str | None = None) -> bool:
        if (count.project_id, count.event_id) in self.seen:
            return False
        self.seen.add((count.project_id, count.event_id))
        for day, seconds in count.seconds_by_day.items():
            row = self.rows.get((count.project_id, day), UsageDay(day=day))
            field = FIELDS[count.counter]
            self.rows[(count.project_id, day)] = row.model_copy(update={field: getattr(row, field) + seconds})
        if closing is not None:
            del self.open[(count.project_id, closing)]
        return True

    def counted(self, project_id: str, event_id: str) -> bool:
        return (project_id, event_id) in self.seen

    def open_broadcast(self, project_id: str, live_stream_id: str, started_at: datetime) -> None:
        self.open[(project_id, live_stream_id)] = started_at

    def broadcast_start(self, project_id: str, live_stream_id: str) -> datetime | None:
        return self.open.get((project_id, live_stream_id))

    def days(self, project_id: str, first: str, last: str) -> dict[str, UsageDay]:
        return {day: row for (project, day), row in self.rows.items() if project == project_id and first <= day <= last}

    def measure_storage(self, project_id: str, day: str, stored_bytes: int) -> None:
        row = self.rows.get((project_id, day), UsageDay(day=day))
        self.rows[(project_id, day)] = row.model_copy(update={"stored_bytes": stored_bytes})

    def report(self, event: events.UsageDailyReady) -> bool:
        return self.reports.setdefault((event.project_id, event.day), event) is event


class Watched:
    def __init__(self) -> None:
        self.sql: list[str] = []

    def rows(self, sql: str) -> list[dict[str, str | None]]:
        self.sql.append(sql)
        if PROJECT not in sql:
            return []
        return [{"day": "2026-12-05", "rendition": "240p", "watched": "120.0"},
                {"day": "2026-12-05", "rendition": None, "watched": "60"}]  # fmt: skip


class Storage:
    def stored_bytes(self, project_id: str) -> int:
        return 5_000_000 if project_id == PROJECT else 0


class Projects:
    def project_ids(self) -> list[str]:
        return [PROJECT, OTHER]


class Rooms:
    """Ended room sessions' connected stretches, by project and session."""

    def __init__(self) -> None:
        self.sessions: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}

    def connected(self, project_id: str, session_id: str) -> list[tuple[datetime, datetime]] | None:
        return self.sessions.get((project_id, session_id))


@pytest.fixture
def rooms() -> Rooms:
    return Rooms()


@pytest.fixture
def counters() -> MemoryCounters:
    return MemoryCounters()


@pytest.fixture
def service(counters: MemoryCounters, rooms: Rooms) -> UsageService:
    return UsageService(counters, Watched(), Storage(), Projects(), rooms, lambda: NOW, quota_minutes=1000)


def envelope(at: datetime, event_id: str, project_id: str = PROJECT) -> dict[str, str]:
    return {"projectId": project_id, "eventId": event_id, "emittedAt": to_atom(at)}


def test_an_encoded_video_counts_once_however_often_it_is_delivered(service: UsageService) -> None:
    ready = events.VideoReady(
        **envelope(datetime(2026, 12, 5, 10, tzinfo=UTC), "ev1"), videoId="vi1", encodedSeconds=90.0
    )
    assert service.count(ready) is True
    assert service.count(ready) is False
    row = service.days(PROJECT, date(2026, 12, 5), date(2026, 12, 5))[0]
    assert row.encoded_seconds == 90.0
    # A video.ready without encoded seconds (an older event) counts nothing.
    older = events.VideoReady(**envelope(datetime(2026, 12, 5, 11, tzinfo=UTC), "ev2"), videoId="vi2")
    assert service.count(older) is False


def test_a_broadcast_counts_from_its_start_to_its_end_once(service: UsageService) -> None:
    start = datetime(2026, 12, 5, 23, 50, tzinfo=UTC)
    started = events.LiveStreamBroadcastStarted(**envelope(start, "ev3"), liveStreamId="li1")
    ended = events.LiveStreamBroadcastEnded(**envelope(start + timedelta(minutes=30), "ev4"), liveStreamId="li1")
    # The end before its start (events are not ordered): retried later.
    with pytest.raises(BroadcastNotOpen):
        service.count(ended)
    service.count(started)
    assert service.count(ended) is True
    assert service.count(ended) is False  # redelivered: already counted, no retry
    rows = service.days(PROJECT, date(2026, 12, 5), date(2026, 12, 6))
    assert [row.live_seconds for row in rows] == [600.0, 1200.0]


def test_a_room_sessions_participant_minutes_count_once_cut_at_midnight(
    service: UsageService, rooms: Rooms, counters: MemoryCounters
) -> None:
    end = datetime(2026, 12, 6, 0, 10, tzinfo=UTC)
    rooms.sessions[(PROJECT, "rs1")] = [
        (end - timedelta(minutes=30), end),  # 20 min before midnight, 10 after
        (end - timedelta(minutes=5), end - timedelta(minutes=1)),
    ]
    rooms.sessions[(PROJECT, "rs2")] = []  # nobody connected
    cdr = events.RoomCdrReady(**envelope(end, "ev6"), roomId="ro1", sessionId="rs1", participants=3)
    assert service.count(cdr) is True
    assert service.count(cdr) is False  # redelivered
    rows = service.days(PROJECT, date(2026, 12, 5), date(2026, 12, 6))
    assert [row.room_seconds for row in rows] == [1200.0, 840.0]
    empty = events.RoomCdrReady(**envelope(end, "ev7"), roomId="ro1", sessionId="rs2", participants=1)
    gone = events.RoomCdrReady(**envelope(end, "ev8"), roomId="ro1", sessionId="rs3", participants=1)
    assert service.count(empty) is False and service.count(gone) is False
    assert service.report("2026-12-06") == 2
    assert counters.reports[(PROJECT, "2026-12-06")].room_participant_minutes == 14.0


def test_a_day_merges_counters_and_watch_time(service: UsageService) -> None:
    row = service.days(PROJECT, date(2026, 12, 5), date(2026, 12, 5))[0]
    assert row.watched_seconds == 180.0
    assert row.delivered_bytes == (120 * 464_000 + 60 * 6_096_000) // 8


def test_the_account_sums_the_term_so_far_and_measures_storage_now(service: UsageService) -> None:
    service.count(events.VideoReady(**envelope(NOW, "ev5"), videoId="vi1", encodedSeconds=3000.0))
    account = service.account(PROJECT)
    assert (account.term.start, account.term.end) == (date(2026, 12, 1), date(2026, 12, 31))
    assert (account.quota.used, account.quota.remaining) == (50, 950)
    assert account.usage.stored_bytes == 5_000_000
    assert account.usage.watched_seconds == 180.0


def test_the_daily_event_is_emitted_once_per_project_and_day(service: UsageService, counters: MemoryCounters) -> None:
    assert service.report(usage.yesterday(NOW)) == 2
    assert service.report(usage.yesterday(NOW)) == 0  # a rerun emits nothing twice
    event = counters.reports[(PROJECT, "2026-12-05")]
    assert (event.watched_minutes, event.stored_bytes, event.day) == (3.0, 5_000_000, "2026-12-05")
    assert counters.reports[(OTHER, "2026-12-05")].watched_minutes == 0.0


# -- the watch-time query in DuckDB --------------------------------------------------------------


def test_the_usage_query_sums_each_days_watch_time_per_rendition(tmp_path: Path) -> None:
    start_ms = 1_796_000_000_000
    records, expected = sessions(PROJECT, ("vi" + "a" * 22,), 12, start_ms)
    others, _ = sessions(OTHER, ("vi" + "b" * 22,), 5, start_ms)
    # The first session reports a rendition (then 1080p, later): its watch time counts at the last.
    first = records[0].session_id
    marked = [
        dataclasses.replace(records[1], event="rendition", rendition="480p", watched=0.0),
        dataclasses.replace(records[2], event="rendition", rendition="1080p", watched=0.0, ts=records[2].ts + 1),
    ]
    files = write_files([*records, *marked, *others], tmp_path, per_file=100)
    day = records[0].dt
    _, rows = run_query(files, queries.usage_sql(PROJECT, day, day))
    by_rendition = {rendition: watched for _, rendition, watched in rows}
    session_watch = sum(r.watched for r in records if r.session_id == first)
    assert by_rendition["1080p"] == pytest.approx(session_watch)
    assert sum(by_rendition.values()) == pytest.approx(expected.watch_seconds)
    assert {row[0] for row in rows} == {day}
