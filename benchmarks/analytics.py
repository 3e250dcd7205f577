"""Analytics on the devstack: beacon ingest, play → /data freshness, and /data query time against
the same SQL run directly in DuckDB on the same files.

    .venv/bin/python -m benchmarks.analytics [--sizes 100000,1000000] [--beacons 300] [--iterations 5] [--json]

It starts its own devstack (`python -m devstack up --port 0`, rate limits lifted) in a temporary
directory and stops it at the end.

- Ingest: `--beacons` beacons of 10 events each to `POST /embed/beacons`, one at a time and then
  from 8 threads: beacons/s, events/s, p50/p99 acknowledgment.
- Freshness: a play beacon for a new video, then `GET /data/metrics/play/total` until it counts
  it (goal <= 10 s), before and after the large loads.
- Queries: synthetic sessions (devstack/sessions.py) of one project, written as Firehose writes
  them (newline-delimited JSON, GZIP, 50 000 records a file) into the emulated S3's analytics
  bucket, growing to each of `--sizes` events. For each /data question, the API's time (HTTP,
  the app, the Athena plane's S3 sync and DuckDB) against `run_query` (the plane's own DuckDB
  call) on local copies of the same files, with the SQL the app builds: the ratio (goal <= 1.2)
  and the API's p95 (issue 13's goal, <= 300 ms, through the hourly rollup).

Nothing here asserts on timings: it prints numbers and the goals they are compared with.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests

from benchmarks.devstack_process import Devstack, running_devstack
from chalicelib.analytics.domain import queries
from chalicelib.analytics.domain.queries import Dimension, Filters, Interval, Measure, Scope
from chalicelib.analytics.domain.sessions import LISTED_EVENTS
from chalicelib.core import resources
from devstack.athenaplane import run_query
from devstack.sessions import sessions, write_files

BUCKET = f"{resources.APP_NAME}-{resources.ANALYTICS_BUCKET.name}"  # devstack.emulator.bucket_name
EVENTS_PER_BEACON = 10
THREADS = 8
FRESHNESS_GOAL_SECONDS = 10.0
RATIO_GOAL = 1.2
P95_GOAL_MS = 300.0
FRESHNESS_TIMEOUT_SECONDS = 60.0
PER_FILE = 50_000
MEDIA = tuple(f"vi{uuid.uuid4().hex[:22]}" for _ in range(20))
# A session of the synthetic ones (devstack/sessions.py names them by rank).
SESSION = "synthetic-00000042"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(samples),
        "p95": percentile(samples, 0.95),
        "p99": percentile(samples, 0.99),
        "max": max(samples),
    }


def dev_project(stack: Devstack) -> str:
    found = re.search(r"Dev project:\s+(\S+)", stack.log_file.read_text(errors="replace"))
    if found is None:
        raise RuntimeError("the devstack's banner names no dev project")
    return found.group(1)


def beacon(video_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"session": uuid.uuid4().hex, "media": video_id, "sentAt": int(time.time() * 1000), "events": events}


def heartbeats() -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    return [
        {"type": "heartbeat", "at": now - 1000 * (EVENTS_PER_BEACON - i), "playhead": i, "watched": 1.0}
        for i in range(EVENTS_PER_BEACON)
    ]


def ingest(stack: Devstack, video_id: str, count: int, threads: int) -> dict[str, Any]:
    url = f"{stack.api_url}/embed/beacons"
    session = requests.Session()

    def send(_: int) -> float:
        started = time.perf_counter()
        answer = session.post(url, json=beacon(video_id, heartbeats()), timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 202:
            raise RuntimeError(f"beacon refused: {answer.status_code} {answer.text}")
        return elapsed

    started = time.perf_counter()
    if threads == 1:
        latencies = [send(i) for i in range(count)]
    else:
        with ThreadPoolExecutor(threads) as pool:
            latencies = list(pool.map(send, range(count)))
    wall = time.perf_counter() - started
    return {
        "threads": threads,
        "beacons": count,
        "beacons_per_s": count / wall,
        "events_per_s": count * EVENTS_PER_BEACON / wall,
        "ack_ms": figures(latencies),
    }


def create_video(stack: Devstack) -> str:
    answer = requests.post(
        f"{stack.api_url}/videos", json={"title": "analytics bench"}, auth=(stack.api_key, ""), timeout=30
    )
    answer.raise_for_status()
    return str(answer.json()["videoId"])


def freshness(stack: Devstack) -> float:
    """Seconds from a play beacon's acknowledgment to /data counting it."""
    video_id = create_video(stack)
    now = int(time.time() * 1000)
    answer = requests.post(
        f"{stack.api_url}/embed/beacons",
        json=beacon(video_id, [{"type": "impression", "at": now - 500}, {"type": "play", "at": now}]),
        timeout=30,
    )
    answer.raise_for_status()
    acknowledged = time.perf_counter()
    while True:
        total = requests.get(
            f"{stack.api_url}/data/metrics/play/total",
            params={"filterBy[mediaId]": video_id},
            auth=(stack.api_key, ""),
            timeout=60,
        ).json()
        if total.get("data") == 1:
            return time.perf_counter() - acknowledged
        if time.perf_counter() - acknowledged > FRESHNESS_TIMEOUT_SECONDS:
            return float("inf")
        time.sleep(0.1)


