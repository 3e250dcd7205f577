"""Usage end to end on a devstack, in a project of its own: a video uploaded through the SDK is
encoded by the ffmpeg plane (its `video.ready` reaches the usage counters over the bus rule), a
viewer watches it (synthetic beacons), and `GET /account` shows minutes encoded, minutes watched
and bytes stored; the daily usage report (the schedule's work, run with the devstack's command
line) reaches the project's webhook receiver signed, once however often it runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apivideo
import pytest
import requests
from apivideo.api.videos_api import VideosApi
from apivideo.api.webhooks_api import WebhooksApi
from apivideo.model.video_creation_payload import VideoCreationPayload
from apivideo.model.webhooks_creation_payload import WebhooksCreationPayload

from .receivers import Receiver, verify_both_ways
from .support import Api, Devstack
from .test_sdk_analytics import LINUX_CHROME, session_beacon
from .test_sdk_uploads import generate, settled

pytestmark = pytest.mark.e2e

# The counters follow the outbox, the bus rule and the usage queue; beacons the Athena plane's sync.
COUNTED_SECONDS = 30


def eventually(read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + COUNTED_SECONDS
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def test_an_encoded_and_watched_video_shows_in_the_account_and_the_daily_usage_event(
    devstack: Devstack, api: Api, tmp_path: Path, receiver: Callable[..., Receiver]
) -> None:
    tenant = devstack.create_project("usage e2e")
    client = apivideo.AuthenticatedApiClient(tenant.api_key)
    client.configuration.host = devstack.api_url
    hook = receiver()
    with client:
        webhook = WebhooksApi(client).create(WebhooksCreationPayload(events=["usage.daily.ready"], url=hook.url))
        videos = VideosApi(client)
        video = videos.create(VideoCreationPayload(title="usage"))
        clip = generate(tmp_path / "usage.mp4", seconds=3, noise=0, quality=30)
        with clip.open("rb") as file:
            videos.upload(video["video_id"], file)
        status = settled(videos, video["video_id"])
        outputs = sum(1 for q in status["encoding"]["qualities"] if q["status"] == "encoded")
        duration = status["encoding"]["metadata"]["duration"]

    beacon = requests.post(
        devstack.api_url + "/embed/beacons",
        json=session_beacon(video["video_id"], 300, 3, ended=True),
        headers={"User-Agent": LINUX_CHROME},
        timeout=10,
    )
    assert beacon.status_code == 202

    def account() -> dict[str, Any]:
        return dict(api.ok("GET", "/account", tenant.api_key))

    body = eventually(account, lambda b: b["usage"]["encodedMinutes"] > 0 and b["usage"]["watchedMinutes"] > 0)
    usage = body["usage"]
    # Every encoded output of the clip (the ffmpeg plane's ladder and the MP4), at its duration.
    assert usage["encodedMinutes"] == pytest.approx(outputs * duration / 60, abs=0.1)
    assert usage["watchedMinutes"] == pytest.approx(15.5 / 60, abs=0.001)  # three heartbeats and the end
    assert usage["deliveredBytes"] > 0 and usage["storedBytes"] > clip.stat().st_size / 2
    assert body["term"]["startAt"] == datetime.now(UTC).date().replace(day=1).isoformat()
    assert set(body["quota"]) == {"quotaUsed", "quotaRemaining", "quotaTotal"}

    today = datetime.now(UTC).date().isoformat()
    rows = api.ok("GET", "/account/usage", tenant.api_key, params={"from": today, "to": today})["data"]
    assert rows[0]["day"] == today and rows[0]["encodedMinutes"] == usage["encodedMinutes"]

    # What the daily schedule does after midnight, for today: twice, as a retried schedule would.
    for _ in range(2):
        assert devstack.cli("usage", "report", "--day", today)["day"] == today
    delivery = hook.wait_for(1, seconds=30)[0]
    payload = verify_both_ways(webhook["signature_secret"], webhook["webhook_id"], delivery)
    assert payload["type"] == "usage.daily.ready" and payload["projectId"] == tenant.project_id
    assert payload["day"] == today
    assert payload["encodedMinutes"] == usage["encodedMinutes"]
    assert payload["watchedMinutes"] == usage["watchedMinutes"]
    assert payload["storedBytes"] == usage["storedBytes"]
    time.sleep(2)
    assert len(hook.requests) == 1, "the day's event is emitted once"
