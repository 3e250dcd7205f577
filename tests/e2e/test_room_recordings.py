"""Room recordings end to end on the devstack: a room with `autoRecording`, a real ffmpeg WHIP
publisher for PUBLISH_SECONDS, then it leaves; the session's composition (the stage plane's recorder,
in the emulated S3 as IVS lays it out) ends with the session, "IVS Composition State Change" reaches
the rooms consumer, the VOD import makes the video, and a signed `room.recording.ready` names it;
the video plays and decodes for about as long as the publisher published, and EnableX's archive
routes list it with its HLS and MP4. Start and stop by API
are refused as they should be when there is nothing to record."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import requests

from devstack import mediatools

from .receivers import Receiver, verify_both_ways
from .support import Api, Tenant, assert_problem
from .test_live_ingest import wait_until
from .test_rooms import create_room, join, mint, whip_publisher
from .test_rooms_enablex import EnableXAppServer

PUBLISH_SECONDS = 5
# Leave → session end → composition composed and stored → video → encoded, on a shared machine.
READY_SECONDS = 120.0
TOLERANCE_SECONDS = 2.0


def ready_webhooks(hook: Receiver, webhook: dict[str, Any], room_id: str) -> list[dict[str, Any]]:
    payloads = [verify_both_ways(webhook["signatureSecret"], webhook["webhookId"], d) for d in list(hook.requests)]
    return [p for p in payloads if p["type"] == "room.recording.ready" and p["roomId"] == room_id]


def decoded_seconds(url: str) -> float:
    """What ffmpeg decodes of the playlist, in seconds (it fails on a broken stream)."""
    run = subprocess.run(
        [mediatools.ffmpeg(), "-hide_banner", "-nostats", "-i", url, "-f", "null", "-"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    times = [line.rsplit("time=", 1)[1].split()[0] for line in run.stderr.splitlines() if "time=" in line]
    hours, minutes, seconds = times[-1].split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_an_auto_recorded_session_becomes_a_playable_video_named_by_a_signed_webhook(
    api: Api, project_a: Tenant, receiver: Callable[..., Receiver]
) -> None:
    key = project_a.api_key
    hook = receiver()
    webhook = api.ok("POST", "/webhooks", key, expected=201, json={"events": ["room.recording.ready"], "url": hook.url})
    try:
        room = create_room(api, project_a, mode="group", autoRecording=True)
        room_id = room["roomId"]
        admitted = join(api, mint(api, project_a, room_id, role="moderator")["token"]).json()
        publisher = whip_publisher(admitted["media"], PUBLISH_SECONDS)
        assert publisher.wait(timeout=60) == 0, publisher.stderr.read() if publisher.stderr else ""

        (ready,) = wait_until(lambda: ready_webhooks(hook, webhook, room_id), READY_SECONDS)
        assert ready["sessionId"] == admitted["sessionId"] and ready["projectId"] == project_a.project_id
        video_id = ready["videoId"]
        session = wait_until(
            lambda: (s := api.ok("GET", f"/sessions/{admitted['sessionId']}", key))["recordings"][0]["videoId"] and s,
            30.0,
        )
        (recording,) = session["recordings"]
        assert (recording["recordingId"], recording["status"]) == (ready["recordingId"], "ended")

        video = api.ok("GET", f"/videos/{video_id}", key)
        assert video["title"].startswith(room["name"])
        wait_until(lambda: api.ok("GET", f"/videos/{video_id}/status", key)["encoding"]["playable"], READY_SECONDS)
        duration = api.ok("GET", f"/videos/{video_id}/status", key)["encoding"]["metadata"]["duration"]
        assert abs(duration - PUBLISH_SECONDS) <= TOLERANCE_SECONDS, duration
        hls = api.ok("GET", f"/videos/{video_id}", key)["assets"]["hls"]
        assert requests.get(hls, timeout=10).status_code == 200
        assert abs(decoded_seconds(hls) - PUBLISH_SECONDS) <= TOLERANCE_SECONDS

        # An EnableX app server finds it in the room's archive: the video's HLS, then its MP4.
        app = EnableXAppServer(api.base_url, project_a.project_id, key)
        item = wait_until(
            lambda: (a := app.ok("GET", f"/archive/room/{room_id}")["archive"]) and a[0]["transcoded"] and a[0],
            READY_SECONDS,
        )
        assets = api.ok("GET", f"/videos/{video_id}", key)["assets"]
        assert (item["_id"], item["conf_num"], item["metadata"]) == (
            ready["recordingId"],
            ready["sessionId"],
            {"video_id": video_id},
        )
        assert item["recording"] == [{"url": hls}] and item["transcoded"] == [{"url": assets["mp4"]}]
        assert requests.get(assets["mp4"], timeout=10).status_code == 200
        assert app.ok("GET", f"/archive/conf/{ready['sessionId']}")["archive"] == [item]
    finally:
        api.ok("DELETE", f"/webhooks/{webhook['webhookId']}", key, expected=204)


def test_start_and_stop_need_an_active_session_and_a_running_recording(api: Api, project_a: Tenant) -> None:
    key = project_a.api_key
    room_id = create_room(api, project_a, mode="group")["roomId"]
    assert_problem(api.call("POST", f"/rooms/{room_id}/recording", key), 409, "room-no-active-session")
    assert_problem(api.call("DELETE", f"/rooms/{room_id}/recording", key), 404, "resource-not-found")
