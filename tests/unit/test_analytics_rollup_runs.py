"""The hourly rollup on AWS: the hour a run rolls up, a rerun replacing (never adding to) an earlier
run of the same hour, the Athena calls (Stubber and the strict model walk) and the run records in
S3 (moto)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from chalicelib.analytics.adapters.rollup import RUNS_PREFIX, S3RollupRuns
from chalicelib.analytics.domain import queries
from chalicelib.analytics.domain.errors import EventStoreUnavailable
from chalicelib.analytics.domain.rollup import RollupRun
from chalicelib.analytics.services.rollup import RollupService
from chalicelib.core import resources
from chalicelib.core.adapters.storage import S3Bucket
from tests.unit.test_analytics_adapters import EXECUTION, checked, client
from tests.unit.test_analytics_adapters import queries as athena_queries

HOUR = 1_796_000_400_000 - 1_796_000_400_000 % queries.HOUR_MS
NOW = datetime.fromtimestamp((HOUR + queries.HOUR_MS + 5 * queries.MINUTE_MS) / 1000, tz=UTC)
BUCKET = "videoplane-analytics"
MANIFEST = f"s3://{BUCKET}/{resources.ANALYTICS_QUERY_RESULTS_PREFIX}{EXECUTION}-manifest.csv"


def test_the_schedule_rolls_up_the_hour_that_ended() -> None:
    assert queries.rollup_hour(HOUR + queries.HOUR_MS + 1) == HOUR
    assert queries.rollup_hour(HOUR + 2 * queries.HOUR_MS - 1) == HOUR


# -- the service over in-memory ports ------------------------------------------------------------


class Runner:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.manifests: dict[str, str] = {}
        self.fail = False

    def run(self, sql: str, started: Callable[[str], None] = lambda _: None) -> str | None:
        execution = f"run-{len(self.statements) + 1}"
        self.statements.append(sql)
        started(execution)
        if self.fail:
            raise EventStoreUnavailable()
        self.manifests[execution] = f"manifest-{execution}"
        return self.manifests[execution]

    def manifest_of(self, execution_id: str) -> str | None:
        return self.manifests.get(execution_id)


class Runs:
    def __init__(self) -> None:
        self.records: dict[int, RollupRun] = {}
        self.files: set[str] = set()
        self.removed: list[str] = []

    def last(self, hour_ms: int) -> RollupRun | None:
        return self.records.get(hour_ms)

    def record(self, hour_ms: int, run: RollupRun) -> None:
        self.records[hour_ms] = run

    def written(self, manifest_uri: str) -> list[str]:
        written = [f"rollup/project=p/dt=d/{manifest_uri}-{n}" for n in range(2)]
        self.files.update(written)
        return written

    def remove(self, keys: Sequence[str]) -> None:
        self.removed.extend(keys)
        self.files.difference_update(keys)


def test_a_rerun_of_an_hour_replaces_the_earlier_runs_files() -> None:
    runner, runs = Runner(), Runs()
    service = RollupService(runner, runs, lambda: NOW)
    first = service.roll()
    assert runner.statements == [queries.rollup_insert_sql(HOUR)]
    assert first.execution_id == "run-1"
    assert first.files == ("rollup/project=p/dt=d/manifest-run-1-0", "rollup/project=p/dt=d/manifest-run-1-1")
    second = service.roll()
    assert set(runs.removed) == set(first.files)
    assert runs.files == set(second.files)  # only the last run's rows remain: counted once


def test_a_run_that_died_is_cleaned_up_from_its_manifest_by_the_next() -> None:
    runner, runs = Runner(), Runs()
    service = RollupService(runner, runs, lambda: NOW)
    runner.fail = True
    with pytest.raises(EventStoreUnavailable):
        service.roll(HOUR)
    assert runs.records[HOUR] == RollupRun("run-1")  # recorded as it started
    # It wrote files before dying (Athena's manifest lists them) : the rerun removes them.
    runner.manifests["run-1"] = "manifest-run-1"
    leftovers = runs.written("manifest-run-1")
    runner.fail = False
    service.roll(HOUR)
    assert set(leftovers) <= set(runs.removed)
    assert runs.files == set(runs.records[HOUR].files)


# -- Athena: Stubber and the strict model walk -----------------------------------------------------


def test_the_insert_runs_in_the_workgroup_and_answers_its_data_manifest() -> None:
    athena = client("athena")
    sql = queries.rollup_insert_sql(HOUR)
    started: list[str] = []
    with Stubber(athena) as stubber:
        checked(stubber, "athena", "StartQueryExecution", {"QueryExecutionId": EXECUTION}, {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": resources.ANALYTICS_DATABASE},
            "WorkGroup": resources.ANALYTICS_WORKGROUP,
        })  # fmt: skip
        done = {"QueryExecutionId": EXECUTION, "Status": {"State": "SUCCEEDED"},
                "Statistics": {"DataManifestLocation": MANIFEST}}  # fmt: skip
        checked(stubber, "athena", "GetQueryExecution", {"QueryExecution": done}, {"QueryExecutionId": EXECUTION})
        checked(stubber, "athena", "GetQueryExecution", {"QueryExecution": done}, {"QueryExecutionId": EXECUTION})
        executor = athena_queries(athena)
        assert executor.run(sql, started=started.append) == MANIFEST
        assert executor.manifest_of(EXECUTION) == MANIFEST
        stubber.assert_no_pending_responses()
    assert started == [EXECUTION]


def test_an_unknown_earlier_execution_has_no_manifest() -> None:
    athena = client("athena")
    with Stubber(athena) as stubber:
        stubber.add_client_error("get_query_execution", service_error_code="InvalidRequestException")
        assert athena_queries(athena).manifest_of(EXECUTION) is None


# -- the run records in S3 (moto) ------------------------------------------------------------------


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Bucket]:
    credentials = {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": "us-east-1"}
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        yield S3Bucket(s3, BUCKET)


def test_runs_are_recorded_next_to_the_rollup_and_only_rollup_files_are_removed(bucket: S3Bucket) -> None:
    runs = S3RollupRuns(bucket)
    assert runs.last(HOUR) is None
    written = [f"rollup/project=p/dt=2026-12-06/{EXECUTION}_0", f"rollup/project=q/dt=2026-12-06/{EXECUTION}_1"]
    for key in written:
        bucket.put(key, b"PAR1", "application/octet-stream")
    bucket.put("events/project=p/dt=2026-12-06/raw", b"{}", "application/json")
    raw = f"s3://{BUCKET}/events/project=p/dt=2026-12-06/raw"
    manifest = "\n".join([*(f"s3://{BUCKET}/{key}" for key in written), raw])
    bucket.put(MANIFEST.removeprefix(f"s3://{BUCKET}/"), manifest.encode(), "text/csv")
    listed = runs.written(MANIFEST)
    runs.record(HOUR, RollupRun(EXECUTION, tuple(listed)))
    assert runs.last(HOUR) == RollupRun(EXECUTION, tuple(listed))
    assert bucket.head(f"{RUNS_PREFIX}{HOUR}.json") is not None
    runs.remove(listed)
    assert [bucket.head(key) for key in written] == [None, None]
    assert bucket.head("events/project=p/dt=2026-12-06/raw") is not None  # never a raw event file
    # An expired manifest (query results last a day) lists nothing.
    assert runs.written(f"s3://{BUCKET}/query-results/gone-manifest.csv") == []
