"""HTTP latency of the video endpoints against the raw DynamoDB calls they make, and cold import time.

    .venv/bin/python -m benchmarks.api_latency [--iterations N] [--json]

It starts its own devstack (`python -m devstack up --port 0`) in a temporary directory and stops
it with SIGTERM at the end. For each endpoint it first records, at the moto server, the DynamoDB
requests one HTTP request really makes (the moto recorder), checks them against what reading the
code says, and then replays exactly those requests with boto3 in a partition of its own
(`BENCH#...` instead of `P#<projectId>`, same lengths, same item bodies) as the baseline. HTTP and
baseline samples are taken alternately so both see the same emulator state.

Besides the HTTP round trip it reports the app's own time for the same requests (the
`latency_ms` the middleware logs, matched by request id: no gateway, no HTTP transport) and the
latency of a request the gateway answers alone (the devstack's transport floor).

Nothing here asserts on timings: it prints numbers and the goals they are compared with.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import requests
from botocore import xform_name
from botocore.config import Config

from benchmarks.devstack_process import Devstack, running_devstack

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REPO_ROOT = Path(__file__).resolve().parent.parent
TABLE_NAME = "videoplane"  # devstack.emulator.TABLE_NAME (importing it would start importing moto)
REGION = "us-east-1"
GOAL = 1.5
WARMUP = 10
LIST_VIDEOS = 50
FLOOR_SAMPLES = 30
IMPORT_RUNS = 5
# The benchmark sends far more than the default 500 reads / 200 writes per minute; the limiter
# still runs its counter UpdateItem on every request, it just never answers 429.
DYNAMODB_TARGET = "DynamoDB_20120810."
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ID_BODY = 22  # chalicelib.core.ids.ID_BODY_LENGTH: the random tail of every id and audit sort key

CREATE_BODY: dict[str, Any] = {
    "title": "Benchmark video",
    "description": "A short description for the latency benchmark.",
    "tags": ["bench", "latency"],
    "metadata": [{"key": "suite", "value": "api_latency"}],
}
UPDATE_BODY: dict[str, Any] = {"title": "Benchmark video (renamed)", "tags": ["bench", "latency", "updated"]}

# What each request does to DynamoDB according to the code (chalicelib/core/api/http.py endpoint():
# the rate limiter's counter, then the view; the authorizer result is cached by the gateway).
RATE_COUNTER = "UpdateItem(ALL_NEW)"
NEW_PUT = "Put(attribute_not_exists(PK))"
EXPECTED_CALLS: dict[str, list[str]] = {
    # The video, its audit entry and its outbox event (video.created).
    "create": [RATE_COUNTER, f"TransactWriteItems[{NEW_PUT}, {NEW_PUT}, {NEW_PUT}]"],
    # The video and its media state (assets, encoding) in one Query of its partition.
    "get": [RATE_COUNTER, "Query"],
    "list": [RATE_COUNTER, "Query"],
    # UPDATE_BODY is sent again and again: after the first time nothing changes, so no event is written.
    "update": [
        RATE_COUNTER,
        "GetItem(consistent)",
        f"TransactWriteItems[Put(version = :expected), {NEW_PUT}]",
        "Query",  # the answer carries the media state too
    ],
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def percentile(samples: Sequence[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class Stats:
    p50: float
    p95: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Stats:
        return cls(p50=statistics.median(samples_ms), p95=percentile(samples_ms, 95))

    def to_json(self) -> dict[str, float]:
        return {"p50": round(self.p50, 2), "p95": round(self.p95, 2)}


# ---------------------------------------------------------------------------------------------
# The devstack under test
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# DynamoDB calls: recording them at moto, describing them, replaying them
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    operation: str
    params: dict[str, Any]

    def describe(self) -> str:
        p = self.params
        if self.operation == "UpdateItem":
            return f"UpdateItem({p.get('ReturnValues', 'NONE')})"
        if self.operation == "GetItem":
            return "GetItem(consistent)" if p.get("ConsistentRead") else "GetItem"
        if self.operation == "Query":
            return f"Query({p['IndexName']})" if "IndexName" in p else "Query"
        if self.operation == "TransactWriteItems":
            parts = []
            for entry in p["TransactItems"]:
                (kind, request), *_ = entry.items()
                parts.append(f"{kind}({_condition(request)})" if "ConditionExpression" in request else kind)
            return f"TransactWriteItems[{', '.join(parts)}]"
        return self.operation


def _condition(request: dict[str, Any]) -> str:
    condition = str(request["ConditionExpression"])
    for placeholder, name in request.get("ExpressionAttributeNames", {}).items():
        condition = condition.replace(placeholder, name)
    return condition


class MotoRecorder:
    """moto's request recorder, driven over its /moto-api/recorder/ endpoints."""

    def __init__(self, endpoint: str) -> None:
        self.base = f"{endpoint}/moto-api/recorder"
        self.http = requests.Session()

    def capture(self, action: Callable[[], requests.Response]) -> tuple[requests.Response, list[Call]]:
        self.http.post(f"{self.base}/reset-recording").raise_for_status()
        self.http.post(f"{self.base}/start-recording").raise_for_status()
        try:
            response = action()
        finally:
            self.http.post(f"{self.base}/stop-recording").raise_for_status()
        recording = self.http.get(f"{self.base}/download-recording")
        recording.raise_for_status()
        calls = []
        for line in recording.text.splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            target = str(entry["headers"].get("X-Amz-Target", ""))
            if not target.startswith(DYNAMODB_TARGET):
                continue
            body = base64.b64decode(entry["body"]) if entry.get("body_encoded") else entry.get("body") or "{}"
            calls.append(Call(target.removeprefix(DYNAMODB_TARGET), json.loads(body)))
        return response, calls


