"""The hourly rollup answers what the raw events answer: every rolled measure, breakdown, interval
and filter, in DuckDB, on synthetic sessions (with stalls, failures and exits) whose rollup is
made file by file (partial rows, as the devstack's plane makes them) and split between rolled
hours and raw ones."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import pytest

from chalicelib.analytics.domain import queries
from chalicelib.analytics.domain.queries import HOUR_MS, Dimension, Filters, Interval, Measure, Scope
from devstack.athenaplane import events_view
from devstack.sessions import Quality, sessions, write_files

PROJECT = "pr" + "A" * 22
OTHER = "pr" + "B" * 22
MEDIA = ("vi" + "a" * 22, "vi" + "b" * 22, "li" + "c" * 22)
START_MS = 1_796_000_000_000  # 2026-11-30, 00:53:20 UTC: the first hour is partial
END_MS = START_MS + 5 * HOUR_MS
QUALITY = Quality(stall_every=3, fail_every=4, abandon_every=5)
ROLLED = [m for m in Measure if queries.rolled_hours(m, Scope(PROJECT, START_MS, END_MS), 2 * END_MS) is not None]
FILTERS = [
    Filters(),
    Filters(media_ids=MEDIA[:2], media_type="video"),
    Filters(continents=("EU", "NA"), countries=("FR",), device_types=("desktop",)),
    Filters(operating_systems=("Linux",), browsers=("Chrome",)),
]


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # A session a second for 3 hours from 3.6 s after the start, every hour of the scope but the first.
    many, _ = sessions(PROJECT, MEDIA, 3 * 3600, START_MS + 3600, quality=QUALITY)
    others, _ = sessions(OTHER, MEDIA, 300, START_MS, quality=QUALITY)
    files = write_files([*many, *others], tmp_path_factory.mktemp("events"), per_file=3000)
    db = duckdb.connect()
    names = ", ".join(name for name, _ in queries.ROLLUP_COLUMNS)
    for number, path in enumerate(files):  # one partial rollup a file
        events_view(db, [path])
        select = f"SELECT * FROM ({queries.rollup_select()})"
        verb = "INSERT INTO hourly" if number else "CREATE TABLE hourly AS"
        db.execute(f"{verb} {select}")
    events_view(db, files)  # held in memory: the test runs about 800 queries
    db.execute("CREATE TABLE raw_events AS SELECT * FROM events")
    db.execute("CREATE OR REPLACE VIEW events AS SELECT * FROM raw_events")
    assert db.execute(f"SELECT {names} FROM hourly").fetchall()
    yield db
    db.close()


def answers(db: Any, sql: str) -> dict[Any, Any]:
    return {row[0] if len(row) == 2 else None: row[-1] for row in db.execute(sql).fetchall()}


def same(raw: dict[Any, Any], rolled: dict[Any, Any]) -> bool:
    if raw.keys() != rolled.keys():
        return False
    return all(
        (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9))
        for a, b in ((raw[k], rolled[k]) for k in raw)
    )


@pytest.mark.parametrize("filters", FILTERS, ids=["none", "media", "viewer", "device"])
@pytest.mark.parametrize("now_ms", [END_MS + HOUR_MS, START_MS + 3 * HOUR_MS], ids=["all-rolled", "recent-raw"])
def test_rolled_answers_equal_raw_answers(connection: Any, filters: Filters, now_ms: int) -> None:
    scope = Scope(PROJECT, START_MS, END_MS, filters)
    assert len(ROLLED) == 10
    for measure in ROLLED:
        hours = queries.rolled_hours(measure, scope, now_ms)
        assert hours is not None and hours[0] > START_MS and hours[1] <= now_ms - queries.ROLLUP_DELAY_MS
        raw = answers(connection, queries.measure_sql(measure, scope))
        assert raw[None] is not None, measure
        assert same(raw, answers(connection, queries.rolled_sql(measure, scope, hours))), measure
        for dimension in Dimension:
            raw = answers(connection, queries.breakdown_sql(measure, dimension, scope))
            rolled = answers(connection, queries.rolled_sql(measure, scope, hours, dimension=dimension))
            assert same(raw, rolled), (measure, dimension)
        for interval in (Interval.HOUR, Interval.DAY):
            hours = queries.rolled_hours(measure, scope, now_ms, interval)
            assert hours is not None
            raw = answers(connection, queries.timeseries_sql(measure, interval, scope))
            rolled = answers(connection, queries.rolled_sql(measure, scope, hours, interval=interval))
            assert len(raw) > (interval == Interval.HOUR) and same(raw, rolled), (measure, interval)


def test_play_total_reads_every_rolled_hour(connection: Any) -> None:
    scope = Scope(PROJECT, None, None)
    hours = queries.rolled_hours(Measure.PLAYS, scope, END_MS + HOUR_MS)
    assert hours is not None and hours[0] == 0
    raw = answers(connection, queries.measure_sql(Measure.PLAYS, scope))
    assert raw[None] > 0 and same(raw, answers(connection, queries.rolled_sql(Measure.PLAYS, scope, hours)))


def test_what_the_rollup_cannot_answer_reads_raw_events() -> None:
    scope = Scope(PROJECT, START_MS, END_MS)
    later = END_MS + HOUR_MS
    for measure in (Measure.VIEWS, Measure.CCV_PEAK, Measure.STARTUP_TIME_P95, Measure.PLAYBACK_FAILURE_RATE,
                    Measure.WATCH_TIME_AVERAGE):  # fmt: skip
        assert queries.rolled_hours(measure, scope, later) is None
    assert queries.rolled_hours(Measure.PLAYS, scope, later, Interval.MINUTE) is None
    referred = Scope(PROJECT, START_MS, END_MS, Filters(referrers=("https://example.com/",)))
    assert queries.rolled_hours(Measure.PLAYS, referred, later) is None
    # Nothing rolled yet: the current hour and the delay before it.
    assert queries.rolled_hours(Measure.PLAYS, scope, START_MS + HOUR_MS) is None


def test_the_athena_rollup_insert_is_one_hour_of_one_day(tmp_path: Path) -> None:
    sql = queries.rollup_insert_sql(START_MS - START_MS % HOUR_MS)
    assert sql.startswith("INSERT INTO hourly SELECT ")
    assert "dt = '2026-11-30'" in sql and sql.endswith("GROUP BY project, dt, " + ", ".join(queries.ROLLUP_DIMENSIONS)
                                                      + f", ts - ts % {HOUR_MS}")  # fmt: skip
    with duckdb.connect() as db:  # DuckDB runs it too
        events_view(db, [])
        db.execute(f"CREATE TABLE hourly AS SELECT * FROM ({queries.rollup_select()})")
        db.execute(sql)


class DuckDBExecutor:
    """The QueryExecutor port over the fixture's DuckDB, recording the SQL it runs."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.sql: list[str] = []

    def rows(self, sql: str) -> list[dict[str, str | None]]:
        self.sql.append(sql)
        cursor = self.db.execute(sql)
        names = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
        return [{n: None if v is None else str(v) for n, v in zip(names, row, strict=True)} for row in rows]


