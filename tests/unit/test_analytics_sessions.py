"""The session views' queries run in DuckDB (the devstack's executor) over event files as Firehose
writes them and answer what the synthetic sessions hold; their period, metadata and event rules."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from botocore.stub import Stubber

from chalicelib.analytics.adapters.athena import PAGE_SIZE, AthenaQueries
from chalicelib.analytics.domain import queries, sessions
from chalicelib.analytics.domain.beacons import EventRecord, EventType, MediaType, stored_metadata
from chalicelib.analytics.domain.queries import Filters, Scope
from chalicelib.analytics.services.sessions import SessionsService
from chalicelib.core import resources
from chalicelib.core.domain.errors import InvalidInput, NotFound
from chalicelib.core.domain.pagination import PageRequest
from devstack.athenaplane import events_view, run_query
from devstack.sessions import sessions as synthetic
from devstack.sessions import write_files
from tests.unit.test_analytics_adapters import EXECUTION, checked, client, page

PROJECT = "pr" + "A" * 22
OTHER = "pr" + "B" * 22
MEDIA = ("vi" + "a" * 22, "vi" + "b" * 22)
START_MS = 1_796_000_000_000  # 2026-11-30, 00:53:20 UTC
END_MS = START_MS + 2 * 3600_000
KINDS = list(sessions.LISTED_EVENTS)
# Pairs with LIKE's wildcards, quotes and the escape character: each must match only itself.
TAGGED = {
    "synthetic-00000000": {"user": "a%b", "plan": "pro"},
    "synthetic-00000002": {"user": "a_b"},
    "synthetic-00000004": {"user": "aXb", "note": 'it\'s ! "quoted"'},
}


def with_metadata(records: list[EventRecord]) -> list[EventRecord]:
    return [dataclasses.replace(r, metadata=stored_metadata(TAGGED.get(r.session_id, {}))) for r in records]


def seeks_and_pauses(session: str, at: int) -> list[EventRecord]:
    """A session of the first media that pauses, resumes, seeks forward then back, in one second."""
    base, _ = synthetic(PROJECT, MEDIA[:1], 1, at, exit_every=0)
    first = dataclasses.replace(base[0], session_id=session)

    def event(kind: EventType, offset: int, playhead: float, seek_from: float | None = None) -> EventRecord:
        return dataclasses.replace(first, event=kind.value, ts=at + offset, playhead=playhead, seek_from=seek_from)

    return [
        event(EventType.IMPRESSION, 0, 0),
        event(EventType.PLAY, 10, 0),
        event(EventType.HEARTBEAT, 20, 4.2),
        event(EventType.PAUSE, 30, 4.7),
        event(EventType.RESUME, 40, 4.7),
        event(EventType.SEEK, 50, 30.9, seek_from=4.7),
        event(EventType.SEEK, 60, 2.0, seek_from=31.0),
        event(EventType.END, 70, 60.0),
    ]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    mine, _ = synthetic(PROJECT, MEDIA, 20, START_MS)
    others, _ = synthetic(OTHER, MEDIA, 10, START_MS)
    late, _ = synthetic(PROJECT, MEDIA, 4, END_MS + 60_000)  # after the period
    late = [dataclasses.replace(r, session_id="late-" + r.session_id) for r in late]
    records = [*with_metadata(mine), *others, *late, *seeks_and_pauses("seeker-000000001", START_MS + 600_000)]
    return write_files(records, tmp_path_factory.mktemp("events"), per_file=97)


def media_scope(media_id: str = MEDIA[0], project: str = PROJECT) -> Scope:
    return Scope(project, START_MS, END_MS, Filters(media_ids=(media_id,)))


def listed(files: list[Path], sql: str) -> list[dict[str, Any]]:
    columns, rows = run_query(files, sql)
    return [dict(zip([name for name, _ in columns], row, strict=True)) for row in rows]


def test_every_session_query_runs_in_duckdb_and_stays_in_the_project(files: list[Path]) -> None:
    fragments = [sessions.metadata_fragment(k, v) for k, v in TAGGED["synthetic-00000004"].items()]
    generated = [
        queries.media_sessions_sql(media_scope(), [], 0, 25),
        queries.media_sessions_sql(media_scope(), fragments, 25, 25),
        queries.media_sessions_count_sql(media_scope(), fragments),
        queries.session_events_sql(PROJECT, "seeker-000000001", KINDS, 0, 100),
        queries.session_count_sql(PROJECT, "it's'--", KINDS),
    ]
    with duckdb.connect() as connection:
        events_view(connection, files)
        for sql in generated:
            connection.execute(sql).fetchall()
            assert f"project = '{PROJECT}'" in sql


def test_a_media_lists_its_sessions_of_the_period_oldest_first_with_the_total(files: list[Path]) -> None:
    rows = listed(files, queries.media_sessions_sql(media_scope(), [], 0, 100))
    # Media alternate: sessions 0, 2, ..., 18 are the first media's; the late ones are outside.
    assert [r["session_id"] for r in rows] == [f"synthetic-{i:08d}" for i in range(0, 20, 2)] + ["seeker-000000001"]
    assert {r["total"] for r in rows} == {11}
    first = rows[0]
    assert first["loaded"] == START_MS and first["ended"] > first["loaded"]
    assert (first["country"], first["device_type"], first["browser"]) == ("FR", "desktop", "Chrome")
    assert first["referrer"] == "https://example.com/synthetic"
    assert sessions.metadata_list(str(first["metadata"])) == [
        {"key": "plan", "value": "pro"},
        {"key": "user", "value": "a%b"},
    ]


def test_pages_of_sessions_carry_the_total_and_a_page_past_the_end_is_counted(files: list[Path]) -> None:
    second = listed(files, queries.media_sessions_sql(media_scope(), [], 4, 4))
    assert [r["session_id"] for r in second] == [f"synthetic-{i:08d}" for i in (8, 10, 12, 14)]
    assert second[0]["total"] == 11
    assert listed(files, queries.media_sessions_sql(media_scope(), [], 40, 4)) == []
    assert listed(files, queries.media_sessions_count_sql(media_scope(), [])) == [{"total": 11}]


def test_another_projects_media_lists_nothing_here(files: list[Path]) -> None:
    assert listed(files, queries.media_sessions_count_sql(media_scope(project="pr" + "C" * 22), [])) == [{"total": 0}]


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ({"user": "a%b"}, ["synthetic-00000000"]),
        ({"user": "a_b"}, ["synthetic-00000002"]),
        ({"user": "aXb"}, ["synthetic-00000004"]),
        ({"user": "a%b", "plan": "pro"}, ["synthetic-00000000"]),
        ({"user": "a_b", "plan": "pro"}, []),
        ({"note": 'it\'s ! "quoted"'}, ["synthetic-00000004"]),
        ({"note": "it's"}, []),
        ({"plan": "pr"}, []),
        ({"user": "a"}, []),
    ],
)
def test_metadata_pairs_match_exactly_whatever_their_characters(
    files: list[Path], pairs: dict[str, str], expected: list[str]
) -> None:
    fragments = [sessions.metadata_fragment(k, v) for k, v in sorted(pairs.items())]
    rows = listed(files, queries.media_sessions_sql(media_scope(), fragments, 0, 100))
    assert [r["session_id"] for r in rows] == expected


def test_a_sessions_events_come_in_order_as_api_video_named_them(files: list[Path]) -> None:
    rows = listed(files, queries.session_events_sql(PROJECT, "seeker-000000001", KINDS, 0, 100))
    events = [sessions.session_event(str(r["event"]), int(r["ts"]), float(r["playhead"]), r["seek_from"]) for r in rows]
    assert [(e.type, e.at, e.from_, e.to) for e in events] == [
        ("ready", 0, None, None),
        ("play", 0, None, None),
        ("pause", 4, None, None),
        ("resume", 4, None, None),
        ("seek.forward", None, 4, 30),
        ("seek.backward", None, 31, 2),
        ("end", 60, None, None),
    ]
    assert [e.emitted_ms - START_MS - 600_000 for e in events] == [0, 10, 30, 40, 50, 60, 70]
    assert {r["total"] for r in rows} == {7}


def test_a_session_of_another_project_is_not_found_and_one_of_ours_is_counted(files: list[Path]) -> None:
    assert listed(files, queries.session_count_sql(OTHER, "seeker-000000001", KINDS)) == [{"found": 0, "total": None}]
    assert listed(files, queries.session_count_sql(PROJECT, "seeker-000000001", KINDS)) == [{"found": 8, "total": 7}]
    assert listed(files, queries.session_events_sql(PROJECT, "seeker-000000001", KINDS, 7, 10)) == []


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2026-11-30", datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-W01", datetime(2025, 12, 29, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-11-29/2026-12", datetime(2026, 11, 29, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_periods_are_days_weeks_months_years_and_ranges(period: str, start: datetime, end: datetime) -> None:
    assert sessions.period_of(period) == sessions.Period(start, end)


@pytest.mark.parametrize("period", ["", "2026-13", "2026-02-30", "2026-W54", "2026-12/2026-11", "yesterday", "2026/"])
def test_other_periods_are_refused_as_invalid_query_parameters(period: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        sessions.period_of(period)
    assert (refused.value.first.slug, refused.value.first.name) == ("request-invalid-query-parameter", "period")


def test_metadata_comes_from_deep_object_pairs_and_refuses_control_characters() -> None:
    assert sessions.metadata_of({"metadata[user]": ["a", "b"], "period": ["2026"]}) == {"user": "b"}
    with pytest.raises(InvalidInput):
        sessions.metadata_of({"metadata[user]": ["a\nb"]})
    with pytest.raises(InvalidInput):
        sessions.metadata_of({"metadata[]": ["a"]})
    with pytest.raises(InvalidInput):
        sessions.metadata_of({f"metadata[k{i}]": ["v"] for i in range(11)})


# -- the service over Athena (Stubber and the strict model walk) -----------------------------------


class Directory:
    """The media lookup port: the media ids each project has."""

    def __init__(self, owned: dict[str, str]) -> None:
        self.owned = owned

    def project_of(self, media_id: str) -> str | None:
        return self.owned.get(media_id)


def athena_answers(stubber: Stubber, sql: str, names: list[str], rows: list[list[str | None]]) -> None:
    """One query as AthenaQueries runs it: start (the SQL in the workgroup), one poll, one page."""
    execution = {"QueryExecutionId": EXECUTION}
    request = {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": resources.ANALYTICS_DATABASE},
        "WorkGroup": resources.ANALYTICS_WORKGROUP,
    }
    checked(stubber, "athena", "StartQueryExecution", execution, request)
    succeeded = {"QueryExecution": {**execution, "Status": {"State": "SUCCEEDED"}}}
    checked(stubber, "athena", "GetQueryExecution", succeeded, execution)
    header: list[str | None] = list(names)
    checked(stubber, "athena", "GetQueryResults", page(names, [header, *rows]), {**execution, "MaxResults": PAGE_SIZE})


EVENT_COLUMNS = ["event", "ts", "playhead", "seek_from", "total"]


def service(athena: Any) -> SessionsService:
    executor = AthenaQueries(athena, resources.ANALYTICS_DATABASE, resources.ANALYTICS_WORKGROUP, sleep=lambda _: None)
    return SessionsService(executor, Directory({MEDIA[0]: PROJECT}))


def test_a_media_sessions_page_goes_through_athena_and_reads_its_rows() -> None:
    athena = client("athena")
    period = sessions.period_of("2026-11-30")
    scope = Scope(PROJECT, period.start_ms, period.end_ms, Filters(media_ids=(MEDIA[0],)))
    fragment = sessions.metadata_fragment("user", "u1")
    columns = ["session_id", "loaded", "ended", "referrer", "country", "device_type", "operating_system"]
    columns += ["browser", "metadata", "total"]
    row = ["synthetic-00000000", str(START_MS), str(START_MS + 9), "", "FR", "desktop", "Linux", "Chrome", None, "26"]
    with Stubber(athena) as stubber:
        athena_answers(stubber, queries.media_sessions_sql(scope, [fragment], 25, 25), columns, [row])
        found = service(athena).media_sessions(
            PROJECT, MediaType.VIDEO, MEDIA[0], period, {"user": "u1"}, PageRequest(currentPage=2)
        )
        stubber.assert_no_pending_responses()
    assert (found.items_total, found.pages_total, len(found.items)) == (26, 2, 1)
    assert found.items[0] == sessions.SessionRow("synthetic-00000000", START_MS, START_MS + 9, "", "FR", "desktop",
                                                 "Linux", "Chrome", None)  # fmt: skip


def test_an_empty_events_page_asks_whether_the_session_exists() -> None:
    athena = client("athena")
    with Stubber(athena) as stubber:
        athena_answers(
            stubber, queries.session_events_sql(PROJECT, "synthetic-00000000", KINDS, 0, 25), EVENT_COLUMNS, []
        )
        athena_answers(stubber, queries.session_count_sql(PROJECT, "synthetic-00000000", KINDS), ["found", "total"],
                       [["0", None]])  # fmt: skip
        with pytest.raises(NotFound):
            service(athena).events(PROJECT, "synthetic-00000000", PageRequest())
        stubber.assert_no_pending_responses()


def test_another_projects_media_never_reaches_the_event_store() -> None:
    athena = client("athena")
    with Stubber(athena) as stubber, pytest.raises(NotFound) as missing:
        service(athena).media_sessions(OTHER, MediaType.VIDEO, MEDIA[0], sessions.period_of("2026"), {}, PageRequest())
    stubber.assert_no_pending_responses()
    assert missing.value.name == "videoId"
    with pytest.raises(NotFound) as wrong_kind:
        service(athena).media_sessions(
            PROJECT, MediaType.LIVE_STREAM, MEDIA[0], sessions.period_of("2026"), {}, PageRequest()
        )
    assert wrong_kind.value.name == "liveStreamId"
