"""Analytics from a real browser (Debian's Chromium, headless, through Playwright): the embed page
plays a video to its end, its beacon script's requests are accepted, and api.video's SDK reads the
play and the watch time back through /data within the devstack's freshness (10 s)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apivideo.apis import AnalyticsApi
from apivideo.model.filter_by2 import FilterBy2

from .browser import chromium, needs_chromium
from .support import Api, Devstack, marker
from .test_embed_browser import PLAYABLE_SECONDS, make_clip, open_player, upload_file
from .test_sdk_analytics import FRESHNESS_SECONDS

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture(scope="module")
def video(api: Api, devstack: Devstack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A playable video of the dev project (the SDK's), watched by this test only."""
    key = devstack.dev_api_key
    created = api.create_video(key, title=f"Analytics browser {marker()}")
    clip = make_clip(tmp_path_factory.mktemp("media") / "clip.mp4")
    upload_file(api, key, f"/videos/{created['videoId']}/source", "clip.mp4", clip.read_bytes())
    deadline = time.monotonic() + PLAYABLE_SECONDS
    while not api.ok("GET", f"/videos/{created['videoId']}/status", key)["encoding"]["playable"]:
        assert time.monotonic() < deadline, f"video {created['videoId']} never became playable"
        time.sleep(0.5)
    body: dict[str, Any] = api.ok("GET", f"/videos/{created['videoId']}", key)
    return body


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_a_video_watched_in_the_embed_page_counts_in_data_through_the_sdk(
    browser: Any, video: dict[str, Any], sdk: Any, api: Api, devstack: Devstack
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)
    # The page's metadata[…] parameters become the session's metadata (the session views list it).
    player = video["assets"]["player"]
    page = open_player(browser, player + ("&" if "?" in player else "?") + "metadata%5Buser%5D=browser-1")
    answers: list[tuple[int, dict[str, Any]]] = []
    requested: list[str] = []
    page.on(
        "request", lambda request: requested.append(request.url) if request.url.endswith("/embed/beacons") else None
    )
    page.on(
        "response",
        lambda response: (
            answers.append((response.status, json.loads(response.request.post_data or "{}")))
            if response.url.endswith("/embed/beacons")
            else None
        ),
    )
    page.click(".vp-play")
    page.wait_for_function("() => document.getElementById('vp-video').ended", timeout=60_000)
    # What the browser itself says it played: the sum of the played ranges.
    played = page.evaluate(
        "(() => { const r = document.getElementById('vp-video').played; let s = 0; "
        "for (let i = 0; i < r.length; i++) s += r.end(i) - r.start(i); return s; })()"
    )
    deadline = time.monotonic() + 5
    # Every beacon answered, the end's among them.
    while len(answers) < len(requested) or not any(e["type"] == "end" for _, b in answers for e in b["events"]):
        assert time.monotonic() < deadline, (requested, answers)
        page.wait_for_timeout(100)
    assert page.errors == []
    page.close()

    sent = [event for _, body in answers for event in body["events"]]
    assert {status for status, _ in answers} == {202}
    # One of each (a play clicked before the data loaded may precede the impression).
    kinds = Counter(e["type"] for e in sent)
    assert [kinds[kind] for kind in ("impression", "play", "start", "end")] == [1, 1, 1, 1], kinds
    assert next(e for e in sent if e["type"] == "start")["startupMs"] >= 0
    assert {body["media"] for _, body in answers} == {video["videoId"]}
    assert {json.dumps(body["metadata"]) for _, body in answers} == {'{"user": "browser-1"}'}

    analytics = AnalyticsApi(sdk)
    only_this = FilterBy2(media_id=[video["videoId"]])
    ended_at = time.monotonic()
    while analytics.get_aggregated_metrics("play", "total", filter_by=only_this).data != 1:
        assert time.monotonic() - ended_at < FRESHNESS_SECONDS, "the play never reached /data"
        time.sleep(0.2)
    # What the browser reported, counted by /data within a second. Under load /data once showed
    # 4.46 s of 8.1 s right after the play appeared (cause not found yet): waiting up to the
    # freshness goal tells events that show late from events that are miscounted or lost.
    reported = sum(e["watched"] for e in sent)
    while True:
        watched = analytics.get_aggregated_metrics("watch-time", "sum", _from=since, filter_by=only_this).data
        if watched == pytest.approx(reported, abs=1.0) or time.monotonic() - ended_at > FRESHNESS_SECONDS:
            break
        time.sleep(0.2)
    assert watched == pytest.approx(reported, abs=1.0)
    # Reported watch time is wall-clock time playing or stalled (Mux's definition): at least the
    # media time played (the played ranges), and more only by stalls on a busy machine.
    assert reported >= played - 1.0
    assert analytics.get_aggregated_metrics("start", "count", _from=since, filter_by=only_this).data == 1
    assert analytics.get_aggregated_metrics("end", "count", _from=since, filter_by=only_this).data == 1
    # The session views: the page's session, with its metadata, and its events in order.
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    key = devstack.dev_api_key
    listed = api.ok("GET", f"/analytics/videos/{video['videoId']}", key, params={"period": today})["data"]
    assert [s["session"]["metadata"] for s in listed] == [[{"key": "user", "value": "browser-1"}]]
    assert listed[0]["device"]["type"] and listed[0]["client"]["name"]
    events = api.ok("GET", f"/analytics/sessions/{answers[0][1]['session']}/events", key)["data"]
    assert {"ready", "play", "end"} <= {e["type"] for e in events}