def test_the_service_reads_the_rollup_by_grain_with_the_same_answers(connection: Any) -> None:
    from datetime import UTC, datetime

    from chalicelib.analytics.domain.data import Timeframe
    from chalicelib.analytics.services.metrics import MetricsService

    def at(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)

    frame = Timeframe(at(START_MS), at(END_MS))
    rolled, raw = DuckDBExecutor(connection), DuckDBExecutor(connection)
    tags = Tags({"news": [MEDIA[0], "vi" + "z" * 22]})
    services = [
        MetricsService(e, lambda: at(END_MS + HOUR_MS), tags, rollup=r) for e, r in ((rolled, True), (raw, False))
    ]
    for filters in (Filters(countries=("FR", "US")), Filters(tag="news")):
        for measure in (Measure.PLAYS, Measure.WATCH_TIME_SUM, Measure.VIEWS, Measure.STARTUP_TIME_P50):
            a, b = (s.aggregate(PROJECT, measure, frame, filters, 5) for s in services)
            assert a == b and a, measure
            c, d = (sorted(s.breakdown(PROJECT, measure, Dimension.BROWSER, frame, filters, 5)) for s in services)
            assert c == d and c, measure
            for interval in Interval:
                e, f = (s.timeseries(PROJECT, measure, interval, frame, filters, 5) for s in services)
                assert e == f and e, (measure, interval)
    assert not any(queries.ROLLUP_TABLE in sql for sql in raw.sql)
    used = [queries.ROLLUP_TABLE in sql for sql in rolled.sql]
    # plays and watch time (aggregate, breakdown, hour and day buckets) from the rollup; the rest raw.
    assert used.count(True) == 2 * 2 * 4 and len(used) == 2 * 4 * 5
    # The tag is the media carrying it: the media breakdown holds only the tagged one.
    by_media = services[0].breakdown(PROJECT, Measure.PLAYS, Dimension.MEDIA_ID, frame, Filters(tag="news"), 5)
    assert [media for media, _ in by_media] == [MEDIA[0]]
    assert services[0].aggregate(PROJECT, Measure.PLAYS, frame, Filters(tag="nothing"), 5) == 0


class Tags:
    """The tagged media port: the videos carrying each tag."""

    def __init__(self, tagged: dict[str, list[str]]) -> None:
        self.tagged = tagged

    def media_ids(self, project_id: str, tag: str) -> list[str]:
        return self.tagged.get(tag, [])
