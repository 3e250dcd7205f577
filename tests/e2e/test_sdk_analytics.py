"""Analytics end to end on a devstack: beacons (Videoplane's and api.video's v2 format) land in the
event store (Firehose → S3 in the emulator) and api.video's SDK 1.4.7 AnalyticsApi reads them back
through /data (DuckDB behind the Athena API); hostile beacons are refused and never counted;
another project sees nothing of them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import apivideo
import pytest
import requests
from apivideo.apis import AnalyticsApi, VideosApi
from apivideo.exceptions import ApiException
from apivideo.model.filter_by2 import FilterBy2
from apivideo.model.video_creation_payload import VideoCreationPayload

from .support import Devstack, Tenant, assert_problem, marker

pytestmark = pytest.mark.e2e

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
LINUX_CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
# The documented freshness on the devstack (docs/analytics.md): a beacon shows in /data within 10 s.
FRESHNESS_SECONDS = 10


def eventually(read: Callable[[], Any], expected: Any) -> Any:
    deadline = time.monotonic() + FRESHNESS_SECONDS
    while True:
        value = read()
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def session_beacon(video_id: str, startup_ms: int, heartbeats: int, ended: bool) -> dict[str, Any]:
    now = int(time.time() * 1000)
    events: list[dict[str, Any]] = [
        {"type": "impression", "at": now - 30_000},
        {"type": "play", "at": now - 29_000},
        {"type": "start", "at": now - 29_000 + startup_ms, "startupMs": startup_ms},
    ]
    events += [
        {"type": "heartbeat", "at": now - 20_000 + i * 5000, "playhead": 5.0 * (i + 1), "watched": 5.0}
        for i in range(heartbeats)
    ]
    if ended:
        events.append({"type": "end", "at": now - 1000, "playhead": 5.0 * heartbeats, "watched": 0.5})
    return {
        "session": uuid.uuid4().hex,
        "media": video_id,
        "referrer": "https://example.com/",
        "sentAt": now,
        "events": events,
    }


@pytest.fixture(scope="module")
def video_id(sdk: Any) -> str:
    return str(VideosApi(sdk).create(VideoCreationPayload(title=f"analytics {marker()}")).video_id)


def test_beacons_show_in_data_through_the_sdk(devstack: Devstack, sdk: Any, video_id: str) -> None:
    beacons = devstack.api_url + "/embed/beacons"
    first = requests.post(
        beacons,
        json=session_beacon(video_id, 400, 3, ended=True),
        headers={"User-Agent": IPHONE, "CloudFront-Viewer-Country": "FR"},
        timeout=10,
    )
    assert first.status_code == 202 and first.json() == {"accepted": 7}
    # sendBeacon's text/plain body is accepted the same way.
    second = requests.post(
        beacons,
        data=__import__("json").dumps(session_beacon(video_id, 800, 1, ended=False)),
        headers={"User-Agent": LINUX_CHROME, "Content-Type": "text/plain"},
        timeout=10,
    )
    assert second.status_code == 202

    analytics = AnalyticsApi(sdk)
    only_ours = FilterBy2(media_id=[video_id])
    since = datetime.now(UTC) - timedelta(hours=1)

    def plays() -> float:
        return analytics.get_aggregated_metrics("play", "count", _from=since, filter_by=only_ours).data

    assert eventually(plays, 2) == 2
    assert analytics.get_aggregated_metrics("start", "count", _from=since, filter_by=only_ours).data == 2
    assert analytics.get_aggregated_metrics("end", "count", _from=since, filter_by=only_ours).data == 1
    assert analytics.get_aggregated_metrics("impression", "count", _from=since, filter_by=only_ours).data == 2
    watched = analytics.get_aggregated_metrics("watch-time", "sum", _from=since, filter_by=only_ours)
    assert watched.data == pytest.approx(20.5) and watched.context.aggregation == "sum"
    startup = analytics.get_aggregated_metrics("impression-time", "average", _from=since, filter_by=only_ours)
    assert startup.data == pytest.approx(600)
    assert analytics.get_aggregated_metrics("play", "rate", _from=since, filter_by=only_ours).data == 1
    views = analytics.get_aggregated_metrics("view", "count", _from=since, view_duration="10s", filter_by=only_ours)
    assert views.data == 1 and views.context.metric == "view-10"
    assert analytics.get_aggregated_metrics("play", "total", filter_by=only_ours).data == 2

    by_device = analytics.get_metrics_breakdown("play", "device-type", _from=since, filter_by=only_ours)
    assert {d.dimension_value: d.metric_value for d in by_device.data} == {"phone": 1, "computer": 1}
    assert by_device.pagination.items_total == 2
    by_country = analytics.get_metrics_breakdown(
        "play", "country", _from=since, filter_by=FilterBy2(media_id=[video_id], country=["FR"])
    )
    assert [(d.dimension_value, d.metric_value) for d in by_country.data] == [("FR", 1)]
    by_browser = analytics.get_metrics_breakdown(
        "play", "browser", _from=since, filter_by=only_ours, sort_by="dimensionValue", sort_order="asc"
    )
    assert [d.dimension_value for d in by_browser.data] == ["Chrome", "Mobile Safari"]

    half_hour_ago = datetime.now(UTC) - timedelta(minutes=30)
    over_time = analytics.get_metrics_over_time(
        "play", _from=half_hour_ago, interval="minute", filter_by=only_ours, page_size=100
    )
    assert sum(p.metric_value for p in over_time.data) == 2 and over_time.context.interval == "minute"
    # One point a minute, empty minutes included (30, or 31 when the frame straddles a minute).
    assert over_time.pagination.items_total == len(over_time.data) in (30, 31)


def test_api_video_v2_beacons_are_counted(devstack: Devstack, sdk: Any, video_id: str) -> None:
    now = int(time.time() * 1000)
    sid = uuid.uuid4().hex
    body = {
        "sat": now,
        "sid": sid,
        "mid": video_id,
        "pid": str(uuid.uuid4()),
        "ref": "",
        "ver": "0.1.0",
        "eve": [
            {"eat": now - 9000, "typ": 1, "vti": 0, "pau": True},
            {"eat": now - 8000, "typ": 2, "vti": 0, "pau": False},
            {"eat": now - 7700, "typ": 4, "vti": 0.1, "pau": False},
            {"eat": now - 2700, "typ": 4, "vti": 5.1, "pau": False},
            {"eat": now - 1000, "typ": 6, "vti": 6.8, "pau": True},
        ],
    }
    answer = requests.post(devstack.api_url + "/embed/watch", json=body, timeout=10)
    assert answer.status_code == 200 and answer.json() == {"session": sid}

    analytics = AnalyticsApi(sdk)
    since = datetime.now(UTC) - timedelta(hours=1)
    ends = eventually(
        lambda: (
            analytics.get_aggregated_metrics("end", "count", _from=since, filter_by=FilterBy2(media_id=[video_id])).data
        ),
        2,
    )
    assert ends == 2  # one from the test above, one here
    startup = analytics.get_metrics_breakdown(
        "start", "media-id", _from=since, filter_by=FilterBy2(media_id=[video_id])
    )
    assert [(d.dimension_value, d.metric_value) for d in startup.data] == [(video_id, 3)]


def test_hostile_beacons_are_refused_and_never_stored(devstack: Devstack, sdk: Any, project_b: Tenant) -> None:
    video_id = str(VideosApi(sdk).create(VideoCreationPayload(title=f"hostile {marker()}")).video_id)
    beacons = devstack.api_url + "/embed/beacons"
    good = session_beacon(video_id, 100, 1, ended=False)
    refused = [
        requests.post(beacons, data=b"{not json", headers={"Content-Type": "application/json"}, timeout=10),
        requests.post(beacons, json={**good, "project": project_b.project_id}, timeout=10),  # no such field
        requests.post(beacons, json={**good, "session": "x"}, timeout=10),
        requests.post(beacons, json={**good, "events": good["events"] * 30}, timeout=10),  # over 50
        requests.post(beacons, json={**good, "events": [{"type": "steal", "at": 1}]}, timeout=10),
        requests.post(beacons, json={**good, "referrer": "r" * 5000}, timeout=10),
        requests.post(beacons, json=[good], timeout=10),
    ]
    for response in refused:
        assert_problem(response, 400, response.json()["type"].rsplit("/", 1)[-1])
    unknown = requests.post(beacons, json={**good, "media": "vi" + "0" * 22}, timeout=10)
    assert_problem(unknown, 404, "resource-not-found")

    # Project B's /data knows nothing of project A's media, even when asked for it by id.
    client = apivideo.AuthenticatedApiClient(project_b.api_key)
    client.configuration.host = devstack.api_url
    with client:
        theirs = AnalyticsApi(client).get_aggregated_metrics("play", "total", filter_by=FilterBy2(media_id=[video_id]))
    assert theirs.data == 0

    analytics = AnalyticsApi(sdk)
    since = datetime.now(UTC) - timedelta(hours=1)
    assert (
        analytics.get_aggregated_metrics(
            "impression", "count", _from=since, filter_by=FilterBy2(media_id=[video_id])
        ).data
        == 0
    )
    with pytest.raises(ApiException) as error:
        analytics.get_aggregated_metrics("start", "sum")
    assert error.value.status == 404
    with pytest.raises(ApiException) as error:
        analytics.get_metrics_over_time("play", _from=since - timedelta(hours=1), interval="minute")
    assert error.value.status == 400 and "60 minutes" in error.value.body


def test_quality_of_experience_counts_startups_stalls_failures_and_exits(devstack: Devstack, api: Any) -> None:
    """Videoplane's QoE extension of /data (docs/analytics.md): startup time median and p95 (nearest
    rank), rebuffer percentage and frequency, playback failure and exit-before-start rates."""
    key = devstack.dev_api_key
    video = api.create_video(key, title=f"qoe {marker()}")["videoId"]
    now = int(time.time() * 1000)

    def events(*kinds: tuple[str, int, dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"type": kind, "at": now - 30_000 + at, **extra} for kind, at, extra in kinds]

    sessions = [
        events(("impression", 0, {}), ("play", 100, {}), ("start", 400, {"startupMs": 300}),
               ("heartbeat", 5400, {"watched": 5.0}), ("buffer_start", 5500, {}),
               ("buffer_end", 7500, {"watched": 2.0}), ("heartbeat", 12_500, {"watched": 5.0}),
               ("end", 12_600, {})),
        events(("impression", 0, {}), ("play", 100, {}), ("start", 1000, {"startupMs": 900}),
               ("heartbeat", 6000, {"watched": 5.0}), ("error", 6100, {"error": "MediaError 3"})),
        events(("impression", 0, {}), ("play", 100, {})),  # left before the first frame
    ]  # fmt: skip
    for session in sessions:
        sent = requests.post(
            devstack.api_url + "/embed/beacons",
            json={"session": uuid.uuid4().hex, "media": video, "sentAt": now, "events": session},
            timeout=10,
        )
        assert sent.status_code == 202, sent.text
    frame = {"from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(), "filterBy[mediaId]": video}

    def metric(name: str, aggregation: str) -> Any:
        return api.ok("GET", f"/data/metrics/{name}/{aggregation}", key, params=frame)["data"]

    assert eventually(lambda: metric("exit-before-start", "rate"), pytest.approx(1 / 3)) == pytest.approx(1 / 3)
    assert metric("startup-time", "median") == 300
    assert metric("startup-time", "p95") == 900
    assert metric("rebuffer", "percentage") == pytest.approx(2 / 17)
    assert metric("rebuffer", "frequency") == pytest.approx(60 / 17)
    assert metric("playback-failure", "rate") == pytest.approx(1 / 3)
    by_browser = api.ok("GET", "/data/buckets/startup-time-p95/browser", key, params=frame)["data"]
    assert [(item["dimensionValue"], item["metricValue"]) for item in by_browser] == [("Python Requests", 900)]
    series = api.ok("GET", "/data/timeseries/startup-time-median", key, params={**frame, "interval": "hour"})
    assert [point["metricValue"] for point in series["data"] if point["metricValue"] is not None] == [300]
    # Not a metric: still api.video's 404.
    assert api.call("GET", "/data/metrics/startup-time/p99", key, params=frame).status_code == 404


def test_tags_unique_views_and_the_session_views(devstack: Devstack, sdk: Any, api: Any, project_b: Tenant) -> None:
    """`filterBy[tag]` counts the videos carrying the tag now and `unique` renames the context's
    metric as SDK 1.4.7 expects; the session of a beacon (with its metadata) is listed by
    /analytics/videos/{id} and its events by /analytics/sessions/{id}/events; live stream beacons
    are accepted."""
    tag = f"tag-{marker()}"
    tagged = VideosApi(sdk).create(VideoCreationPayload(title=f"tagged {marker()}", tags=[tag])).video_id
    untagged = VideosApi(sdk).create(VideoCreationPayload(title=f"untagged {marker()}")).video_id
    beacons = devstack.api_url + "/embed/beacons"
    sessions = []
    for video in (tagged, untagged):
        beacon = {**session_beacon(video, 300, 2, ended=True), "metadata": {"user": "u-1", "plan": "pro"}}
        sessions.append(beacon["session"])
        assert requests.post(beacons, json=beacon, timeout=10).status_code == 202
    live = api.ok("POST", "/live-streams", devstack.dev_api_key, json={"name": f"live {marker()}"})["liveStreamId"]
    live_beacon = {**session_beacon(live, 300, 1, ended=False)}
    assert requests.post(beacons, json=live_beacon, timeout=10).status_code == 202

    analytics = AnalyticsApi(sdk)
    since = datetime.now(UTC) - timedelta(hours=1)
    by_tag = FilterBy2(tag=tag)

    def plays() -> float:
        return analytics.get_aggregated_metrics("play", "count", _from=since, filter_by=by_tag).data

    assert eventually(plays, 1) == 1
    unique = analytics.get_aggregated_metrics("view", "count", _from=since, unique=True, filter_by=by_tag)
    assert (unique.data, unique.context.metric) == (1, "unique-view-5")
    peak = analytics.get_aggregated_metrics("ccv", "peak", _from=since, unique=True, filter_by=by_tag)
    assert peak.context.metric == "unique-ccv" and peak.data == 1
    by_media = analytics.get_metrics_breakdown("ccv-peak", "media-id", _from=since, unique=True, filter_by=by_tag)
    assert by_media.context.metric == "unique-ccv-peak"
    assert [d.dimension_value for d in by_media.data] == [tagged]

    def live_plays() -> float:
        return analytics.get_aggregated_metrics("play", "count", _from=since, filter_by=FilterBy2(media_id=[live])).data

    assert eventually(live_plays, 1) == 1

    key = devstack.dev_api_key
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    listed = api.ok("GET", f"/analytics/videos/{tagged}", key, params={"period": today, "metadata[user]": "u-1"})
    assert [s["session"]["sessionId"] for s in listed["data"]] == [sessions[0]]
    assert listed["data"][0]["session"]["metadata"] == [
        {"key": "plan", "value": "pro"},
        {"key": "user", "value": "u-1"},
    ]
    assert (
        api.ok("GET", f"/analytics/videos/{tagged}", key, params={"period": today, "metadata[user]": "u-2"})["data"]
        == []
    )
    events = api.ok("GET", f"/analytics/sessions/{sessions[0]}/events", key)["data"]
    assert [e["type"] for e in events] == ["ready", "play", "end"] and events[-1]["at"] == 10
    assert (
        api.ok("GET", f"/analytics/live-streams/{live}", key, params={"period": today})["pagination"]["itemsTotal"] == 1
    )
    # Another project: the media and the session are unknown.
    assert_problem(api.call("GET", f"/analytics/videos/{tagged}", project_b.api_key, params={"period": today}),
                   404, "resource-not-found")  # fmt: skip
    assert_problem(api.call("GET", f"/analytics/sessions/{sessions[0]}/events", project_b.api_key), 404,
                   "resource-not-found")  # fmt: skip
