"""Join latency of a room on the devstack: from a join token to media flowing.

    .venv/bin/python -m benchmarks.rooms [--iterations N] [--json]

It starts its own devstack (`python -m devstack up --port 0`) in a temporary directory, creates a
group room and mints one moderator token, then, N times: `POST /join` (the token exchange), a WHIP
publish of a synthetic video track with aiortc to the `whipUrl` it answers (offer, 201 answer),
and waits until the peer connection is `connected` (ICE and DTLS done: SRTP flows); then ends the
publication (WHIP DELETE). The same user rejoins each time, so no seat cap is met.

Printed: p50/p95/max of the exchange, of the WHIP offer/answer, and of token → connected.
Not measured yet, because nothing produces them: leave → `room.participant.left` delay, and CDR
rows of simulated participants (issue 14's sessions and CDR slices).

Nothing here asserts on timings: it prints numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import requests

from benchmarks.devstack_process import running_devstack
from devstack.whip import loopback_only

CONNECT_TIMEOUT_SECONDS = 20.0


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


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": statistics.median(ordered), "p95": p95, "max": ordered[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20)
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

    report: dict[str, Any] = {
        "iterations": arguments.iterations,
        **{name: percentiles([run[name] for run in runs]) for name in runs[0]},
        "not_measured": ["leave -> room.participant.left delay", "CDR rows of 20 simulated participants"],
    }
    if arguments.json:
        print(json.dumps(report))
        return
    print(f"Room join on the devstack, {arguments.iterations} joins (after one warm-up):")
    for name in runs[0]:
        figures = report[name]
        print(f"  {name:24} p50 {figures['p50']:7.1f}  p95 {figures['p95']:7.1f}  max {figures['max']:7.1f}")
    print("Not measured yet (nothing emits them): " + "; ".join(report["not_measured"]))


if __name__ == "__main__":
    main()
