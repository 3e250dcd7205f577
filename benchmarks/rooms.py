"""Rooms on the devstack: join latency, leave-detection delay, and call detail records under churn.

    .venv/bin/python -m benchmarks.rooms [--iterations N] [--subscribes N] [--leaves N] [--vanishes N]
        [--churn N] [--json]

It starts its own devstack (`python -m devstack up --port 0`) in a temporary directory.

1. **Join**: a group room and one moderator token; N times `POST /join` (the token exchange), a
   WHIP publish of a synthetic video track with aiortc to the `whipUrl` it answers (offer, 201
   answer), until the peer connection is `connected` (ICE and DTLS done: SRTP flows); then WHIP
   DELETE. The same user rejoins each time, so no seat cap is met.
1b. **Subscribe**: an ffmpeg WHIP publisher in a room; N times a viewer's `POST /join`, then an
   aiortc WHEP subscribe (`media.whepUrl?participantId=<publisher>`, recvonly offer, 201 answer)
   until the first decoded video frame arrives; then WHEP DELETE (`--subscribes`).
2. **Leave → left**: ffmpeg WHIP publishers (one room each) that leave (a) with a WHIP DELETE
   (`--leaves`), or (b) by vanishing (SIGKILL, no DELETE: the plane notices when WebRTC consent
   expires, about 30 s; `--vanishes`). Measured from the leave to the participant's `leftAt` in
   `GET /sessions/{id}` (detection) and to the signed `room.participant.left` webhook's arrival
   (detection + outbox + bus + webhook delivery).
3. **Churn**: one session of a group room held by a moderator while `--churn` (20) participants
   join, publish for 2 to 5 s each with ffmpeg (a few at a time, under the 11 seats) and leave;
   then the moderator leaves. Counted: rows of `GET /sessions/{id}/cdr` against the joins made
   (lost, doubled, without leave time) and `room.participant.left` webhooks (lost, doubled).

Nothing here asserts on timings: it prints numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from benchmarks.devstack_process import running_devstack
from devstack import mediatools
from devstack.whip import loopback_only

CONNECT_TIMEOUT_SECONDS = 20.0
LEAVE_TIMEOUT_SECONDS = 90.0
CHURN_SEATS = 11
CHURN_CONCURRENCY = 6
SESSION_EVENTS = ["room.participant.left", "room.session.ended", "room.cdr.ready"]


async def publish_once(api_url: str, token: str) -> dict[str, float]:
    from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

    started = time.perf_counter()
    joined = requests.post(f"{api_url}/join", json={"token": token}, timeout=30)
    joined.raise_for_status()
    exchanged = time.perf_counter()
    media = joined.json()["media"]

    peer = RTCPeerConnection()
    connected = asyncio.get_running_loop().create_future()

    @peer.on("connectionstatechange")
    def _state() -> None:
        if peer.connectionState == "connected" and not connected.done():
            connected.set_result(time.perf_counter())

    peer.addTrack(VideoStreamTrack())
    await peer.setLocalDescription(await peer.createOffer())
    offered = time.perf_counter()
    answer = requests.post(
        media["whipUrl"],
        data=peer.localDescription.sdp,
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {media['participantToken']}"},
        timeout=30,
    )
    answer.raise_for_status()
    answered = time.perf_counter()
    await peer.setRemoteDescription(RTCSessionDescription(sdp=answer.text, type="answer"))
    flowing = await asyncio.wait_for(connected, CONNECT_TIMEOUT_SECONDS)
    requests.delete(media["whipUrl"].rsplit("/whip/", 1)[0] + answer.headers["Location"], timeout=30)
    await peer.close()
    return {
        "exchange_ms": (exchanged - started) * 1000,
        "whip_answer_ms": (answered - offered) * 1000,
        "token_to_connected_ms": (flowing - started) * 1000,
    }


async def subscribe_once(api_url: str, token: str, publisher_id: str) -> dict[str, float]:
    from aiortc import RTCPeerConnection, RTCSessionDescription

    started = time.perf_counter()
    joined = requests.post(f"{api_url}/join", json={"token": token}, timeout=30)
    joined.raise_for_status()
    media = joined.json()["media"]
    peer = RTCPeerConnection()
    peer.addTransceiver("video", direction="recvonly")
    video = asyncio.get_running_loop().create_future()

    @peer.on("track")
    def _track(track: Any) -> None:
        if track.kind == "video" and not video.done():
            video.set_result(track)

    await peer.setLocalDescription(await peer.createOffer())
    offered = time.perf_counter()
    answer = requests.post(
        f"{media['whepUrl']}?participantId={publisher_id}",
        data=peer.localDescription.sdp,
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {media['participantToken']}"},
        timeout=30,
    )
    answer.raise_for_status()
    answered = time.perf_counter()
    await peer.setRemoteDescription(RTCSessionDescription(sdp=answer.text, type="answer"))
    track = await asyncio.wait_for(video, CONNECT_TIMEOUT_SECONDS)
    await asyncio.wait_for(track.recv(), CONNECT_TIMEOUT_SECONDS)
    first_frame = time.perf_counter()
    requests.delete(media["whepUrl"].rsplit("/whep/", 1)[0] + answer.headers["Location"], timeout=30)
    await peer.close()
    return {"whep_answer_ms": (answered - offered) * 1000, "join_to_first_frame_ms": (first_frame - started) * 1000}


def subscribes(stack: Stack, count: int) -> list[dict[str, float]]:
    """One ffmpeg publisher; `count` viewers join and subscribe to it one after another (one warm-up)."""
    room = stack.call("POST", "/rooms", {"name": "bench-subscribe", "settings": {"mode": "group"}})

    def token(user: str, role: str) -> str:
        minted = stack.call("POST", f"/rooms/{room['roomId']}/tokens", {"userRef": user, "name": user, "role": role})
        return str(minted["token"])

    admitted = requests.post(f"{stack.api_url}/join", json={"token": token("pub", "moderator")}, timeout=30).json()
    publisher = ffmpeg_publisher(admitted["media"], None)
    try:
        wait_connected(stack, admitted)
        viewer = token("viewer", "viewer")
        asyncio.run(subscribe_once(stack.api_url, viewer, admitted["participantId"]))
        return [asyncio.run(subscribe_once(stack.api_url, viewer, admitted["participantId"])) for _ in range(count)]
    finally:
        publisher.terminate()
        publisher.wait(timeout=30)


class Hooks:
    """A loopback webhook receiver: each delivery with its arrival time."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.lock = threading.Lock()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hooks.lock:
                    hooks.received.append((time.perf_counter(), json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def of(self, event_type: str, **fields: str) -> list[tuple[float, dict[str, Any]]]:
        with self.lock:
            return [
                (at, p)
                for at, p in self.received
                if p.get("type") == event_type and all(p.get(k) == v for k, v in fields.items())
            ]

    def wait(self, event_type: str, timeout: float, **fields: str) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(event_type, **fields)
            if found:
                return found[0][0]
            time.sleep(0.02)
        return None


class Stack:
    def __init__(self, api_url: str, api_key: str) -> None:
        self.api_url = api_url
        self.auth = (api_key, "")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(method, f"{self.api_url}{path}", json=body, auth=self.auth, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def room(self, **settings: Any) -> str:
        return str(self.call("POST", "/rooms", {"name": "bench", "settings": {"mode": "group", **settings}})["roomId"])

    def admit(self, room_id: str, user_ref: str, role: str = "participant") -> dict[str, Any]:
        token = self.call("POST", f"/rooms/{room_id}/tokens", {"userRef": user_ref, "name": user_ref, "role": role})
        joined = requests.post(f"{self.api_url}/join", json={"token": token["token"]}, timeout=30)
        joined.raise_for_status()
        return dict(joined.json())


def ffmpeg_publisher(media: dict[str, Any], seconds: float | None) -> subprocess.Popen[bytes]:
    """H.264 Baseline and Opus over WHIP; `seconds` of it then a DELETE, or until killed."""
    limit = [] if seconds is None else ["-t", f"{seconds:.1f}"]
    return subprocess.Popen(
        [
            mediatools.ffmpeg(), "-hide_banner", "-v", "error",
            "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15", "-f", "lavfi", "-i", "sine=frequency=440",
            *limit,
            "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-tune", "zerolatency", "-g", "15",
            "-c:a", "libopus", "-ar", "48000", "-ac", "2",
            "-authorization", media["participantToken"], "-f", "whip", media["whipUrl"],
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def participant(stack: Stack, session_id: str, participant_id: str) -> dict[str, Any] | None:
    session = stack.call("GET", f"/sessions/{session_id}")
    return next((p for p in session["participants"] if p["participantId"] == participant_id), None)


def wait_connected(stack: Stack, admitted: dict[str, Any]) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        found = participant(stack, admitted["sessionId"], admitted["participantId"])
        if found and found["connectedAt"]:
            return
        time.sleep(0.1)
    raise TimeoutError("the publisher never showed as connected (the session poll runs every 10 s)")


def leave_once(stack: Stack, hooks: Hooks, vanish: bool) -> dict[str, float]:
    """One publisher in a room of its own; the delay from its leave to `leftAt` and to the webhook."""
    room_id = stack.room()
    admitted = stack.admit(room_id, "leaver", role="moderator")
    peer = ffmpeg_publisher(admitted["media"], None if vanish else 3.0)
    wait_connected(stack, admitted)
    if vanish:
        peer.send_signal(signal.SIGKILL)
        left_at = time.perf_counter()
        peer.wait()
    else:
        peer.wait(timeout=60)
        left_at = time.perf_counter()  # ffmpeg exits after its DELETE is answered
    detected = None
    deadline = time.monotonic() + LEAVE_TIMEOUT_SECONDS
    while detected is None and time.monotonic() < deadline:
        found = participant(stack, admitted["sessionId"], admitted["participantId"])
        if found and found["leftAt"]:
            detected = time.perf_counter()
        else:
            time.sleep(0.05)
    delivered = hooks.wait("room.participant.left", LEAVE_TIMEOUT_SECONDS, participantId=admitted["participantId"])
    if detected is None or delivered is None:
        raise TimeoutError("the leave was not detected")
    return {"detected_ms": (detected - left_at) * 1000, "webhook_ms": (delivered - left_at) * 1000}


def churn(stack: Stack, hooks: Hooks, participants: int) -> dict[str, Any]:
    """One session: a moderator holds it while `participants` join, publish a few seconds, leave."""
    room_id = stack.room(maxModerators=1, maxParticipants=CHURN_SEATS)
    anchor = stack.admit(room_id, "anchor", role="moderator")
    anchor_peer = ffmpeg_publisher(anchor["media"], None)
    wait_connected(stack, anchor)
    joined: list[str] = [anchor["participantId"]]
    running: list[subprocess.Popen[bytes]] = []
    for index in range(participants):
        while sum(1 for p in running if p.poll() is None) >= CHURN_CONCURRENCY:
            time.sleep(0.05)
        admitted = stack.admit(room_id, f"user-{index}")
        assert admitted["sessionId"] == anchor["sessionId"], "the churn left the session"
        joined.append(admitted["participantId"])
        running.append(ffmpeg_publisher(admitted["media"], 2.0 + 3.0 * index / max(1, participants - 1)))
        time.sleep(0.3)
    for peer in running:
        peer.wait(timeout=60)
    anchor_peer.send_signal(signal.SIGINT)  # ffmpeg's clean exit: its WHIP DELETE
    anchor_peer.wait(timeout=60)
    session_id = anchor["sessionId"]
    hooks.wait("room.cdr.ready", LEAVE_TIMEOUT_SECONDS, sessionId=session_id)
    rows = []
    page = 1
    while True:
        listing = stack.call("GET", f"/sessions/{session_id}/cdr?currentPage={page}&pageSize=100")
        rows.extend(listing["data"])
        if page >= listing["pagination"]["pagesTotal"]:
            break
        page += 1
    ids = [r["participantId"] for r in rows]
    left = [p["participantId"] for _, p in hooks.of("room.participant.left", sessionId=session_id)]
    return {
        "joins": len(joined),
        "cdr_rows": len(rows),
        "cdr_lost": len(set(joined) - set(ids)),
        "cdr_doubled": len(ids) - len(set(ids)),
        "cdr_without_leave": sum(1 for r in rows if not r["leftAt"]),
        "cdr_never_connected": sum(1 for r in rows if not r["connectedAt"]),
        "left_webhooks_lost": len(set(joined) - set(left)),
        "left_webhooks_doubled": len(left) - len(set(left)),
        "cdr_ready_webhooks": len(hooks.of("room.cdr.ready", sessionId=session_id)),
        "session_status": stack.call("GET", f"/sessions/{session_id}")["status"],
    }


@contextmanager
def subscribed(stack: Stack, hooks: Hooks) -> Iterator[None]:
    webhook = stack.call("POST", "/webhooks", {"url": hooks.url, "events": SESSION_EVENTS})
    try:
        yield
    finally:
        stack.call("DELETE", f"/webhooks/{webhook['webhookId']}")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": statistics.median(ordered), "p95": p95, "max": ordered[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--subscribes", type=int, default=10, help="viewers subscribing to one publisher")
    parser.add_argument("--leaves", type=int, default=5, help="publishers that leave with a WHIP DELETE")
    parser.add_argument("--vanishes", type=int, default=2, help="publishers killed without a DELETE (~30 s each)")
    parser.add_argument("--churn", type=int, default=20, help="participants through one session")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    loopback_only()  # this process's ICE gathers on 127.0.0.1 too

    with running_devstack("rooms-bench-") as stack:
        auth = (stack.api_key, "")
        room = requests.post(
            f"{stack.api_url}/rooms", json={"name": "bench", "settings": {"mode": "group"}}, auth=auth, timeout=30
        ).json()
        token = requests.post(
            f"{stack.api_url}/rooms/{room['roomId']}/tokens",
            json={"userRef": "bench", "name": "Bench", "role": "moderator"},
            auth=auth,
            timeout=30,
        ).json()["token"]
        asyncio.run(publish_once(stack.api_url, token))  # warm-up: imports, first connections
        runs = [asyncio.run(publish_once(stack.api_url, token)) for _ in range(arguments.iterations)]
        bench, hooks = Stack(stack.api_url, stack.api_key), Hooks()
        subscriptions = subscribes(bench, arguments.subscribes) if arguments.subscribes else []
        with subscribed(bench, hooks):
            leaves = [leave_once(bench, hooks, vanish=False) for _ in range(arguments.leaves)]
            vanishes = [leave_once(bench, hooks, vanish=True) for _ in range(arguments.vanishes)]
            churned = churn(bench, hooks, arguments.churn)

    report: dict[str, Any] = {
        "iterations": arguments.iterations,
        **{name: percentiles([run[name] for run in runs]) for name in runs[0]},
        **{f"subscribe_{k}": percentiles([s[k] for s in subscriptions]) for k in (subscriptions or [{}])[0]},
        **{f"delete_leave_{k}": percentiles([r[k] for r in leaves]) for k in ("detected_ms", "webhook_ms") if leaves},
        **{
            f"vanish_leave_{k}": percentiles([r[k] for r in vanishes])
            for k in ("detected_ms", "webhook_ms")
            if vanishes
        },
        "churn": churned,
    }
    if arguments.json:
        print(json.dumps(report))
        return
    print(f"Room join on the devstack, {arguments.iterations} joins (after one warm-up), ms:")
    for name in dict.fromkeys([*runs[0], *(k for k in report if k.endswith("_ms"))]):
        figures = report[name]
        print(f"  {name:34} p50 {figures['p50']:8.1f}  p95 {figures['p95']:8.1f}  max {figures['max']:8.1f}")
    print(f"Subscribes measured: {len(subscriptions)} (subscribe_*: viewer's join -> first decoded video frame).")
    print(f"Leaves measured: {len(leaves)} with WHIP DELETE, {len(vanishes)} vanished (SIGKILL).")
    print(f"Churn, one session, {arguments.churn} participants and a moderator:")
    for name, value in churned.items():
        print(f"  {name:24} {value}")


if __name__ == "__main__":
    main()
