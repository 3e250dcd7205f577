"""The session views on moto, through the API: a video's and a live stream's sessions of a period
(DuckDB over event files, the devstack's executor), paged with their filters kept, a session's
events; another project's media and sessions are 404. Beacons for live streams are accepted; a
tag names the project's videos carrying it (filterBy[tag])."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.analytics import wiring
from chalicelib.analytics.adapters.media import DynamoMediaDirectory
from chalicelib.analytics.domain.beacons import EventType, stored_metadata
from chalicelib.analytics.services.sessions import SessionsService
from chalicelib.core.wiring import table
from devstack.ivsplane import IvsPlane
from devstack.sessions import sessions, write_files
from tests.integration.conftest import ApiClient
from tests.integration.test_live_streams_api import create as create_live_stream
from tests.integration.test_live_streams_api import ivs as ivs  # noqa: PLC0414 - the fixture
from tests.integration.test_usage import EventFiles

START_MS = 1_796_000_000_000  # 2026-11-30, 00:53:20 UTC
PERIOD = "2026-11-30"


def create_video(api: ApiClient) -> str:
    response = api.call("POST", "/videos", {"title": "watched"})
    assert response.status_code == 201, response.body
    return str(response.json_body["videoId"])


@pytest.fixture
def store(tenant: ApiClient, other_tenant: ApiClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Five sessions of a tenant's video (the first with metadata, the second seeking), three of
    another tenant's video; the service reads them with DuckDB. The tenant's video id."""
    video_id, others = create_video(tenant), create_video(other_tenant)
    mine, _ = sessions(tenant.project_id, (video_id,), 5, START_MS, exit_every=0)
    # Session ids are the viewers' (random): another project's may be the same; ours are named apart.
    mine = [
        dataclasses.replace(
            r,
            session_id="mine-" + r.session_id,
            metadata=stored_metadata({"user": "u1"}) if r.session_id.endswith("0") else None,
        )
        for r in mine
    ]
    first = next(r for r in mine if r.session_id.endswith("1"))
    seek = dataclasses.replace(first, event=EventType.SEEK.value, ts=first.ts + 2000, playhead=42.0, seek_from=3.0)
    theirs, _ = sessions(other_tenant.project_id, (others,), 3, START_MS, exit_every=0)
    files = write_files([*mine, seek, *theirs], tmp_path)
    service = SessionsService(EventFiles(files), DynamoMediaDirectory(table()))
    monkeypatch.setattr(wiring, "sessions_service", lambda: service)
    yield video_id


def test_a_video_lists_its_sessions_of_the_period_with_what_api_video_listed(tenant: ApiClient, store: str) -> None:
    answer = tenant.call("GET", f"/analytics/videos/{store}?period={PERIOD}&pageSize=2")
    assert answer.status_code == 200, answer.body
    body = answer.json_body
    assert [s["session"]["sessionId"] for s in body["data"]] == ["mine-synthetic-00000000", "mine-synthetic-00000001"]
    assert body["pagination"]["itemsTotal"] == 5 and body["pagination"]["pagesTotal"] == 3
    assert f"period={PERIOD}" in body["pagination"]["links"][-1]["uri"]
    first = body["data"][0]
    assert first["session"]["loadedAt"] == "2026-11-30T00:53:20+00:00"
    assert first["session"]["metadata"] == [{"key": "user", "value": "u1"}]
    assert first["location"] == {"country": "FR", "city": None}
    assert first["referrer"]["url"] == "https://example.com/synthetic"
    assert first["referrer"]["source"] == "example.com"
    assert (first["device"]["type"], first["os"]["name"], first["client"]["name"]) == ("desktop", "Linux", "Chrome")


def test_metadata_and_the_period_filter_the_sessions(tenant: ApiClient, store: str) -> None:
    tagged = tenant.call("GET", f"/analytics/videos/{store}?period={PERIOD}&metadata%5Buser%5D=u1").json_body
    assert [s["session"]["sessionId"] for s in tagged["data"]] == ["mine-synthetic-00000000"]
    assert "metadata%5Buser%5D=u1" in tagged["pagination"]["links"][0]["uri"]
    before = tenant.call("GET", f"/analytics/videos/{store}?period=2026-11-29").json_body
    assert before["data"] == [] and before["pagination"]["itemsTotal"] == 0
    past_the_end = tenant.call("GET", f"/analytics/videos/{store}?period=2026-W49&currentPage=9").json_body
    assert past_the_end["data"] == [] and past_the_end["pagination"]["itemsTotal"] == 5


