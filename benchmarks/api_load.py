"""20 clients of mixed create/get/list/update against a devstack this script starts, for a
bounded time: requests/s, p50/p99 latency, errors, and whether every created video is listed
exactly once. Goals on a 2-core machine: >= 100 requests/s, p99 <= 500 ms, 0 errors, 0 lost.

    python -m benchmarks.api_load [--clients 20] [--seconds 20]

Then, with the load stopped, what one `GET /videos` of the load's tag costs through the API against
the DynamoDB calls it makes (the listing index Query and the page's BatchGetItem) sent alone, and
against the whole-partition Query that lists made before the listing index.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from benchmarks.devstack_process import Devstack, running_devstack
from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import Table, project_partition
from devstack.emulator import REGION, TABLE_NAME

TIMEOUT_SECONDS = 30


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    created: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, seconds: float, ok: bool, detail: str) -> None:
        with self.lock:
            self.latencies.setdefault(operation, []).append(seconds)
            if not ok:
                self.errors[f"{operation}: {detail}"] += 1


def client(base: str, token: str, tag: str, until: float, seed: int, results: Results) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    rng = random.Random(seed)
    mine: list[str] = []
    while time.monotonic() < until:
        choice = rng.random()
        if choice < 0.3 or not mine:
            operation, method, path, body = "create", "POST", "/videos", {"title": f"load {seed}", "tags": [tag]}
        elif choice < 0.6:
            operation, method, path, body = "get", "GET", f"/videos/{rng.choice(mine)}", None
        elif choice < 0.8:
            operation, method, path, body = "list", "GET", f"/videos?tags[]={tag}&pageSize=25", None
        else:
            operation, method, path, body = "update", "PATCH", f"/videos/{rng.choice(mine)}", {"title": "renamed"}
        started = time.perf_counter()
        try:
            response = session.request(method, base + path, json=body, timeout=TIMEOUT_SECONDS)
            ok = response.status_code < 400
            detail = str(response.status_code)
        except requests.RequestException as error:
            ok, detail, response = False, type(error).__name__, None
        results.record(operation, time.perf_counter() - started, ok, detail)
        if ok and operation == "create" and response is not None:
            mine.append(response.json()["videoId"])
    with results.lock:
        results.created.extend(mine)


def warm_up(base: str, token: str) -> None:
    """One call of each operation, untimed, on a video of its own tag: the devstack's first
    invocation of a function imports its code under a lock (a Lambda cold start), and 20 clients
    arriving at once would all wait for it."""
    headers = {"Authorization": f"Bearer {token}"}
    video = requests.post(
        f"{base}/videos", json={"title": "warm-up", "tags": ["warm-up"]}, headers=headers, timeout=TIMEOUT_SECONDS
    )
    video_id = video.json()["videoId"]
    requests.get(f"{base}/videos/{video_id}", headers=headers, timeout=TIMEOUT_SECONDS)
    requests.get(f"{base}/videos?tags[]=warm-up&pageSize=25", headers=headers, timeout=TIMEOUT_SECONDS)
    requests.patch(f"{base}/videos/{video_id}", json={"title": "warm"}, headers=headers, timeout=TIMEOUT_SECONDS)


def listed(base: str, token: str, tag: str) -> Counter[str]:
    seen: Counter[str] = Counter()
    page = 1
    while True:
        body = requests.get(
            f"{base}/videos",
            params={"tags[]": tag, "pageSize": "100", "currentPage": str(page)},
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_SECONDS,
        ).json()
        seen.update(video["videoId"] for video in body["data"])
        if page >= body["pagination"]["pagesTotal"]:
            return seen
        page += 1


LIST_SAMPLES = 20


def list_cost(stack: Devstack, token: str, tag: str) -> dict[str, float]:
    """Median milliseconds of the list (pageSize 25) through the API, of its DynamoDB calls alone,
    and of the Query of the whole video partition that lists made before the listing index."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=stack.aws_endpoint,
        region_name=REGION,
        aws_access_key_id="devstack",
        aws_secret_access_key="devstack",
        config=Config(account_id_endpoint_mode="disabled"),
    )
    table = Table(client, TABLE_NAME)
    project_id = stack.api_key.split("_")[1]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def through_api() -> None:
        session.get(f"{stack.api_url}/videos", params={"tags[]": tag, "pageSize": "25"}, timeout=TIMEOUT_SECONDS)

    def index_and_page() -> None:
        rows = list(
            table.query(
                project_partition(project_id, "VIDEOS"),
                index=resources.GSI2,
                attributes=("video_id", "created_at", "tags"),
            )
        )
        page = [row["video_id"] for row in rows if tag in row.get("tags", [])][:25]
        video = project_partition(project_id, "VIDEO")
        table.batch_get([key for v in page for key in ((video, v), (video, v + "#media"))])

    def whole_partition() -> None:
        list(table.query(project_partition(project_id, "VIDEO")))

    costs: dict[str, float] = {}
    samples: dict[str, list[float]] = {"api": [], "dynamodb": [], "before": []}
    calls = {"api": through_api, "dynamodb": index_and_page, "before": whole_partition}
    for _ in range(LIST_SAMPLES):  # interleaved: what the stack still does after the load is shared
        for name, call in calls.items():
            started = time.perf_counter()
            try:
                call()
            except ClientError:  # a stack from before the listing index
                continue
            samples[name].append(time.perf_counter() - started)
    for name, taken in samples.items():
        costs[name] = statistics.median(taken) * 1000 if taken else float("nan")
    return costs


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--cold", action="store_true", help="no warm-up call per operation before the clients start")
    args = parser.parse_args()
    with running_devstack("videoplane-load-") as stack:
        base = stack.api_url
        token = requests.post(f"{base}/auth/api-key", json={"apiKey": stack.api_key}, timeout=TIMEOUT_SECONDS).json()[
            "access_token"
        ]
        tag = f"load{random.randrange(10**9)}"
        if not args.cold:
            warm_up(base, token)
        results = Results()
        cpu_before, emulator_before = stack.cpu_seconds(), stack.emulator_cpu_seconds()
        snapshots_before = stack.emulator_cpu_seconds(snapshots=True)
        clients_before = time.process_time()
        started = time.monotonic()
        until = started + args.seconds
        threads = [
            threading.Thread(target=client, args=(base, token, tag, until, seed, results))
            for seed in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        clients_cpu = time.process_time() - clients_before
        cpu = stack.cpu_seconds() - cpu_before
        emulator_cpu = stack.emulator_cpu_seconds() - emulator_before
        snapshots_cpu = stack.emulator_cpu_seconds(snapshots=True) - snapshots_before
        seen = listed(base, token, tag)
        costs = list_cost(stack, token, tag)
        log_errors = stack.log_errors()
    everything = [seconds for values in results.latencies.values() for seconds in values]
    lost = [video for video in results.created if seen[video] == 0]
    twice = [video for video, count in seen.items() if count > 1]
    warmed = "cold start" if args.cold else "after one warm-up call of each operation"
    print(f"api_load: {args.clients} clients for {elapsed:.1f} s ({warmed}); devstack: {stack.stop_outcome}")
    print(f"  requests:   {len(everything)}  ({len(everything) / elapsed:.1f}/s; goal >= 100/s)")
    p50, p99 = percentile(everything, 0.5) * 1000, percentile(everything, 0.99) * 1000
    print(f"  latency:    p50 {p50:.0f} ms, p99 {p99:.0f} ms (goal p99 <= 500 ms)")
    for operation, values in sorted(results.latencies.items()):
        print(
            f"    {operation:<7} {len(values):>6}  p50 {statistics.median(values) * 1000:6.0f} ms"
            f"  p99 {percentile(values, 0.99) * 1000:6.0f} ms"
        )
    print(f"  errors:     {sum(results.errors.values())}  {dict(results.errors) or ''}")
    print(f"  created:    {len(results.created)}; listed once: {len(results.created) - len(lost)}; lost: {len(lost)};")
    print(f"              listed more than once: {len(twice)}")
    print(f"  devstack process CPU: {cpu:.1f} s ({cpu / elapsed * 100:.0f}% of one core); log errors: {log_errors}")
    print(
        f"  AWS emulator CPU:     {emulator_cpu:.1f} s ({emulator_cpu / elapsed * 100:.0f}% of one core;"
        f" {emulator_cpu / max(1, len(everything)) * 1000:.1f} ms a request)"
    )
    print(f"  its snapshot writers: {snapshots_cpu:.1f} s ({snapshots_cpu / elapsed * 100:.0f}% of one core)")
    print(f"  the {args.clients} clients:       {clients_cpu:.1f} s ({clients_cpu / elapsed * 100:.0f}% of one core)")
    # Everything here shares the machine's cores, so its CPU per request bounds the rate whatever
    # the concurrency: the ceiling a faster scheduler or fewer locks could reach, and no more.
    total_ms = (cpu + emulator_cpu + snapshots_cpu + clients_cpu) / max(1, len(everything)) * 1000
    emulator_ms = emulator_cpu / max(1, len(everything)) * 1000
    cores = os.cpu_count() or 1
    print(
        f"  CPU per request, all processes: {total_ms:.1f} ms, so at most {cores * 1000 / total_ms:.0f} requests/s"
        f" on this machine's {cores} cores (and {1000 / emulator_ms:.0f}/s through the emulator's one GIL)"
    )
    print(
        f"  one list of {len(seen)} videos, load stopped (median of {LIST_SAMPLES}): {costs['api']:.0f} ms through"
        f" the API; its DynamoDB calls alone {costs['dynamodb']:.0f} ms; the whole-partition Query lists made"
        f" before the listing index {costs['before']:.0f} ms"
    )


if __name__ == "__main__":
    main()
