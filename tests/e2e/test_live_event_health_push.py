"""A managed live event's health push channel on the devstack, end to end: an operator screen
subscribes (a WebSocket, and an event stream as curl or EventSource would read it), the event is
armed, two ffmpeg encoders push, and each change arrives as the health document — armed, then live,
then the backup route once the primary encoder is killed — the same document GET /health answers.
Another tenant cannot subscribe."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .support import Api, Tenant, marker
from .test_live_events import ARM_SECONDS, FAILOVER_SECONDS, LIVE_SECONDS
from .test_live_ingest import push, stop, wait_until


class Received:
    """Documents from one push client, in arrival order, read on a thread of their own."""

    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def add(self, document: dict[str, Any]) -> None:
        with self.lock:
            self.documents.append(document)

    def first(self, check: Callable[[dict[str, Any]], bool], seconds: float) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            with self.lock:
                return next((d for d in self.documents if check(d)), None)

        return dict(wait_until(found, seconds))

    def states(self) -> list[str]:
        with self.lock:
            states = [d["state"] for d in self.documents]
        return [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]


def read_socket(socket: ClientConnection, into: Received) -> None:
    try:
        for message in socket:
            into.add(json.loads(message))
    except ConnectionClosed:
        return


def read_stream(response: requests.Response, into: Received) -> None:
    event = ""
    try:
        for line in response.iter_lines(chunk_size=1, decode_unicode=True):
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "health":
                into.add(json.loads(line.removeprefix("data: ")))
    except (requests.RequestException, AttributeError):
        return  # closed by the test


def create_event(api: Api, tenant: Tenant) -> dict[str, Any]:
    stream = api.ok("POST", "/live-streams", tenant.api_key, json={"name": f"health {marker()}"})
    now = datetime.now(UTC)
    return dict(
        api.ok(
            "POST",
            "/live-events",
            tenant.api_key,
            expected=201,
            json={
                "name": f"Health {marker()}",
                "liveStreamId": stream["liveStreamId"],
                "schedule": {
                    "startAt": (now + timedelta(minutes=10)).isoformat(),
                    "endAt": (now + timedelta(hours=1)).isoformat(),
                },
                "routes": {"primary": {"protocol": "rtmp"}, "backup": {"protocol": "rtmp"}},
            },
        )
    )


def test_an_operator_screen_sees_armed_live_and_the_failover_pushed(
    api: Api, project_a: Tenant, project_b: Tenant
) -> None:
    event_id = create_event(api, project_a)["liveEventId"]
    path = f"/live-events/{event_id}"
    assert api.call("POST", f"{path}/health/subscriptions", project_b.api_key).status_code == 404
    subscription = api.ok("POST", f"{path}/health/subscriptions", project_a.api_key, expected=201)
    assert subscription["url"].startswith("ws://127.0.0.1:") and subscription["streamUrl"].startswith("http://")

    by_socket, by_stream = Received(), Received()
    socket = connect(subscription["url"], open_timeout=10, legacy=True)  # closed in `finally`
    stream = requests.get(subscription["streamUrl"], stream=True, timeout=(5, None))
    assert stream.status_code == 200 and stream.headers["Content-Type"] == "text/event-stream"
    readers = [
        threading.Thread(target=read_socket, args=(socket, by_socket), daemon=True),
        threading.Thread(target=read_stream, args=(stream, by_stream), daemon=True),
    ]
    for reader in readers:
        reader.start()
    encoders: dict[str, subprocess.Popen[bytes]] = {}
    try:
        socket.send('{"action": "health"}')  # a screen's first question: the current document ($default)
        assert by_socket.first(lambda d: True, 10) == api.ok("GET", f"{path}/health", project_a.api_key)
        armed = api.ok("POST", f"{path}/arm", project_a.api_key, timeout=ARM_SECONDS)
        encoders = {route: push(armed["ingest"][route]["url"], "rtmp", seconds=120) for route in ("primary", "backup")}
        for received in (by_socket, by_stream):
            received.first(lambda d: d["state"] == "live", LIVE_SECONDS)
        # The channel plays the primary from the start (MediaLive reports an input change only on a
        # switch); once its output is up, the primary's encoder dies and the backup takes over.
        playback = api.ok("GET", path, project_a.api_key)["playbackUrl"]
        wait_until(lambda: requests.get(playback, timeout=10).status_code == 200, LIVE_SECONDS)
        killed = time.monotonic()
        encoders["primary"].kill()
        encoders["primary"].wait()
        try:
            failed_over = by_socket.first(lambda d: d["activeRoute"] == "backup", FAILOVER_SECONDS)
        except AssertionError:
            print("pushed:", by_socket.documents)
            timeline = api.ok("GET", f"{path}/timeline?pageSize=100", project_a.api_key)["data"]
            print("timeline:", [(e["at"], e["kind"], e["summary"]) for e in timeline])
            raise
        by_stream.first(lambda d: d["activeRoute"] == "backup", FAILOVER_SECONDS)
        print(f"primary encoder killed -> backup pushed: {time.monotonic() - killed:.2f} s")
        assert failed_over["liveEventId"] == event_id and failed_over["channelState"] == "RUNNING"
        assert {i["route"]: i["active"] for i in failed_over["inputs"]} == {"primary": False, "backup": True}
        # What was pushed last is what GET /health answers now (a push is the same document).
        wait_until(lambda: by_socket.documents[-1] == api.ok("GET", f"{path}/health", project_a.api_key), 10)
        print("pushed (activeRoute, alerts):", [(d["activeRoute"], len(d["alerts"])) for d in by_socket.documents])
        assert by_socket.states()[:3] == ["draft", "armed", "live"] and by_stream.states()[:2] == ["armed", "live"]
    finally:
        for encoder in encoders.values():
            stop(encoder)
        socket.close()
        stream.close()
    api.ok("POST", f"{path}/end", project_a.api_key, timeout=ARM_SECONDS)


def test_a_forged_or_missing_token_opens_nothing(api: Api, project_a: Tenant, project_b: Tenant) -> None:
    event_id = create_event(api, project_a)["liveEventId"]
    subscription = api.ok("POST", f"/live-events/{event_id}/health/subscriptions", project_a.api_key, expected=201)
    _, _, secret = subscription["token"].split(".")
    forged = subscription["streamUrl"].replace(subscription["token"], f"{project_b.project_id}.{event_id}.{secret}")
    assert requests.get(forged, timeout=10).status_code == 401
    assert requests.get(subscription["streamUrl"].split("?")[0], timeout=10).status_code == 401