def _rewrite(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return new + value[len(old) :] if value.startswith(old) else value
    if isinstance(value, dict):
        return {k: _rewrite(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, old, new) for v in value]
    return value


_VERSION_CONDITION = re.compile(r"^\s*(#\w+)\s*=\s*(:\w+)\s*$")


class Baseline:
    """Replays recorded calls with boto3 against the same moto server and table.

    Partition keys move from `P#<projectId>` to a `BENCH#...` prefix of the same length. A Put
    conditioned on `attribute_not_exists` gets a fresh sort key (same length) each time, and a
    Put conditioned on `#v = :expected` takes the version the preceding GetItem read, as the
    service does.
    """

    def __init__(self, client: DynamoDBClient, project_id: str) -> None:
        self.client = client
        self.app_prefix = f"P#{project_id}"
        self.prefix = "BENCH#" + random_base62(len(self.app_prefix) - len("BENCH#"))

    def template(self, calls: Sequence[Call]) -> list[Call]:
        result = []
        for call in calls:
            params = _rewrite(call.params, self.app_prefix, self.prefix)
            params.pop("ClientRequestToken", None)  # botocore makes a fresh one per call
            if call.operation in ("Query", "Scan") and "ExclusiveStartKey" in params:
                continue  # a further page: run() follows LastEvaluatedKey itself
            result.append(Call(call.operation, params))
        return result

    def prepare(self, calls: Sequence[Call]) -> list[Call]:
        """Per-iteration copies with fresh keys for creating Puts (done outside the timed region)."""
        prepared = []
        for call in calls:
            if call.operation == "TransactWriteItems":
                items = [self._fresh_entry(entry) for entry in call.params["TransactItems"]]
                prepared.append(Call(call.operation, {**call.params, "TransactItems": items}))
            elif call.operation == "PutItem":
                prepared.append(Call(call.operation, self._fresh_put(call.params)))
            else:
                prepared.append(call)
        return prepared

    def run(self, calls: Sequence[Call]) -> None:
        read: dict[tuple[str, str], dict[str, Any]] = {}
        for call in calls:
            if call.operation == "GetItem":
                item = self.client.get_item(**call.params).get("Item")
                if item is not None:
                    read[_key(call.params["Key"])] = item
            elif call.operation in ("Query", "Scan"):
                self._all_pages(call)
            elif call.operation == "TransactWriteItems":
                items = [self._versioned_entry(entry, read) for entry in call.params["TransactItems"]]
                self.client.transact_write_items(**{**call.params, "TransactItems": items})
            elif call.operation == "PutItem":
                self.client.put_item(**self._versioned(call.params, read))
            else:
                getattr(self.client, xform_name(call.operation))(**call.params)

    def app_videos(self) -> list[dict[str, Any]]:
        """Every video item of the app's project (its `P#<projectId>#VIDEO` partition)."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {
            "TableName": TABLE_NAME,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": "PK"},
            "ExpressionAttributeValues": {":pk": {"S": f"{self.app_prefix}#VIDEO"}},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**params)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def mirror_videos(self) -> int:
        """Copies every video item of the app's project into the baseline partition; returns how many."""
        videos = self.app_videos()
        copies = [_rewrite(item, self.app_prefix, self.prefix) for item in videos]
        for start in range(0, len(copies), 25):
            batch: dict[str, Any] = {TABLE_NAME: [{"PutRequest": {"Item": i}} for i in copies[start : start + 25]]}
            while batch:
                batch = dict(self.client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {})
        return len(videos)

    def _all_pages(self, call: Call) -> None:
        method = getattr(self.client, xform_name(call.operation))
        params = dict(call.params)
        while True:
            page = method(**params)
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _fresh_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {"Put": self._fresh_put(entry["Put"])} if "Put" in entry else entry

    @staticmethod
    def _fresh_put(put: dict[str, Any]) -> dict[str, Any]:
        if "attribute_not_exists" not in str(put.get("ConditionExpression", "")):
            return put
        sort_key = str(put["Item"]["SK"]["S"])
        tail = min(ID_BODY, len(sort_key))
        return {**put, "Item": {**put["Item"], "SK": {"S": sort_key[: len(sort_key) - tail] + random_base62(tail)}}}

    def _versioned_entry(self, entry: dict[str, Any], read: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
        return {"Put": self._versioned(entry["Put"], read)} if "Put" in entry else entry

    @staticmethod
    def _versioned(put: dict[str, Any], read: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
        match = _VERSION_CONDITION.match(str(put.get("ConditionExpression", "")))
        current = read.get(_key(put["Item"]))
        if match is None or current is None:
            return put
        attribute = put["ExpressionAttributeNames"][match.group(1)]
        version = int(current[attribute]["N"])
        values = {**put["ExpressionAttributeValues"], match.group(2): {"N": str(version)}}
        item = {**put["Item"], attribute: {"N": str(version + 1)}}
        return {**put, "Item": item, "ExpressionAttributeValues": values}


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return str(item["PK"]["S"]), str(item["SK"]["S"])


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------


@dataclass
class EndpointResult:
    name: str
    request: str
    calls: list[str]
    http: Stats
    raw: Stats
    in_app: Stats | None

    @property
    def expected(self) -> list[str]:
        return EXPECTED_CALLS[self.name]

    @property
    def as_expected(self) -> bool:
        return self.calls == self.expected

    def ratio(self) -> Stats:
        return Stats(p50=self.http.p50 / self.raw.p50, p95=self.http.p95 / self.raw.p95)

    def in_app_ratio(self) -> Stats | None:
        if self.in_app is None:
            return None
        return Stats(p50=self.in_app.p50 / self.raw.p50, p95=self.in_app.p95 / self.raw.p95)

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.name,
            "request": self.request,
            "dynamodbCalls": self.calls,
            "expectedFromCode": self.expected,
            "callsAsExpected": self.as_expected,
            "httpMs": self.http.to_json(),
            "rawDynamodbMs": self.raw.to_json(),
            "ratio": self.ratio().to_json(),
            "goal": GOAL,
            "inAppMs": self.in_app.to_json() if self.in_app else None,
            "inAppRatio": ratio.to_json() if (ratio := self.in_app_ratio()) else None,
        }


@dataclass
class Bench:
    stack: Devstack
    iterations: int
    warmup: int
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.client: DynamoDBClient = boto3.client(
            "dynamodb",
            endpoint_url=self.stack.aws_endpoint,
            region_name=REGION,
            aws_access_key_id="devstack",
            aws_secret_access_key="devstack",
            # As chalicelib.core.config builds the app's client.
            config=Config(retries={"mode": "standard", "max_attempts": 3}, account_id_endpoint_mode="disabled"),
        )
        self.project_id = self.stack.api_key.split("_")[1]
        self.baseline = Baseline(self.client, self.project_id)
        self.recorder = MotoRecorder(self.stack.aws_endpoint)
        self.templates: dict[str, list[Call]] = {}
        self.recorded: dict[str, list[str]] = {}
        self.video_id = ""

    def url(self, path: str) -> str:
        return f"{self.stack.api_url}{path}"

    def authenticate(self) -> None:
        response = self.http.post(self.url("/auth/api-key"), json={"apiKey": self.stack.api_key})
        _expect(response, 200)
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def requests_by_endpoint(self) -> dict[str, tuple[str, Callable[[], requests.Response], int]]:
        video = f"/videos/{self.video_id}"
        return {
            "create": ("POST /videos", lambda: self.http.post(self.url("/videos"), json=CREATE_BODY), 201),
            "get": (f"GET {video}", lambda: self.http.get(self.url(video)), 200),
            "list": ("GET /videos?pageSize=25", lambda: self.http.get(self.url("/videos?pageSize=25")), 200),
            "update": (f"PATCH {video}", lambda: self.http.patch(self.url(video), json=UPDATE_BODY), 200),
        }

    def warm_up_and_record(self) -> None:
        """Warms every path up (the first request also runs the authorizer), then records each one."""
        created = self.http.post(self.url("/videos"), json=CREATE_BODY)
        _expect(created, 201)
        self.video_id = created.json()["videoId"]
        endpoints = self.requests_by_endpoint()
        for _ in range(3):
            for _request, send, status in endpoints.values():
                _expect(send(), status)
        for name, (_request, send, status) in endpoints.items():
            response, calls = self.recorder.capture(send)
            _expect(response, status)
            self.recorded[name] = [call.describe() for call in calls]
            self.templates[name] = self.baseline.template(calls)

    def floor(self) -> Stats:
        """A request the gateway answers itself (no Authorization header): no Lambda, no DynamoDB."""
        anonymous = requests.Session()
        samples = []
        for _ in range(FLOOR_SAMPLES + 3):
            started = time.perf_counter()
            response = anonymous.get(self.url("/videos"))
            samples.append((time.perf_counter() - started) * 1000)
            _expect(response, 401)
        return Stats.of(samples[3:])

    def measure(self, name: str) -> EndpointResult:
        request, send, status = self.requests_by_endpoint()[name]
        template = self.templates[name]
        http_ms: list[float] = []
        raw_ms: list[float] = []
        request_ids: list[str] = []

        def over_http() -> float:
            started = time.perf_counter()
            response = send()
            elapsed = time.perf_counter() - started
            _expect(response, status)
            request_ids.append(response.headers.get("X-Request-Id", ""))
            return elapsed * 1000

        def raw(calls: Sequence[Call]) -> float:
            started = time.perf_counter()
            self.baseline.run(calls)
            return (time.perf_counter() - started) * 1000

        for i in range(self.warmup + self.iterations):
            calls = self.baseline.prepare(template)
            if i % 2 == 0:
                http_sample, raw_sample = over_http(), raw(calls)
            else:
                raw_sample = raw(calls)
                http_sample = over_http()
            if i >= self.warmup:
                http_ms.append(http_sample)
                raw_ms.append(raw_sample)
        in_app = self.in_app_ms(request_ids[self.warmup :])
        return EndpointResult(name, request, self.recorded[name], Stats.of(http_ms), Stats.of(raw_ms), in_app)

    def in_app_ms(self, request_ids: Sequence[str]) -> Stats | None:
        """The app's own `latency_ms` log of these requests (chalicelib/core/api/middleware.py)."""
        wanted = set(request_ids)
        found = []
        for line in self.stack.log_file.read_text(errors="replace").splitlines():
            if '"latency_ms"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("request_id") in wanted:
                found.append(float(record["latency_ms"]))
        return Stats.of(found) if len(found) >= 2 else None

    def seed_list(self) -> int:
        """Fills the project up to LIST_VIDEOS videos through the API, then mirrors them for the baseline."""
        for _ in range(LIST_VIDEOS - len(self.baseline.app_videos())):
            _expect(self.http.post(self.url("/videos"), json=CREATE_BODY), 201)
        return self.baseline.mirror_videos()

    def run(self) -> tuple[list[EndpointResult], Stats, int]:
        self.authenticate()
        log("warming up and recording the DynamoDB calls of each endpoint")
        self.warm_up_and_record()
        # The baseline's get/update/list read copies of the app's videos. moto answers a Query by
        # walking the whole table, so list goes before update and create add items to it.
        videos = self.seed_list()
        log(f"{videos} videos in the project and in the baseline")
        log("measuring the gateway floor")
        floor = self.floor()
        results: dict[str, EndpointResult] = {}
        for name in ("get", "list", "update", "create"):
            started = time.monotonic()
            results[name] = self.measure(name)
            log(f"measured {name} in {time.monotonic() - started:.1f} s")
        ordered = [results[name] for name in ("create", "get", "list", "update")]
        return ordered, floor, videos


def _expect(response: requests.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered {response.status_code}, "
            f"expected {status}: {response.text[:500]}"
        )


@dataclass(frozen=True)
class ImportTimes:
    runs: int
    median_ms: dict[str, float]

    @property
    def net_ms(self) -> dict[str, float]:
        bare = self.median_ms["bare"]
        return {name: value - bare for name, value in self.median_ms.items() if name != "bare"}

    @property
    def ratio(self) -> float:
        return self.median_ms["app"] / self.median_ms["boto3"]

    @property
    def net_ratio(self) -> float:
        return self.net_ms["app"] / self.net_ms["boto3"]

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "medianMs": {k: round(v, 1) for k, v in self.median_ms.items()},
            "netOfInterpreterStartupMs": {k: round(v, 1) for k, v in self.net_ms.items()},
            "ratioAppToBoto3": round(self.ratio, 3),
            "netRatioAppToBoto3": round(self.net_ratio, 3),
            "goal": GOAL,
        }


IMPORT_COMMANDS = {"bare": "pass", "boto3": "import boto3", "app": "import app"}


def time_imports(runs: int) -> ImportTimes:
    """Fresh interpreters from the repo root, round-robin, all loading bytecode.

    The untimed first round compiles every module into a temporary PYTHONPYCACHEPREFIX, so the
    repo's own sources are not recompiled on each run when PYTHONDONTWRITEBYTECODE is set (and
    nothing is written into the repo).
    """
    samples: dict[str, list[float]] = {name: [] for name in IMPORT_COMMANDS}
    with tempfile.TemporaryDirectory(prefix="videoplane-pycache-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        for round_number in range(runs + 1):
            for name, code in IMPORT_COMMANDS.items():
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=True, stdout=subprocess.DEVNULL
                )
                if round_number > 0:
                    samples[name].append((time.perf_counter() - started) * 1000)
    return ImportTimes(runs, {name: statistics.median(values) for name, values in samples.items()})


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


@dataclass
class Report:
    iterations: int
    warmup: int
    endpoints: list[EndpointResult]
    floor: Stats
    list_videos: int
    imports: ImportTimes
    devstack: str
    elapsed_seconds: float

    def notes(self) -> list[str]:
        return [
            "HTTP: requests.Session with keep-alive to the devstack gateway (authorizer result cached "
            "60 s per token, as API Gateway does), Chalice app, boto3 to moto.",
            "raw DynamoDB: the calls recorded at moto for one request of each endpoint, replayed with "
            "boto3 against the same moto server and table in a BENCH# partition of the same key length.",
            "Rate limits raised through VIDEOPLANE_RATE_LIMIT_*: the counter UpdateItem still runs.",
            "The gateway floor is the devstack's HTTP transport alone; it is part of every HTTP sample.",
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "iterations": self.iterations,
            "warmup": self.warmup,
            "listVideos": self.list_videos,
            "endpoints": [e.to_json() for e in self.endpoints],
            "gatewayFloorMs": self.floor.to_json(),
            "imports": self.imports.to_json(),
            "devstack": self.devstack,
            "elapsedSeconds": round(self.elapsed_seconds, 1),
            "notes": self.notes(),
        }

    def text(self) -> str:
        lines = [
            f"Videoplane API latency: devstack on 127.0.0.1, {self.iterations} samples per endpoint after "
            f"{self.warmup} warm-up, HTTP and raw DynamoDB interleaved",
            "",
            "DynamoDB calls per request (recorded at the moto server; expected from reading the code):",
        ]
        for e in self.endpoints:
            verdict = "as expected" if e.as_expected else f"DIFFERS, expected {' + '.join(e.expected)}"
            lines.append(f"  {e.name:<7} {' + '.join(e.calls)}  [{verdict}]")
        header = (
            f"{'endpoint':<9}{'request':<34}{'HTTP p50':>9}{'HTTP p95':>9}{'raw p50':>9}{'raw p95':>9}"
            f"{'ratio p50':>10}{'ratio p95':>10}  goal"
        )
        lines += ["", "Latency in ms:", header, "-" * len(header)]
        for e in self.endpoints:
            ratio = e.ratio()
            met = "met" if max(ratio.p50, ratio.p95) <= GOAL else "not met"
            lines.append(
                f"{e.name:<9}{_short(e.request, 33):<34}{e.http.p50:>9.1f}{e.http.p95:>9.1f}{e.raw.p50:>9.1f}"
                f"{e.raw.p95:>9.1f}{ratio.p50:>10.2f}{ratio.p95:>10.2f}  <= {GOAL} ({met})"
            )
        lines += [
            f"list ran on a project holding {self.list_videos} videos.",
            f"Gateway floor (401 answered by the gateway: no Lambda, no DynamoDB): "
            f"p50 {self.floor.p50:.1f} ms, p95 {self.floor.p95:.1f} ms",
            "",
            "In-app time (the app's own latency_ms log line: inside the Lambda handler, without the gateway",
            "and the HTTP transport) against the same raw DynamoDB samples:",
            f"{'endpoint':<9}{'app p50':>9}{'app p95':>9}{'ratio p50':>10}{'ratio p95':>10}",
        ]
        for e in self.endpoints:
            in_app, ratio_in_app = e.in_app, e.in_app_ratio()
            if in_app is None or ratio_in_app is None:
                lines.append(f"{e.name:<9}{'(no log lines found)':>38}")
                continue
            lines.append(
                f"{e.name:<9}{in_app.p50:>9.1f}{in_app.p95:>9.1f}{ratio_in_app.p50:>10.2f}{ratio_in_app.p95:>10.2f}"
            )
        lines += [
            "",
            f"Cold import, fresh interpreter from the repo root, bytecode cached, median of {self.imports.runs} runs:",
        ]
        labels = {name: f'python -c "{code}"' for name, code in IMPORT_COMMANDS.items()}
        for name, value in self.imports.median_ms.items():
            net = "" if name == "bare" else f"   net of interpreter start-up {self.imports.net_ms[name]:7.1f} ms"
            lines.append(f"  {labels[name]:<26}{value:8.1f} ms{net}")
        met = "met" if self.imports.ratio <= GOAL else "not met"
        lines += [
            f"  ratio app/boto3: {self.imports.ratio:.2f} (net of start-up: {self.imports.net_ratio:.2f})"
            f"   goal <= {GOAL} ({met})",
            "",
            f"devstack: {self.devstack}; whole benchmark took {self.elapsed_seconds:.0f} s",
            "Notes:",
            *(f"  - {note}" for note in self.notes()),
        ]
        return "\n".join(lines)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--iterations", type=int, default=200, help="timed samples per endpoint (default 200)")
    parser.add_argument("--warmup", type=int, default=WARMUP, help=f"untimed samples first (default {WARMUP})")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    if args.iterations < 2 or args.warmup < 0:
        parser.error("--iterations must be at least 2, --warmup at least 0")
    started = time.monotonic()

    log(f"timing cold imports ({IMPORT_RUNS} runs each)")
    imports = time_imports(IMPORT_RUNS)
    log("starting the devstack")
    with running_devstack("videoplane-bench-") as stack:
        bench = Bench(stack, args.iterations, args.warmup)
        endpoints, floor, videos = bench.run()
    report = Report(
        iterations=args.iterations,
        warmup=args.warmup,
        endpoints=endpoints,
        floor=floor,
        list_videos=videos,
        imports=imports,
        devstack=stack.stop_outcome,
        elapsed_seconds=time.monotonic() - started,
    )
    print(json.dumps(report.to_json(), indent=2) if args.json else report.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