class Questions:
    """The /data questions measured, each as (HTTP path and query, the SQL the app builds for it)."""

    def __init__(self, project_id: str, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.scope = Scope(project_id, int(start.timestamp() * 1000), int(end.timestamp() * 1000))
        self.one_media = Scope(project_id, self.scope.start_ms, self.scope.end_ms, Filters(media_ids=(MEDIA[0],)))

    def all(self) -> dict[str, tuple[str, dict[str, str], str]]:
        frame = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        return {
            "play count": ("/data/metrics/play/count", frame, queries.measure_sql(Measure.PLAYS, self.scope)),
            "watch-time sum": (
                "/data/metrics/watch-time/sum",
                frame,
                queries.measure_sql(Measure.WATCH_TIME_SUM, self.scope),
            ),
            "view count": ("/data/metrics/view/count", frame, queries.measure_sql(Measure.VIEWS, self.scope)),
            "play by country": (
                "/data/buckets/play/country",
                frame,
                queries.breakdown_sql(Measure.PLAYS, Dimension.COUNTRY, self.scope),
            ),
            "play by media, one media": (
                "/data/buckets/play/media-id",
                {**frame, "filterBy[mediaId]": MEDIA[0]},
                queries.breakdown_sql(Measure.PLAYS, Dimension.MEDIA_ID, self.one_media),
            ),
            "play timeseries (day)": (
                "/data/timeseries/play",
                {**frame, "interval": "day"},
                queries.timeseries_sql(Measure.PLAYS, Interval.DAY, self.scope),
            ),
            # The session views: one session's events read every retained day of the project.
            "one session's events": (
                f"/analytics/sessions/{SESSION}/events",
                {},
                queries.session_events_sql(self.scope.project_id, SESSION, list(LISTED_EVENTS), 0, 25),
            ),
        }


def timed(call: Callable[[], Any], iterations: int) -> list[float]:
    call()  # warm-up: the plane's S3 sync of new files, the app's imports
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def load(stack: Devstack, project_id: str, start_ms: int, size: int, already: int, local: Path) -> list[Path]:
    """Synthetic sessions until the project holds `size` events; uploaded and kept locally."""
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    wanted = size - already
    # About 7.2 events a session with these parameters (devstack/sessions.py).
    records, _ = sessions(project_id, MEDIA, int(wanted / 7.2) + 1, start_ms + already * 150)
    records = records[:wanted]
    batch = local / f"batch-{already}"
    paths = write_files(records, batch, per_file=PER_FILE)
    for path in paths:
        day = records[0].dt
        key = f"{resources.ANALYTICS_EVENTS_PREFIX}project={project_id}/dt={day}/bench-{already}-{path.name}"
        s3.upload_file(str(path), BUCKET, key)
    return paths


def measure_queries(
    stack: Devstack, questions: Questions, files: list[Path], iterations: int
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    http = requests.Session()
    for name, (path, params, sql) in questions.all().items():

        def through_api(path: str = path, params: dict[str, str] = params) -> Any:
            answer = http.get(f"{stack.api_url}{path}", params=params, auth=(stack.api_key, ""), timeout=120)
            answer.raise_for_status()
            return answer.json()

        api = timed(through_api, iterations)

        def in_duckdb(sql: str = sql) -> Any:
            return run_query(files, sql)

        direct = timed(in_duckdb, iterations)
        results[name] = {
            "api_ms": figures(api),
            "duckdb_ms": figures(direct),
            "ratio_p50": statistics.median(api) / statistics.median(direct),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="event counts, ascending, comma-separated")
    parser.add_argument("--beacons", type=int, default=300)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",")]

    report: dict[str, Any] = {"sizes": {}}
    with running_devstack("analytics-bench-") as stack, tempfile.TemporaryDirectory() as scratch:
        project_id = dev_project(stack)
        video_id = create_video(stack)
        ingest(stack, video_id, 10, 1)  # warm-up
        report["ingest"] = [ingest(stack, video_id, arguments.beacons, 1),
                            ingest(stack, video_id, arguments.beacons, THREADS)]  # fmt: skip
        report["freshness_s_empty"] = [freshness(stack) for _ in range(3)]
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        start = end - timedelta(days=2)
        questions = Questions(project_id, start, end)
        files: list[Path] = []
        held = 0
        for size in sizes:
            files += load(stack, project_id, questions.scope.start_ms or 0, size, held, Path(scratch))
            held = size
            report["sizes"][size] = measure_queries(stack, questions, files, arguments.iterations)
        report["freshness_s_loaded"] = [freshness(stack) for _ in range(3)]

    if arguments.json:
        print(json.dumps(report))
        return
    print("Beacon ingest on the devstack (10 events a beacon):")
    for run in report["ingest"]:
        ack = run["ack_ms"]
        rate = f"{run['beacons_per_s']:7.1f} beacons/s ({run['events_per_s']:7.0f} events/s)"
        print(f"  {run['threads']} thread(s): {rate}  ack p50 {ack['p50']:6.1f} ms  p99 {ack['p99']:6.1f} ms")
    for label in ("empty", "loaded"):
        samples = report[f"freshness_s_{label}"]
        print(f"Play -> /data/metrics/play/total ({label} store): {', '.join(f'{s:.2f}' for s in samples)} s"
              f"  (goal <= {FRESHNESS_GOAL_SECONDS:.0f} s)")  # fmt: skip
    for size, results in report["sizes"].items():
        print(f"/data over {size:,} events (API p50/p95 vs DuckDB p50 on the same files; goal ratio <= {RATIO_GOAL}):")
        for name, result in results.items():
            api, direct = result["api_ms"], result["duckdb_ms"]
            print(f"  {name:26} API {api['p50']:7.1f} / {api['p95']:7.1f} ms   DuckDB {direct['p50']:7.1f} ms"
                  f"   ratio {result['ratio_p50']:5.2f}")  # fmt: skip
    print(f"Goal: p95 <= {P95_GOAL_MS:.0f} ms (the questions the hourly rollup answers read it).")


if __name__ == "__main__":
    main()
