"""Incident automation, degradation → automated action, on a devstack (issue 15, "Measure").

Per run: a managed live event with short incident thresholds (an event override: DroppedFrames ≥ 5
in one 10 s period, EQUAL_INPUT_PREFERENCE so the route may switch), armed, two ffmpeg encoders
pushing, live; then packet loss is injected on the primary input of the devstack's MediaLive plane
and the clock runs until the event's health shows the incident open and the backup route active.
The chain measured: the plane's DroppedFrames (every 5 s) → the emulated CloudWatch → the alarm
evaluator (every 1 s) → "CloudWatch Alarm State Change" on the default bus → the rule → SQS → the
consumer (its poller) → the route switch on MediaLive → MediaLive's input change back to the app.

    python -m benchmarks.live_incidents --runs 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import imageio_ffmpeg
import requests

from benchmarks.devstack_process import Devstack, running_devstack

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
INCIDENTS = {"droppedFrames": 5, "inputLossSeconds": None, "periodSeconds": 10, "sustainSeconds": 10,
             "stabilizationSeconds": 10}  # fmt: skip
FAULT_SECONDS = 15
WAIT_SECONDS = 60.0


def log(message: str) -> None:
    print(f"[live_incidents] {message}", file=sys.stderr, flush=True)


def publish(url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "180", "-c:v", "libx264", "-preset", "ultrafast",
         "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", url],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait(check: Callable[[], Any], seconds: float, step: float = 0.2) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise RuntimeError(f"not within {seconds} s")


class Client:
    def __init__(self, stack: Devstack) -> None:
        self.stack = stack
        self.session = requests.Session()
        token = self.session.post(f"{stack.api_url}/auth/api-key", json={"apiKey": stack.api_key}, timeout=30)
        token.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        state = json.loads((stack.workdir / "state.json").read_text())
        self.plane = str(state["mediaLivePlane"])

    def call(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        response = self.session.request(method, f"{self.stack.api_url}{path}", json=body, timeout=timeout)
        response.raise_for_status()
        return response.json() if response.content else None

    def channel_id(self, live_event_id: str) -> str:
        medialive = boto3.client("medialive", endpoint_url=self.plane, region_name="us-east-1",
                                 aws_access_key_id="devstack", aws_secret_access_key="devstack")  # fmt: skip
        return str(next(c["Id"] for c in medialive.list_channels()["Channels"] if live_event_id in c["Name"]))


def one_run(client: Client, run: int) -> float:
    stream = client.call("POST", "/live-streams", {"name": f"incident bench {run}"})
    now = datetime.now(UTC)
    event = client.call("POST", "/live-events", {
        "name": f"incident bench {run}",
        "liveStreamId": stream["liveStreamId"],
        "overrides": {"failover": {"inputPreference": "EQUAL_INPUT_PREFERENCE"}, "incidents": INCIDENTS},
        "schedule": {"startAt": (now + timedelta(minutes=10)).isoformat(),
                     "endAt": (now + timedelta(hours=1)).isoformat()},
    })  # fmt: skip
    event_id = event["liveEventId"]
    armed = client.call("POST", f"/live-events/{event_id}/arm")
    encoders = [publish(armed["ingest"][route]["url"]) for route in ("primary", "backup")]
    try:
        wait(lambda: client.call("GET", f"/live-events/{event_id}")["state"] == "live", WAIT_SECONDS)
        log(f"run {run + 1}: live")
        time.sleep(6)  # a metrics period of clean input first
        url = f"{client.plane}/_devstack/channels/{client.channel_id(event_id)}/faults"
        started = time.monotonic()
        requests.post(url, json={"input": "primary", "kind": "packet-loss", "seconds": FAULT_SECONDS}, timeout=10)

        def acted() -> bool:
            health = client.call("GET", f"/live-events/{event_id}/health")
            return bool(health["activeRoute"] == "backup" and health["incident"])

        try:
            wait(acted, WAIT_SECONDS)
        except RuntimeError:
            log(f"no action: {client.call('GET', f'/live-events/{event_id}/health')}\n{client.stack.log_tail()}")
            raise
        return time.monotonic() - started
    finally:
        for encoder in encoders:
            encoder.kill()
            encoder.wait()
        end(client, event_id)


def end(client: Client, live_event_id: str) -> None:
    """Ends the event; a channel still stopping is 503 (retry), as the API documents."""
    for _ in range(5):
        try:
            client.call("POST", f"/live-events/{live_event_id}/end", timeout=120)
            return
        except requests.HTTPError as error:
            log(f"end: {error}; again")
            time.sleep(5)


def percentiles(values: Sequence[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):.2f} s / p95 {p95:.2f} s (n={len(ordered)})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    log("starting the devstack")
    with running_devstack("videoplane-incidents-") as stack:
        client = Client(stack)
        times = []
        for run in range(args.runs):
            try:
                took = one_run(client, run)
            except (RuntimeError, requests.RequestException) as error:
                log(f"run {run + 1} failed: {error!r}")
                continue
            log(f"run {run + 1}: degradation → backup active with the incident open in {took:.2f} s")
            times.append(took)
        if not times:
            print(f"live incidents: no run completed\n{stack.log_tail(60)}")
            return 1
    print(f"live incidents: degradation start → automated action (route switched, incident open): {percentiles(times)}")
    print(f"devstack: {stack.stop_outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
