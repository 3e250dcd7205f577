"""Two parties see each other (issue 14's done-when): headless Debian Chromium with a fake camera
opens the join page with a join token and publishes over WHIP; an ffmpeg WHIP publisher is the
other party, and shows in the page's remote videos; an aiortc WHEP subscriber in this process
receives the browser's video through the stage plane. The page's getStats() samples reach the session's
call quality. Closing the page leaves the room."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from devstack.whip import loopback_only
from tests.devstack.test_stage_subscribe import watch

from .browser import chromium, needs_chromium
from .support import Api, Devstack, Tenant
from .test_rooms import create_room, join, mint, whip_publisher

pytestmark = [pytest.mark.e2e, needs_chromium]

PUBLISHER_SECONDS = 120
# Generous: two cores are shared by the stack, the browser, ffmpeg and the aiortc peers.
PAGE_WAIT_MS = 60_000
LEAVE_WAIT_SECONDS = 30
# The page posts a sample every 10 s; its first one has the second interval's figures.
STATS_WAIT_MS = 35_000
FAKE_MEDIA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")


def stage_participants(devstack: Devstack, whip_url: str) -> dict[str, dict[str, Any]]:
    """The stage's participants of its active (or last) session, by id, as IVS lists them."""
    ivs = boto3.client(
        "ivs-realtime",
        endpoint_url=devstack.state()["stagePlane"],
        region_name="us-east-1",
        aws_access_key_id="devstack",
        aws_secret_access_key="devstack",
    )
    stage_id = whip_url.rsplit("/", 1)[1]
    (stage,) = [s for s in ivs.list_stages(maxResults=100)["stages"] if s["arn"].endswith("/" + stage_id)]
    active = ivs.get_stage(arn=stage["arn"])["stage"].get("activeSessionId")
    if active is None:
        return {}
    listed = ivs.list_participants(stageArn=stage["arn"], sessionId=active)["participants"]
    return {p["participantId"]: p for p in listed}


def test_a_browser_and_an_ffmpeg_publisher_see_each_other(api: Api, devstack: Devstack, project_a: Tenant) -> None:
    room_id = create_room(api, project_a, mode="group")["roomId"]
    ada = mint(api, project_a, room_id, userRef="ada", name="Ada", role="participant")
    bob = join(api, mint(api, project_a, room_id, userRef="bob", name="Bob", role="participant")["token"]).json()
    assert bob["media"]["whepUrl"], bob
    other = whip_publisher(bob["media"], PUBLISHER_SECONDS)
    try:
        with chromium(*FAKE_MEDIA) as browser:
            page = browser.new_page(permissions=["camera", "microphone"])
            page.goto(api.url("/join") + "#token=" + ada["token"])
            page.wait_for_function("() => window.room && window.room.publication !== null", timeout=PAGE_WAIT_MS)
            admitted = page.evaluate("() => window.room.admission")
            # The other party's video plays in the page: decoded frames, and time moving on.
            page.wait_for_function(
                "() => [...document.querySelectorAll('video.remote')].some(v => v.videoWidth > 0)", timeout=PAGE_WAIT_MS
            )
            remote = page.evaluate(
                "() => [...document.querySelectorAll('video.remote')].map(v => "
                "[v.closest('figure').dataset.participantId, v.videoWidth, v.videoHeight, v.currentTime])"
            )
            assert [(r[0], r[1], r[2]) for r in remote] == [(bob["participantId"], 320, 180)], remote
            page.wait_for_function(
                f"() => document.querySelector('video.remote').currentTime > {remote[0][3]} + 1", timeout=PAGE_WAIT_MS
            )
            # The browser's camera reaches a second party through the stage plane.
            loopback_only()
            # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
            subscriber = watch(bob["media"]["whepUrl"], bob["media"]["participantToken"], admitted["participantId"])
            with ThreadPoolExecutor(1) as thread:
                sizes, _, deleted = thread.submit(asyncio.run, subscriber).result()
            assert deleted == 200 and all(width > 0 and height > 0 for width, height in sizes), sizes
            present = stage_participants(devstack, bob["media"]["whipUrl"])
            assert present[admitted["participantId"]]["state"] == "CONNECTED"
            assert present[admitted["participantId"]]["published"] is True
            # The page reports its getStats() figures: the session's call quality has them.
            page.wait_for_function("() => window.room.statsPosted >= 1", timeout=STATS_WAIT_MS)
            session = api.ok("GET", f"/sessions/{admitted['sessionId']}", project_a.api_key)
            figures = session["quality"]
            assert figures["samples"] >= 1 and figures["send"]["avgBitrate"] > 0, figures
            assert figures["receive"]["avgBitrate"] > 0 and figures["avgRoundTripTime"] is not None, figures
            assert figures["send"]["video"]["avgBitrate"] > 0 and figures["send"]["audio"]["avgBitrate"] > 0, figures
            assert page.evaluate("() => window.room.errors") == []
            page.close(run_before_unload=True)
        # The page's pagehide DELETEs its publication and subscription: the browser's participant leaves.
        deadline = time.monotonic() + LEAVE_WAIT_SECONDS
        while (
            stage_participants(devstack, bob["media"]["whipUrl"]).get(admitted["participantId"], {}).get("state")
            != "DISCONNECTED"
        ):
            assert time.monotonic() < deadline, "the page's participant never left"
            time.sleep(0.2)
    finally:
        other.terminate()
        other.wait(timeout=30)