def test_a_session_lists_its_events_in_order(tenant: ApiClient, store: str) -> None:
    answer = tenant.call("GET", "/analytics/sessions/mine-synthetic-00000001/events")
    assert answer.status_code == 200, answer.body
    events = answer.json_body["data"]
    assert [e["type"] for e in events] == ["ready", "play", "seek.forward", "end"]
    assert events[2] == {"type": "seek.forward", "emittedAt": events[2]["emittedAt"], "from": 3, "to": 42}
    assert events[-1]["at"] == 20


def test_another_projects_media_and_sessions_are_not_found(
    tenant: ApiClient, other_tenant: ApiClient, store: str
) -> None:
    for path in (f"/analytics/videos/{store}?period={PERIOD}", "/analytics/sessions/mine-synthetic-00000001/events"):
        answer = other_tenant.call("GET", path)
        assert answer.status_code == 404, path
        assert answer.json_body["type"].endswith("resource-not-found")
    live_id = "li" + "x" * 22
    assert tenant.call("GET", f"/analytics/live-streams/{live_id}?period={PERIOD}").status_code == 404
    assert tenant.call("GET", f"/analytics/live-streams/{store}?period={PERIOD}").status_code == 404


def test_the_period_is_required_and_checked(tenant: ApiClient, store: str) -> None:
    for query in ("", "?period=2026-13", "?period=last-week"):
        answer = tenant.call("GET", f"/analytics/videos/{store}{query}")
        assert answer.status_code == 400, query
        assert answer.json_body["name"] == "period"


def test_a_live_streams_beacons_are_stored_and_its_sessions_listed(
    ivs: IvsPlane, tenant: ApiClient, other_tenant: ApiClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_stream_id = create_live_stream(tenant)["liveStreamId"]
    assert DynamoMediaDirectory(table()).project_of(live_stream_id) == tenant.project_id
    now = int(time.time() * 1000)
    play = [{"type": "play", "at": now}]
    beacon = {"session": "viewer-0000000001", "media": live_stream_id, "sentAt": now, "events": play}
    answer = tenant.client.http.post(
        "/embed/beacons", headers={"content-type": "text/plain"}, body=json.dumps(beacon).encode()
    )
    assert answer.status_code == 202, answer.body
    records, _ = sessions(tenant.project_id, (live_stream_id,), 2, START_MS, exit_every=0)
    service = SessionsService(EventFiles(write_files(records, tmp_path)), DynamoMediaDirectory(table()))
    monkeypatch.setattr(wiring, "sessions_service", lambda: service)
    listed: Any = tenant.call("GET", f"/analytics/live-streams/{live_stream_id}?period={PERIOD}").json_body
    assert listed["pagination"]["itemsTotal"] == 2
    assert other_tenant.call("GET", f"/analytics/live-streams/{live_stream_id}?period={PERIOD}").status_code == 404


def test_a_tag_names_the_projects_videos_carrying_it_now(tenant: ApiClient, other_tenant: ApiClient) -> None:
    from chalicelib.analytics.adapters.tags import DynamoTaggedVideos

    tagged = tenant.call("POST", "/videos", {"title": "a", "tags": ["News", "sport"]}).json_body["videoId"]
    retagged = tenant.call("POST", "/videos", {"title": "b", "tags": ["sport"]}).json_body["videoId"]
    theirs = other_tenant.call("POST", "/videos", {"title": "c", "tags": ["News"]}).json_body["videoId"]
    assert tenant.call("PATCH", f"/videos/{retagged}", {"tags": ["News"]}).status_code == 200
    tags = DynamoTaggedVideos(table())
    assert sorted(tags.media_ids(tenant.project_id, "News")) == sorted([tagged, retagged])
    assert tags.media_ids(tenant.project_id, "news") == []  # case sensitive
    assert tags.media_ids(tenant.project_id, "sport") == [tagged]
    assert tags.media_ids(other_tenant.project_id, "News") == [theirs]
