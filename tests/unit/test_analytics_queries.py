"""Every query the builder makes runs in DuckDB (the devstack's executor) over event files as
Firehose writes them, and the answers match synthetic sessions with known totals; another
project's events never count."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import pytest

from chalicelib.analytics.domain import queries
from chalicelib.analytics.domain.queries import Dimension, Filters, Interval, Measure, Scope
from devstack.athenaplane import events_view, run_query
from devstack.sessions import COUNTRIES, Expected, Quality, sessions, write_files

PROJECT = "pr" + "A" * 22
OTHER = "pr" + "B" * 22
MEDIA = ("vi" + "a" * 22, "vi" + "b" * 22, "li" + "c" * 22)
START_MS = 1_796_000_000_000  # 2026-11-30, 00:53:20 UTC
END_MS = START_MS + 2 * 3600_000
SCOPE = Scope(PROJECT, START_MS, END_MS)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Expected]:
    records, expected = sessions(PROJECT, MEDIA, 60, START_MS)
    others, _ = sessions(OTHER, MEDIA, 25, START_MS)
    return write_files([*records, *others], tmp_path_factory.mktemp("events"), per_file=200), expected


def value(files: list[Path], sql: str) -> Any:
    _, rows = run_query(files, sql)
    assert len(rows) == 1, sql
    return rows[0][-1]


def grouped(files: list[Path], sql: str) -> dict[Any, Any]:
    _, rows = run_query(files, sql)
    return {row[0]: row[1] for row in rows}


FILTERS = [
    Filters(),
    Filters(media_ids=MEDIA[:2], media_type="video"),
    Filters(continents=("EU", "NA"), countries=("FR",), device_types=("desktop",)),
    Filters(operating_systems=("Linux",), browsers=("Chrome",), referrers=("https://example.com/it's",)),
]


@pytest.mark.parametrize("filters", FILTERS, ids=["none", "media", "viewer", "quoted-referrer"])
def test_every_generated_query_runs_in_duckdb(store: tuple[list[Path], Expected], filters: Filters) -> None:
    files, _ = store
    generated = queries.every_query(Scope(PROJECT, START_MS, END_MS, filters))
    assert len(generated) == 1 + len(Measure) * (1 + len(Dimension) + len(Interval))
    with duckdb.connect() as connection:  # one view for all (run_query makes one a query)
        events_view(connection, files)
        for sql in generated:
            cursor = connection.execute(sql)
            cursor.fetchall()
            assert [d[0] for d in cursor.description or []][-1] == "value", sql
            assert f"project = '{PROJECT}'" in sql


def test_every_query_of_a_project_without_events_answers_nothing_or_zero(tmp_path: Path) -> None:
    with duckdb.connect() as connection:
        events_view(connection, [])
        for sql in queries.every_query(Scope(PROJECT, START_MS, END_MS)):
            rows = connection.execute(sql).fetchall()
            assert all(row[-1] in (None, 0) for row in rows), sql


def test_counts_and_sums_match_the_sessions(store: tuple[list[Path], Expected]) -> None:
    files, expected = store
    assert value(files, queries.measure_sql(Measure.PLAYS, SCOPE)) == expected.plays == 48
    assert value(files, queries.measure_sql(Measure.STARTS, SCOPE)) == expected.starts
    assert value(files, queries.measure_sql(Measure.ENDS, SCOPE)) == expected.ends
    assert value(files, queries.measure_sql(Measure.IMPRESSIONS, SCOPE)) == expected.impressions == 60
    assert value(files, queries.measure_sql(Measure.PLAY_RATE, SCOPE)) == pytest.approx(48 / 60)
    assert value(files, queries.measure_sql(Measure.WATCH_TIME_SUM, SCOPE)) == expected.watch_seconds
    assert value(files, queries.measure_sql(Measure.WATCH_TIME_AVERAGE, SCOPE)) == pytest.approx(
        expected.watch_seconds / expected.plays
    )
    assert value(files, queries.measure_sql(Measure.IMPRESSION_TIME_SUM, SCOPE)) == expected.startup_ms_sum
    for seconds, sessions_that_long in expected.views.items():
        assert value(files, queries.measure_sql(Measure.VIEWS, SCOPE, view_seconds=seconds)) == sessions_that_long


def test_breakdowns_match_the_sessions(store: tuple[list[Path], Expected]) -> None:
    files, expected = store
    by_country = grouped(files, queries.breakdown_sql(Measure.PLAYS, Dimension.COUNTRY, SCOPE))
    assert by_country == dict(expected.plays_by_country)
    assert set(by_country) == {country for country, _ in COUNTRIES}
    assert grouped(files, queries.breakdown_sql(Measure.PLAYS, Dimension.DEVICE_TYPE, SCOPE)) == dict(
        expected.plays_by_device
    )
    assert grouped(files, queries.breakdown_sql(Measure.PLAYS, Dimension.MEDIA_ID, SCOPE)) == dict(
        expected.plays_by_media
    )
    by_type = grouped(files, queries.breakdown_sql(Measure.PLAYS, Dimension.MEDIA_TYPE, SCOPE))
    assert by_type == {"video": expected.plays_by_media[MEDIA[0]] + expected.plays_by_media[MEDIA[1]],
                       "live-stream": expected.plays_by_media[MEDIA[2]]}  # fmt: skip


def test_filters_narrow_the_counts(store: tuple[list[Path], Expected]) -> None:
    files, expected = store
    france = Scope(PROJECT, START_MS, END_MS, Filters(countries=("FR",)))
    assert value(files, queries.measure_sql(Measure.PLAYS, france)) == expected.plays_by_country["FR"]
    one = Scope(PROJECT, START_MS, END_MS, Filters(media_ids=(MEDIA[0],)))
    assert value(files, queries.measure_sql(Measure.PLAYS, one)) == expected.plays_by_media[MEDIA[0]]
    nobody = Scope(PROJECT, START_MS, END_MS, Filters(browsers=("Netscape",)))
    assert value(files, queries.measure_sql(Measure.PLAYS, nobody)) is None  # SUM of nothing


@pytest.mark.parametrize("interval", list(Interval))
def test_timeseries_buckets_add_up_to_the_total(store: tuple[list[Path], Expected], interval: Interval) -> None:
    files, expected = store
    series = grouped(files, queries.timeseries_sql(Measure.PLAYS, interval, SCOPE))
    assert sum(series.values()) == expected.plays
    assert all(at % interval.milliseconds == 0 for at in series)


def test_the_timeframe_excludes_events_outside_it(store: tuple[list[Path], Expected]) -> None:
    files, _ = store
    # Sessions start one a second: the first 10 s hold 10 impressions.
    ten_seconds = Scope(PROJECT, START_MS, START_MS + 10_000)
    assert value(files, queries.measure_sql(Measure.IMPRESSIONS, ten_seconds)) == 10
    before = Scope(PROJECT, START_MS - 3600_000, START_MS)
    assert value(files, queries.measure_sql(Measure.IMPRESSIONS, before)) is None


def test_ccv_counts_sessions_per_minute(store: tuple[list[Path], Expected]) -> None:
    files, _ = store
    peak = value(files, queries.measure_sql(Measure.CCV_PEAK, SCOPE))
    # 60 sessions one a second, each under 30 s: at most one minute's worth plus the overlap.
    assert 30 <= peak <= 60
    live = value(files, queries.live_viewers_sql(PROJECT, START_MS + 30_000, Filters()))
    assert live > 0


def test_the_other_projects_events_never_count(store: tuple[list[Path], Expected]) -> None:
    files, _ = store
    other = Scope(OTHER, START_MS, END_MS)
    assert value(files, queries.measure_sql(Measure.IMPRESSIONS, other)) == 25
    assert value(files, queries.measure_sql(Measure.IMPRESSIONS, Scope("pr" + "C" * 22, START_MS, END_MS))) is None


def test_a_hostile_filter_value_stays_a_literal(store: tuple[list[Path], Expected]) -> None:
    files, _ = store
    hostile = Scope(PROJECT, START_MS, END_MS, Filters(countries=("FR') OR ('1'='1",)))
    assert value(files, queries.measure_sql(Measure.PLAYS, hostile)) is None
    with pytest.raises(ValueError):
        queries.literal("FR\n")


# -- quality of experience ----------------------------------------------------------------------

QUALITY = Quality(stall_every=4, stall_ms=3000, fail_every=6, abandon_every=5)


@pytest.fixture(scope="module")
def qoe_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Expected]:
    records, expected = sessions(PROJECT, MEDIA, 200, START_MS, quality=QUALITY)
    others, _ = sessions(OTHER, MEDIA, 30, START_MS, quality=Quality(fail_every=1))
    return write_files([*records, *others], tmp_path_factory.mktemp("qoe"), per_file=500), expected


def nearest_rank(values: list[int], fraction: float) -> int:
    ordered = sorted(values)
    return ordered[math.ceil(fraction * len(ordered)) - 1]


def test_quality_of_experience_matches_the_sessions(qoe_store: tuple[list[Path], Expected]) -> None:
    files, expected = qoe_store
    assert expected.stalls > 0 and expected.failures > 0 and expected.exits_before_start > 0
    assert value(files, queries.measure_sql(Measure.STARTUP_TIME_P50, SCOPE)) == nearest_rank(expected.startups_ms, 0.5)
    assert value(files, queries.measure_sql(Measure.STARTUP_TIME_P95, SCOPE)) == nearest_rank(
        expected.startups_ms, 0.95
    )
    assert value(files, queries.measure_sql(Measure.REBUFFER_PERCENTAGE, SCOPE)) == pytest.approx(
        expected.stalled_seconds / expected.watch_seconds
    )
    assert value(files, queries.measure_sql(Measure.REBUFFER_FREQUENCY, SCOPE)) == pytest.approx(
        expected.stalls * 60 / expected.watch_seconds
    )
    assert value(files, queries.measure_sql(Measure.PLAYBACK_FAILURE_RATE, SCOPE)) == pytest.approx(
        expected.failures / expected.plays
    )
    assert value(files, queries.measure_sql(Measure.EXITS_BEFORE_START_RATE, SCOPE)) == pytest.approx(
        expected.exits_before_start / expected.plays
    )


def test_quality_breaks_down_by_viewer_and_time(qoe_store: tuple[list[Path], Expected]) -> None:
    files, expected = qoe_store
    by_device = grouped(files, queries.breakdown_sql(Measure.STARTUP_TIME_P50, Dimension.DEVICE_TYPE, SCOPE))
    assert set(by_device) == set(expected.plays_by_device)
    assert all(min(expected.startups_ms) <= v <= max(expected.startups_ms) for v in by_device.values())
    failures = grouped(files, queries.breakdown_sql(Measure.PLAYBACK_FAILURE_RATE, Dimension.COUNTRY, SCOPE))
    assert set(failures) == set(expected.plays_by_country) and all(0 <= v <= 1 for v in failures.values())
    daily = grouped(files, queries.timeseries_sql(Measure.STARTUP_TIME_P95, Interval.DAY, SCOPE))
    assert list(daily.values()) == [nearest_rank(expected.startups_ms, 0.95)]  # one day holds every session


def test_unique_views_count_a_session_once_a_utc_day(tmp_path: Path) -> None:
    """A session watched 5 s before midnight and 10 s after: one view (of 15 s), two unique views
    (one a day); at 10 s a view, only the second day's is a unique view."""
    midnight = 1_796_083_200_000  # 2026-12-01T00:00:00Z
    records, _ = sessions(PROJECT, MEDIA[:1], 1, midnight - 5_500, heartbeats=3, exit_every=0)
    assert {r.dt for r in records} == {"2026-11-30", "2026-12-01"}
    files = write_files(records, tmp_path)
    scope = Scope(PROJECT, midnight - 3600_000, midnight + 3600_000)
    assert value(files, queries.measure_sql(Measure.VIEWS, scope, view_seconds=5)) == 1
    assert value(files, queries.measure_sql(Measure.UNIQUE_VIEWS, scope, view_seconds=5)) == 2
    assert value(files, queries.measure_sql(Measure.UNIQUE_VIEWS, scope, view_seconds=10)) == 1
    assert value(files, queries.measure_sql(Measure.VIEWS, scope, view_seconds=10)) == 1
