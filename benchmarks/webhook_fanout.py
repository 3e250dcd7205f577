"""Webhook fan-out on the devstack: state change → outbox → bus → dispatcher → deliverer → verified receipt.

    .venv/bin/python -m benchmarks.webhook_fanout [--events N] [--subscriptions K] [--timeout S]

It starts its own devstack (`python -m devstack up --port 0`) in a temporary directory with the
rate limits raised, starts K HTTP receivers on 127.0.0.1 that verify every delivery both ways
(`standardwebhooks` and api.video's hex HMAC of the raw body), registers K webhooks for
`video.created`, then creates N videos from a few client threads as fast as the API answers. Each
`POST /videos` is one state change; its time is when the response came back. It waits (bounded)
for N*K verified receipts and reports throughput, latency from state change to verified receipt,
verification failures, duplicates and missing deliveries.

To show where the time goes it then reads the delivery records from the emulator's table: the
dispatcher stamps `created_at` when it creates a delivery and the deliverer stamps `attemptedAt`
just before it POSTs, which splits every delivery into (1) state change → dispatch (stream poll,
PutEvents, rule → SQS, dispatcher poll), (2) dispatch → attempt (deliveries queue, deliverer poll)
and (3) attempt → receipt (signing, HTTP). All clocks are this machine's wall clock.

Nothing here asserts on timings: it prints numbers and the goals they are compared with.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import requests
from standardwebhooks import Webhook, WebhookVerificationError

from benchmarks.devstack_process import Devstack, running_devstack

REPO_ROOT = Path(__file__).resolve().parent.parent
TABLE_NAME = "videoplane"  # devstack.emulator.TABLE_NAME (importing it would start importing moto)
REGION = "us-east-1"
EVENT_TYPE = "video.created"
GOAL_P99_SECONDS = 1.0
GOAL_PER_SECOND = 200.0
CLIENT_THREADS = 4
DEFAULT_WAIT_SECONDS = 90.0
# Production plus waiting stay inside this, so the whole run (with start-up, stop and the
# read-back) stays under 3 minutes even when the devstack cannot keep up with --events.
DEFAULT_BUDGET_SECONDS = 140.0
PRODUCE_SHARE = 0.5  # of the budget, at most, for the state changes
RAW_SAMPLES = 50
# Far more writes than the default limits allow; the limiter's counter still runs on each request.


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(samples: Sequence[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class Stats:
    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        if not samples:
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"))
        return cls(len(samples), statistics.median(samples), percentile(samples, 95), percentile(samples, 99),
                   max(samples))  # fmt: skip

    def ms(self) -> str:
        return (
            f"p50 {self.p50 * 1000:7.0f} ms  p95 {self.p95 * 1000:7.0f} ms  p99 {self.p99 * 1000:7.0f} ms"
            f"  max {self.max * 1000:7.0f} ms  (n={self.count})"
        )


# ---------------------------------------------------------------------------------------------
# The devstack under test
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Receivers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    at: float  # time.time() when the request body was read
    message_id: str
    video_id: str


@dataclass
class Receiver:
    """A real HTTP endpoint that verifies every delivery with both schemes before counting it."""

    secret: str = ""
    webhook_id: str = ""
    receipts: list[Receipt] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    failures: int = 0
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                at = time.time()
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.receive(at, headers, body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def receive(self, at: float, headers: dict[str, str], body: bytes) -> None:
        try:
            payload = Webhook(self.secret).verify(body, headers)
            expected = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(headers.get("x-api-video-signature", ""), expected):
                raise ValueError("bad X-Api-Video-Signature")
            if headers.get("x-api-video-webhookid") != self.webhook_id:
                raise ValueError("wrong X-Api-Video-WebhookID")
            message_id, video_id = headers["webhook-id"], str(payload["videoId"])
        except (WebhookVerificationError, ValueError, KeyError, TypeError):
            with self.lock:
                self.failures += 1
            return
        with self.lock:
            if message_id in self.seen:
                self.duplicates += 1
                return
            self.seen.add(message_id)
            self.receipts.append(Receipt(at, message_id, video_id))

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def session(stack: Devstack) -> requests.Session:
    http = requests.Session()
    response = http.post(f"{stack.api_url}/auth/api-key", json={"apiKey": stack.api_key}, timeout=30)
    _expect(response, 200)
    http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return http


def _expect(response: requests.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered {response.status_code}, "
            f"expected {status}: {response.text[:500]}"
        )


def produce(stack: Devstack, events: int, threads: int, deadline: float) -> dict[str, float]:
    """Creates up to `events` videos from `threads` clients, stopping at `deadline` (monotonic);
    videoId → time.time() when the 201 came back."""
    changes: dict[str, float] = {}
    lock = threading.Lock()
    counter = iter(range(events))

    def worker() -> None:
        http = session(stack)
        while True:
            with lock:
                n = next(counter, None)
            if n is None or time.monotonic() > deadline:
                return
            response = http.post(f"{stack.api_url}/videos", json={"title": f"fan-out {n}"}, timeout=30)
            done = time.time()
            _expect(response, 201)
            with lock:
                changes[response.json()["videoId"]] = done

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(worker) for _ in range(threads)]:
            future.result()
    return changes


def dynamodb(stack: Devstack) -> Any:
    return boto3.client("dynamodb", endpoint_url=stack.aws_endpoint, region_name=REGION,
                        aws_access_key_id="devstack", aws_secret_access_key="devstack")  # fmt: skip


def raw_get_item(stack: Devstack) -> Stats:
    """One GetItem round trip from a boto3 client to the emulator (what each app call pays at least)."""
    client = dynamodb(stack)
    samples = []
    for _ in range(RAW_SAMPLES + 5):
        started = time.perf_counter()
        client.get_item(TableName=TABLE_NAME, Key={"PK": {"S": "BENCH#none"}, "SK": {"S": "none"}})
        samples.append(time.perf_counter() - started)
    return Stats.of(samples[5:])


@dataclass
class Stages:
    to_dispatch: Stats
    to_attempt: Stats
    to_receipt: Stats
    retried: int
    records: int


def _epoch(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def stages(stack: Devstack, changes: dict[str, float], receipts: dict[tuple[str, str], Receipt]) -> Stages:
    """Splits each delivery at the dispatcher's `created_at` and the deliverer's first `attemptedAt`."""
    client = dynamodb(stack)
    to_dispatch: list[float] = []
    to_attempt: list[float] = []
    to_receipt: list[float] = []
    retried = records = 0
    scan = client.get_paginator("scan").paginate(
        TableName=TABLE_NAME,
        FilterExpression="entity = :e",
        ExpressionAttributeValues={":e": {"S": "webhookDelivery"}},
    )
    for page in scan:
        for item in page["Items"]:
            payload = json.loads(item["payload"]["S"])
            changed = changes.get(str(payload.get("videoId")))
            attempts = json.loads(item["attempts"]["S"])
            if changed is None or not attempts:
                continue
            records += 1
            retried += len(attempts) > 1
            dispatched = _epoch(item["created_at"]["S"])
            attempted = _epoch(attempts[0]["attemptedAt"])
            to_dispatch.append(dispatched - changed)
            to_attempt.append(attempted - dispatched)
            receipt = receipts.get((item["webhook_id"]["S"], item["event_id"]["S"]))
            if receipt is not None and len(attempts) == 1:
                to_receipt.append(receipt.at - attempted)
    return Stages(Stats.of(to_dispatch), Stats.of(to_attempt), Stats.of(to_receipt), retried, records)


@dataclass
class Result:
    requested: int
    events: int
    subscriptions: int
    produce_seconds: float
    first_change: float
    last_change: float
    last_receipt: float
    latencies: list[float]
    receipt_times: list[float]
    failures: int
    duplicates: int
    missing: int
    waited_out: bool
    stages: Stages | None
    cpu_busy: float  # devstack CPU seconds per wall second from first state change to the end of waiting
    emulator_busy: float  # the same for the AWS emulator (moto), the devstack's child process
    raw_idle: Stats
    raw_after: Stats
    devstack: str = ""
    log_errors: int = 0
    elapsed_seconds: float = 0.0

    @property
    def expected(self) -> int:
        return self.events * self.subscriptions

    @property
    def per_second(self) -> float:
        span = self.last_receipt - self.first_change
        return len(self.latencies) / span if span > 0 else float("nan")

    def drain(self) -> str:
        """Delivery rate once the API calls stopped competing: the pipeline on its own."""
        after = [c for c in self.receipt_times if c > self.last_change]
        span = self.last_receipt - self.last_change
        if len(after) < 2 or span <= 0:
            return "n/a (everything had arrived by the last state change)"
        return f"{len(after) / span:.1f} deliveries/s ({len(after)} receipts in the {span:.1f} s after the last one)"

    def text(self) -> str:
        latency = Stats.of(self.latencies)
        rate_met = "met" if self.per_second >= GOAL_PER_SECOND else "not met"
        p99_met = "met" if latency.p99 <= GOAL_P99_SECONDS and not self.missing else "not met"
        lines = [
            f"Videoplane webhook fan-out: devstack on 127.0.0.1, {self.events} events ({EVENT_TYPE}, POST /videos "
            f"from {CLIENT_THREADS} client threads) x {self.subscriptions} subscriptions = {self.expected} deliveries",
            "",
            *(
                [f"only {self.events} of the {self.requested} requested state changes fit in the time budget"]
                if self.events < self.requested
                else []
            ),
            f"state changes: {self.events} in {self.produce_seconds:.1f} s "
            f"({self.events / self.produce_seconds:.0f} POST /videos per s)",
            f"verified receipts: {len(self.latencies)} of {self.expected}"
            + ("  (timed out waiting for the rest)" if self.waited_out else ""),
            f"throughput: {self.per_second:.1f} deliveries/s (first state change -> last receipt: "
            f"{self.last_receipt - self.first_change:.1f} s)   goal >= {GOAL_PER_SECOND:.0f}/s ({rate_met})",
            f"pipeline alone, after the last state change: {self.drain()}",
            f"state change -> verified receipt: {latency.ms()}",
            f"   goal p99 <= {GOAL_P99_SECONDS * 1000:.0f} ms ({p99_met})",
            f"verification failures: {self.failures}   duplicates: {self.duplicates}   missing: {self.missing}",
        ]
        if self.stages is not None:
            s = self.stages
            lines += [
                "",
                f"Where the time goes ({s.records} delivery records read back from the table; "
                f"{s.retried} needed more than one attempt):",
                f"  1 state change -> dispatcher   {s.to_dispatch.ms()}",
                "    (stream poll, publish_outbox PutEvents, rule -> SQS webhook-events, dispatcher poll)",
                f"  2 dispatcher -> deliverer      {s.to_attempt.ms()}",
                "    (SQS webhook-deliveries, deliverer poll, webhook + delivery reads)",
                f"  3 deliverer -> receipt         {s.to_receipt.ms()}",
                "    (signing, SSRF check, HTTP POST to the receiver)",
            ]
        lines += [
            "",
            f"devstack process CPU while the pipeline ran: {self.cpu_busy:.2f} CPU-seconds per second "
            "(one process, one GIL: about 1.0 means saturated)",
            f"AWS emulator CPU meanwhile: {self.emulator_busy:.2f} CPU-seconds per second (its own process and GIL)",
            f"raw GetItem round trip to the emulator, idle: before {self.raw_idle.p50 * 1000:.1f} ms p50 / "
            f"{self.raw_idle.p95 * 1000:.1f} ms p95; after {self.raw_after.p50 * 1000:.1f} ms p50 / "
            f"{self.raw_after.p95 * 1000:.1f} ms p95",
        ]
        lines += [
            "",
            f"devstack: {self.devstack}; error lines in its log: {self.log_errors}; "
            f"whole benchmark took {self.elapsed_seconds:.0f} s",
        ]
        return "\n".join(lines)


def run(stack: Devstack, events: int, subscriptions: int, wait_seconds: float, budget: float) -> Result:
    http = session(stack)
    raw_idle = raw_get_item(stack)
    receivers = [Receiver().start() for _ in range(subscriptions)]
    try:
        for receiver in receivers:
            response = http.post(f"{stack.api_url}/webhooks", json={"events": [EVENT_TYPE], "url": receiver.url})
            _expect(response, 201)
            receiver.secret, receiver.webhook_id = response.json()["signatureSecret"], response.json()["webhookId"]
        log(f"{subscriptions} receivers registered; creating {events} videos")
        started, cpu_start, emulator_start = time.monotonic(), stack.cpu_seconds(), stack.emulator_cpu_seconds()
        changes = produce(stack, events, CLIENT_THREADS, started + budget * PRODUCE_SHARE)
        produce_seconds = time.monotonic() - started
        expected = len(changes) * subscriptions
        wait_seconds = min(wait_seconds, max(5.0, budget - produce_seconds))
        log(f"{len(changes)} state changes in {produce_seconds:.1f} s; waiting up to {wait_seconds:.0f} s")
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if sum(len(r.receipts) for r in receivers) >= expected:
                break
            time.sleep(0.1)
        received = sum(len(r.receipts) for r in receivers)
        busy_seconds = time.monotonic() - started
        cpu_busy = (stack.cpu_seconds() - cpu_start) / busy_seconds
        emulator_busy = (stack.emulator_cpu_seconds() - emulator_start) / busy_seconds
        log(f"{received} of {expected} verified receipts")
        time.sleep(0.5)  # late duplicates
        latencies: list[float] = []
        receipt_times: list[float] = []
        by_delivery: dict[tuple[str, str], Receipt] = {}
        last_receipt = 0.0
        per_video: Counter[str] = Counter()
        for receiver in receivers:
            with receiver.lock:
                receipts = list(receiver.receipts)
            for receipt in receipts:
                changed = changes.get(receipt.video_id)
                if changed is None:
                    continue
                per_video[receipt.video_id] += 1
                latencies.append(receipt.at - changed)
                receipt_times.append(receipt.at)
                by_delivery[(receiver.webhook_id, receipt.message_id)] = receipt
                last_receipt = max(last_receipt, receipt.at)
        log("reading the delivery records back")
        raw_after = raw_get_item(stack)
        return Result(
            requested=events,
            events=len(changes),
            subscriptions=subscriptions,
            produce_seconds=produce_seconds,
            first_change=min(changes.values()),
            last_change=max(changes.values()),
            last_receipt=last_receipt,
            latencies=latencies,
            receipt_times=receipt_times,
            failures=sum(r.failures for r in receivers),
            duplicates=sum(r.duplicates for r in receivers),
            missing=expected - sum(per_video.values()),
            waited_out=received < expected,
            stages=stages(stack, changes, by_delivery),
            cpu_busy=cpu_busy,
            emulator_busy=emulator_busy,
            raw_idle=raw_idle,
            raw_after=raw_after,
        )
    finally:
        for receiver in receivers:
            receiver.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1000, help="state changes (default 1000)")
    parser.add_argument("--subscriptions", type=int, default=5, help="webhooks, one receiver each (default 5)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_WAIT_SECONDS,
                        help="seconds to wait for deliveries after the last state change")  # fmt: skip
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_SECONDS,
                        help="seconds for producing plus waiting, so the run stays under 3 minutes")  # fmt: skip
    args = parser.parse_args(argv)
    if args.events < 1 or args.subscriptions < 1:
        parser.error("--events and --subscriptions must be at least 1")
    started = time.monotonic()
    log("starting the devstack")
    with running_devstack("videoplane-fanout-") as stack:
        result = run(stack, args.events, args.subscriptions, args.timeout, args.budget)
        result.log_errors = stack.log_errors()
    result.devstack = stack.stop_outcome
    result.elapsed_seconds = time.monotonic() - started
    print(result.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
