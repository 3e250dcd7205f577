"""A managed live event on the devstack, end to end: the API arms it (a MediaLive channel on the
devstack's MediaLive plane, with a primary and a backup RTMP route), two real ffmpeg encoders push,
the channel goes live, the primary encoder is killed, MediaLive's automatic failover (the plane's
switcher) moves the output to the backup, and the app learns it from MediaLive's events: the
event's active route, `live-event.failover` on the timeline, and an HLS that decodes across the
switch. Ending the event stops and deletes the channel."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import requests

from .support import Api, Tenant, marker
from .test_live_ingest import FFMPEG, push, stop, wait_until

# MediaLive's own pace on the plane: channel IDLE, then STARTING for 2 s, then RUNNING.
ARM_SECONDS = 60.0
LIVE_SECONDS = 45.0
FAILOVER_SECONDS = 30.0


def event_of(api: Api, tenant: Tenant, live_event_id: str) -> dict[str, Any]:
    return dict(api.ok("GET", f"/live-events/{live_event_id}", tenant.api_key))


def media_playlist(url: str) -> str:
    """The first variant of a multivariant playlist (the channel's HLS output group), or `url`."""
    text = requests.get(url, timeout=10).text
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF") and index + 1 < len(lines):
            return urljoin(url, lines[index + 1].strip())
    return url


def decodes_window(variant: str) -> subprocess.CompletedProcess[bytes]:
    """Decodes the segments the live media playlist lists now, from its first (the switch is among
    them), and no further: a live playlist never ends by itself."""
    listed = requests.get(variant, timeout=10).text.count("#EXTINF")
    return subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-live_start_index", "0", "-i", variant,
         "-t", str(max(1, listed - 1)), "-f", "null", "-"],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip


def test_an_armed_event_fails_over_to_its_backup_route_and_the_timeline_shows_it(api: Api, project_a: Tenant) -> None:
    stream = api.ok("POST", "/live-streams", project_a.api_key, json={"name": f"town hall {marker()}"})
    now = datetime.now(UTC)
    created = api.ok(
        "POST",
        "/live-events",
        project_a.api_key,
        expected=201,
        json={
            "name": f"Town hall {marker()}",
            "liveStreamId": stream["liveStreamId"],
            "schedule": {
                "startAt": (now + timedelta(minutes=10)).isoformat(),
                "endAt": (now + timedelta(hours=1)).isoformat(),
            },
            "routes": {"primary": {"protocol": "rtmp"}, "backup": {"protocol": "rtmp"}},
        },
    )
    event_id = created["liveEventId"]
    assert created["state"] == "draft" and created["ingest"] == {}

    armed = api.ok("POST", f"/live-events/{event_id}/arm", project_a.api_key, timeout=ARM_SECONDS)
    assert armed["state"] in ("armed", "live")
    assert set(armed["ingest"]) == {"primary", "backup"}
    primary = push(armed["ingest"]["primary"]["url"], "rtmp", seconds=120)
    backup = push(armed["ingest"]["backup"]["url"], "rtmp", seconds=120)
    try:
        live = wait_until(lambda: (e := event_of(api, project_a, event_id))["state"] == "live" and e, LIVE_SECONDS)
        playback = live["playbackUrl"]
        wait_until(lambda: requests.get(playback, timeout=10).status_code == 200, LIVE_SECONDS)

        primary.kill()  # the encoder dies: no clean disconnect
        primary.wait()
        switched = wait_until(
            lambda: (e := event_of(api, project_a, event_id))["activeRoute"] == "backup" and e, FAILOVER_SECONDS
        )
        assert switched["state"] == "live"
        health = api.ok("GET", f"/live-events/{event_id}/health", project_a.api_key)
        assert health["activeRoute"] == "backup"
        assert {i["route"]: i["active"] for i in health["inputs"]} == {"primary": False, "backup": True}

        timeline = api.ok("GET", f"/live-events/{event_id}/timeline?pageSize=100", project_a.api_key)["data"]
        kinds = [entry["kind"] for entry in timeline]
        assert "failover" in kinds and "request" in kinds and "transition" in kinds
        assert [entry["at"] for entry in timeline] == sorted(entry["at"] for entry in timeline)
        arm_request = next(e for e in timeline if e["kind"] == "request" and "arm" in e["summary"])
        assert arm_request["requestId"] and arm_request["actorKeyId"]

        # The output's media playlist carries a discontinuity at the switch, and it decodes across it.
        variant = media_playlist(playback)
        wait_until(lambda: "#EXT-X-DISCONTINUITY\n" in requests.get(variant, timeout=10).text, FAILOVER_SECONDS)
        decoded = decodes_window(variant)
        assert decoded.returncode == 0, decoded.stderr.decode(errors="replace")[-2000:]
    finally:
        stop(backup)
        if primary.poll() is None:
            primary.kill()

    ended = api.ok("POST", f"/live-events/{event_id}/end", project_a.api_key, timeout=ARM_SECONDS)
    assert ended["state"] == "ended"
    assert api.ok("POST", f"/live-events/{event_id}/end", project_a.api_key)["state"] == "ended"  # idempotent
