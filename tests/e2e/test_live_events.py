"""Managed live events on the devstack, end to end, against the devstack's MediaLive plane.

- Failover and back: the API arms an event (a MediaLive channel with a primary and a backup RTMP
  route), two real ffmpeg encoders push, the channel goes live, the primary encoder is killed,
  MediaLive's automatic failover (the plane's switcher) moves the output to the backup; the primary
  encoder comes back and, with PRIMARY_INPUT_PREFERRED, the output returns to it after the
  template's errorClearMs. The app learns both from MediaLive's events (the active route, two
  `failover` entries on the timeline) and the HLS, recorded as it is listed, decodes across both
  switches. Ending the event stops and deletes the channel.
- The operator's override: with EQUAL_INPUT_PREFERENCE, `route` backup, primary, automatic; each
  takes effect on the plane (its Input Change event moves the active route), is on the timeline with
  its request id and actor, and a viewer's key is refused.
- A premiere: an uploaded MP4 becomes the channel's file input; the schedule arms it, starts it at
  startAt, the file plays (the HLS ends with ENDLIST and decodes) and the schedule ends the event and
  deletes its channel without a human."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import boto3
import requests

from .support import Api, Devstack, IssuedKey, Tenant, marker
from .test_live_ingest import FFMPEG, push, stop, wait_until

# MediaLive's own pace on the plane: channel IDLE, then STARTING for 2 s, then RUNNING.
ARM_SECONDS = 60.0
LIVE_SECONDS = 45.0
FAILOVER_SECONDS = 30.0
# The switch back: the primary encoder reconnects (a second or two), then stays clean this long.
ERROR_CLEAR_MS = 3000


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


class Recorder:
    """A player that keeps what it saw: polls the live media playlist and downloads each segment as
    it is listed, with the discontinuity before it, so the switches can be decoded after the window
    (6 segments) has moved past them."""

    def __init__(self, variant: str, folder: Path) -> None:
        self.variant = variant
        self.folder = folder
        self.segments: dict[int, tuple[float, bool, Path]] = {}
        self.ended = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(requests.RequestException):
                self.poll()
            self._stop.wait(0.5)

    def poll(self) -> None:
        text = requests.get(self.variant, timeout=5).text
        sequence, duration, discontinuity = 0, 0.0, False
        for line in (line.strip() for line in text.splitlines()):
            if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                sequence = int(line.split(":", 1)[1])
            elif line == "#EXT-X-DISCONTINUITY":
                discontinuity = True
            elif line.startswith("#EXTINF:"):
                duration = float(line.split(":", 1)[1].split(",")[0])
            elif line == "#EXT-X-ENDLIST":
                self.ended = True
            elif line and not line.startswith("#"):
                if sequence not in self.segments:
                    path = self.folder / f"{sequence}.ts"
                    path.write_bytes(requests.get(urljoin(self.variant, line), timeout=5).content)
                    self.segments[sequence] = (duration, discontinuity, path)
                sequence, discontinuity = sequence + 1, False

    def discontinuities(self) -> int:
        return sum(1 for _, discontinuity, _ in self.segments.values() if discontinuity)

    def decode(self) -> subprocess.CompletedProcess[bytes]:
        """Every recorded segment, in order, as one VOD playlist; they must follow on without a gap."""
        numbers = sorted(self.segments)
        assert numbers == list(range(numbers[0], numbers[-1] + 1)), f"segments missed: {numbers}"
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-PLAYLIST-TYPE:VOD", f"#EXT-X-MEDIA-SEQUENCE:{numbers[0]}"]
        lines.insert(2, f"#EXT-X-TARGETDURATION:{int(max(d for d, _, _ in self.segments.values())) + 1}")
        for number in numbers:
            duration, discontinuity, path = self.segments[number]
            lines += ["#EXT-X-DISCONTINUITY"] if discontinuity else []
            lines += [f"#EXTINF:{duration:.3f},", path.name]
        playlist = self.folder / "recorded.m3u8"
        playlist.write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]))
        return subprocess.run(
            [FFMPEG, "-hide_banner", "-loglevel", "error", "-i", str(playlist), "-f", "null", "-"],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip


def create_template(api: Api, tenant: Tenant, **failover: Any) -> str:
    body = {"name": f"e2e {marker()}", "failover": {"inputLossMs": 1000, **failover}}
    return str(api.ok("POST", "/live-event-templates", tenant.api_key, expected=201, json=body)["templateId"])


def create_pushed_event(api: Api, tenant: Tenant, template_id: str) -> str:
    stream = api.ok("POST", "/live-streams", tenant.api_key, json={"name": f"town hall {marker()}"})
    now = datetime.now(UTC)
    created = api.ok(
        "POST", "/live-events", tenant.api_key, expected=201,
        json={
            "name": f"Town hall {marker()}", "liveStreamId": stream["liveStreamId"], "templateId": template_id,
            "schedule": {
                "startAt": (now + timedelta(minutes=10)).isoformat(),
                "endAt": (now + timedelta(hours=1)).isoformat(),
            },
            "routes": {"primary": {"protocol": "rtmp"}, "backup": {"protocol": "rtmp"}},
        },
    )  # fmt: skip
    assert created["state"] == "draft" and created["ingest"] == {}
    return str(created["liveEventId"])


def active_route(api: Api, tenant: Tenant, event_id: str, route: str) -> Any:
    health = api.ok("GET", f"/live-events/{event_id}/health", tenant.api_key)
    return health["activeRoute"] == route and health


def test_an_armed_event_fails_over_to_its_backup_route_and_back_and_the_timeline_shows_it(
    api: Api, project_a: Tenant, devstack: Devstack, tmp_path: Path
) -> None:
    template_id = create_template(api, project_a, errorClearMs=ERROR_CLEAR_MS)
    event_id = create_pushed_event(api, project_a, template_id)

    armed = api.ok("POST", f"/live-events/{event_id}/arm", project_a.api_key, timeout=ARM_SECONDS)
    assert armed["state"] in ("armed", "live")
    assert armed["profile"]["failover"]["inputPreference"] == "PRIMARY_INPUT_PREFERRED"
    assert set(armed["ingest"]) == {"primary", "backup"}
    # The plane's input listeners are the stack's own: no loopback ingest or webhook URL may reach them.
    ports = {urlsplit(route["url"]).port for route in armed["ingest"].values()}
    assert ports <= set(devstack.state()["deniedPorts"]), ports
    primary = push(armed["ingest"]["primary"]["url"], "rtmp", seconds=180)
    backup = push(armed["ingest"]["backup"]["url"], "rtmp", seconds=180)
    returned = None
    try:
        live = wait_until(lambda: (e := event_of(api, project_a, event_id))["state"] == "live" and e, LIVE_SECONDS)
        playback = live["playbackUrl"]
        wait_until(lambda: requests.get(playback, timeout=10).status_code == 200, LIVE_SECONDS)
        variant = media_playlist(playback)
        with Recorder(variant, tmp_path) as recorder:
            wait_until(lambda: len(recorder.segments) >= 3, LIVE_SECONDS)

            primary.kill()  # the encoder dies: no clean disconnect
            primary.wait()
            switched = wait_until(
                lambda: (e := event_of(api, project_a, event_id))["activeRoute"] == "backup" and e, FAILOVER_SECONDS
            )
            assert switched["state"] == "live"
            health = api.ok("GET", f"/live-events/{event_id}/health", project_a.api_key)
            assert health["activeRoute"] == "backup"
            assert {i["route"]: i["active"] for i in health["inputs"]} == {"primary": False, "backup": True}

            # The primary's encoder comes back; clean for errorClearMs, it is the active route again.
            returned = push(armed["ingest"]["primary"]["url"], "rtmp", seconds=180)
            back = wait_until(lambda: active_route(api, project_a, event_id, "primary"), FAILOVER_SECONDS)
            assert {i["route"]: i["active"] for i in back["inputs"]} == {"primary": True, "backup": False}
            wait_until(lambda: recorder.discontinuities() >= 2, FAILOVER_SECONDS)
            count = len(recorder.segments)
            wait_until(lambda: len(recorder.segments) >= count + 2, FAILOVER_SECONDS)  # the primary's, after

        timeline = api.ok("GET", f"/live-events/{event_id}/timeline?pageSize=100", project_a.api_key)["data"]
        kinds = [entry["kind"] for entry in timeline]
        assert "request" in kinds and "transition" in kinds
        failovers = [entry["detail"] for entry in timeline if entry["kind"] == "failover"]
        assert [(f["from"], f["to"]) for f in failovers] == [("primary", "backup"), ("backup", "primary")], timeline
        assert [entry["at"] for entry in timeline] == sorted(entry["at"] for entry in timeline)
        arm_request = next(e for e in timeline if e["kind"] == "request" and "arm" in e["summary"])
        assert arm_request["requestId"] and arm_request["actorKeyId"]

        # What a player saw decodes across both switches (each behind an EXT-X-DISCONTINUITY).
        decoded = recorder.decode()
        assert decoded.returncode == 0, decoded.stderr.decode(errors="replace")[-2000:]
    finally:
        for encoder in (backup, returned):
            if encoder is not None:
                stop(encoder)
        if primary.poll() is None:
            primary.kill()

    ended = api.ok("POST", f"/live-events/{event_id}/end", project_a.api_key, timeout=ARM_SECONDS)
    assert ended["state"] == "ended"
    assert api.ok("POST", f"/live-events/{event_id}/end", project_a.api_key)["state"] == "ended"  # idempotent


def test_an_operators_override_takes_effect_on_the_channel_and_is_audited(
    api: Api, project_a: Tenant, operator_a: IssuedKey, viewer_a: IssuedKey
) -> None:
    template_id = create_template(api, project_a, inputPreference="EQUAL_INPUT_PREFERENCE")
    event_id = create_pushed_event(api, project_a, template_id)
    armed = api.ok("POST", f"/live-events/{event_id}/arm", project_a.api_key, timeout=ARM_SECONDS)
    primary = push(armed["ingest"]["primary"]["url"], "rtmp", seconds=120)
    backup = push(armed["ingest"]["backup"]["url"], "rtmp", seconds=120)
    route = f"/live-events/{event_id}/route"
    try:
        wait_until(lambda: event_of(api, project_a, event_id)["state"] == "live", LIVE_SECONDS)
        wait_until(lambda: active_route(api, project_a, event_id, "primary"), LIVE_SECONDS)
        refused = api.call("POST", route, viewer_a.api_key, json={"mode": "backup"})
        assert refused.status_code == 403, refused.text

        request_ids: dict[str, str] = {}
        for mode in ("backup", "primary"):
            answer = api.call("POST", route, operator_a.api_key, json={"mode": mode})
            assert answer.status_code == 200, answer.text
            assert answer.json()["routeMode"] == mode
            request_ids[mode] = answer.headers["X-Request-Id"]
            # The plane's Input Change event, not the request, moves the active route.
            health = wait_until(partial(active_route, api, project_a, event_id, mode), FAILOVER_SECONDS)
            assert health["routeMode"] == mode
        automatic = api.ok("POST", route, operator_a.api_key, json={"mode": "automatic"})
        assert automatic["routeMode"] == "automatic" and automatic["activeRoute"] == "primary"

        timeline = api.ok("GET", f"/live-events/{event_id}/timeline?pageSize=100", project_a.api_key)["data"]
        requests_made = [e for e in timeline if e["kind"] == "request" and e["summary"] == "live-event.route"]
        assert len(requests_made) == 3, timeline
        assert {e["actorKeyId"] for e in requests_made} == {operator_a.key_id}
        assert all(e["requestId"] for e in requests_made)
        assert set(request_ids.values()) <= {e["requestId"] for e in requests_made}
        changes = [e for e in timeline if e["kind"] == "route"]
        assert [e["detail"]["to"] for e in changes] == ["backup", "primary", "automatic"]
        # Each change carries the request that caused it.
        assert {e["requestId"] for e in changes} == {e["requestId"] for e in requests_made}
        failovers = [(e["detail"]["from"], e["detail"]["to"]) for e in timeline if e["kind"] == "failover"]
        assert failovers == [("primary", "backup"), ("backup", "primary")], timeline
    finally:
        stop(primary)
        stop(backup)
    assert api.ok("POST", f"/live-events/{event_id}/end", project_a.api_key, timeout=ARM_SECONDS)["state"] == "ended"


PREMIERE_CLIP_SECONDS = 8


def test_an_uploaded_video_premieres_at_its_time_and_the_schedule_ends_it(
    api: Api, project_a: Tenant, devstack: Devstack, tmp_path: Path
) -> None:
    key = project_a.api_key
    video = api.create_video(key, title=f"Premiere {marker()}")
    clip = make_premiere_clip(tmp_path / "premiere.mp4")
    uploaded = api.call(
        "POST",
        f"/videos/{video['videoId']}/source",
        key,
        files={"file": ("premiere.mp4", clip.read_bytes())},
        timeout=60,
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    now = datetime.now(UTC)
    start = now + timedelta(seconds=25)
    end = start + timedelta(seconds=PREMIERE_CLIP_SECONDS + 25)
    schedule = {
        "armAt": (now + timedelta(seconds=10)).isoformat(),
        "startAt": start.isoformat(),
        "endAt": end.isoformat(),
    }
    body = {"name": f"Premiere {marker()}", "videoId": video["videoId"], "schedule": schedule}

    def created_once_the_source_is_in() -> Any:
        # The upload is moved to the video's source (sources/<project>/<video>) by the ingest consumer.
        response = api.call("POST", "/live-events", key, json=body)
        assert response.status_code in (201, 400), response.text
        return response.status_code == 201 and response.json()

    created = wait_until(created_once_the_source_is_in, 10)
    event_id = created["liveEventId"]
    assert created["state"] == "draft" and created["routes"] is None

    # Armed by the schedule (no request), its channel made but not started before startAt.
    armed = wait_until(lambda: (e := event_of(api, project_a, event_id))["state"] != "draft" and e, 40)
    assert armed["state"] == "armed" and datetime.now(UTC) < start, armed
    # Live at its time: the start timer starts the channel, MediaLive reports RUNNING.
    live = wait_until(lambda: (e := event_of(api, project_a, event_id))["state"] == "live" and e, 60)
    assert datetime.now(UTC) >= start
    assert datetime.fromisoformat(live["stateChangedAt"]) >= start.replace(microsecond=0)

    playback = live["playbackUrl"]
    wait_until(lambda: requests.get(playback, timeout=10).status_code == 200, 30)
    variant = media_playlist(playback)
    with Recorder(variant, tmp_path) as recorder:
        wait_until(lambda: recorder.ended, PREMIERE_CLIP_SECONDS + 30)  # the file played to its end
    decoded = recorder.decode()
    assert decoded.returncode == 0, decoded.stderr.decode(errors="replace")[-2000:]
    played = sum(duration for duration, _, _ in recorder.segments.values())
    assert played >= PREMIERE_CLIP_SECONDS - 2, recorder.segments

    # Ended by its schedule at endAt, without a human; its channel and input are deleted.
    ended = wait_until(lambda: (e := event_of(api, project_a, event_id))["state"] == "ended" and e, 90)
    assert datetime.fromisoformat(ended["stateChangedAt"]) >= end.replace(microsecond=0)
    medialive = boto3.client(
        "medialive", endpoint_url=devstack.state()["mediaLivePlane"], region_name="us-east-1",
        aws_access_key_id="devstack", aws_secret_access_key="devstack",
    )  # fmt: skip
    names = [c["Name"] for c in medialive.list_channels()["Channels"]] + [
        i["Name"] for i in medialive.list_inputs()["Inputs"]
    ]
    assert not [name for name in names if event_id in name], names
    timeline = api.ok("GET", f"/live-events/{event_id}/timeline?pageSize=100", key)["data"]
    transitions = [e["summary"] for e in timeline if e["kind"] == "transition"]
    assert transitions == ["draft → armed", "armed → live", "live → ended"], timeline
    assert [e["summary"] for e in timeline if e["kind"] == "request"] == ["live-event.create"]


def make_premiere_clip(path: Path) -> Path:
    """A short H.264/AAC file with a keyframe a second (the plane copies it into 1 s segments)."""
    subprocess.run(
        [FFMPEG, "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(PREMIERE_CLIP_SECONDS), "-c:v", "libx264",
         "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path
