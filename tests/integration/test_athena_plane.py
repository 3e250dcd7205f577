"""The devstack's Athena plane through the app's own adapter and a real boto3 client on loopback:
results page by page with Athena's header row, failed queries as QueryFailed, unknown executions
and operations as Athena's errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.analytics.adapters import athena as athena_adapter
from chalicelib.analytics.adapters.athena import AthenaQueries
from chalicelib.analytics.domain import queries
from chalicelib.analytics.domain.errors import QueryFailed
from chalicelib.analytics.domain.queries import Dimension, Measure, Scope
from chalicelib.core import resources
from devstack.athenaplane import AthenaPlane, run_query
from devstack.sessions import sessions, write_files

PROJECT = "pr" + "A" * 22
MEDIA = tuple(f"vi{index:022d}" for index in range(30))
START_MS = 1_796_000_000_000


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    records, _ = sessions(PROJECT, MEDIA, 90, START_MS)
    files = write_files(records, tmp_path_factory.mktemp("events"), per_file=100)
    plane = AthenaPlane(lambda sql: run_query(files, sql))
    url = plane.start()
    try:
        yield boto3.client(
            "athena", endpoint_url=url, region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit"
        )
    finally:
        plane.stop()


def adapter(client: Any) -> AthenaQueries:
    return AthenaQueries(client, resources.ANALYTICS_DATABASE, resources.ANALYTICS_WORKGROUP)


def test_results_come_page_by_page_with_the_header_row_first(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(athena_adapter, "PAGE_SIZE", 7)  # 30 media over 5 pages, the first with the header
    sql = queries.breakdown_sql(Measure.IMPRESSIONS, Dimension.MEDIA_ID, Scope(PROJECT, START_MS, START_MS + 3600_000))
    rows = adapter(client).rows(sql)
    assert {row["dimension"] for row in rows} == set(MEDIA)
    assert sum(int(row["value"] or 0) for row in rows) == 90


def test_a_query_duckdb_refuses_is_query_failed_with_its_reason(client: Any) -> None:
    with pytest.raises(QueryFailed) as raised:
        adapter(client).rows("SELECT no_such_column FROM events")
    assert "no_such_column" in str(raised.value.detail)


def test_results_of_a_failed_or_unknown_query_are_athenas_invalid_request(client: Any) -> None:
    failed = client.start_query_execution(QueryString="SELECT nope FROM events")["QueryExecutionId"]
    assert client.get_query_execution(QueryExecutionId=failed)["QueryExecution"]["Status"]["State"] == "FAILED"
    for execution in (failed, "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(ClientError) as raised:
            client.get_query_results(QueryExecutionId=execution)
        assert raised.value.response["Error"]["Code"] == "InvalidRequestException"


def test_an_operation_the_plane_lacks_is_refused(client: Any) -> None:
    with pytest.raises(ClientError) as raised:
        client.list_work_groups()
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"


def test_no_files_is_an_empty_table(tmp_path: Path) -> None:
    plane = AthenaPlane(lambda sql: run_query([], sql))
    url = plane.start()
    try:
        empty = boto3.client(
            "athena", endpoint_url=url, region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit"
        )
        rows = adapter(empty).rows(queries.measure_sql(Measure.PLAYS, Scope(PROJECT, START_MS, START_MS + 1000)))
    finally:
        plane.stop()
    assert rows == [{"value": None}]


def test_the_bucket_is_mirrored_as_partitioned_parquet_with_its_rollup(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files land, change and go in the emulated S3; the plane's raw and rolled answers follow them,
    and the bucket is listed at most every SYNC_SECONDS."""
    from devstack import athenaplane
    from devstack.emulator import bucket_name

    s3, bucket = boto3.client("s3"), bucket_name(resources.ANALYTICS_BUCKET)
    records, expected = sessions(PROJECT, MEDIA, 90, START_MS)
    first, second = write_files(records, tmp_path / "upload", per_file=400)[:2]
    key = resources.ANALYTICS_EVENTS_PREFIX + "project=!{partitionKeyFromQuery:project}/dt=!{partitionKeyFromQuery:dt}/"
    (tmp_path / "cache").mkdir()
    files = athenaplane.EventFiles(s3, bucket, tmp_path / "cache")
    scope = Scope(PROJECT, START_MS, START_MS + 3 * 3600_000)
    hours = queries.rolled_hours(Measure.IMPRESSIONS, scope, START_MS + 10 * 3600_000)
    assert hours is not None

    def counts() -> tuple[Any, Any]:
        raw = files.run(queries.measure_sql(Measure.IMPRESSIONS, scope))[1][0][0]
        return raw, files.run(queries.rolled_sql(Measure.IMPRESSIONS, scope, hours))[1][0][0]

    assert counts() == (None, None)
    s3.upload_file(str(first), bucket, key + "one.gz")
    monkeypatch.setattr(athenaplane, "SYNC_SECONDS", 3600.0)
    assert counts() == (None, None)  # listed a moment ago
    monkeypatch.setattr(athenaplane, "SYNC_SECONDS", 0.0)
    in_first = counts()
    assert in_first[0] == in_first[1] and 0 < in_first[0] < expected.impressions
    s3.upload_file(str(second), bucket, key + "two.gz")
    both = counts()
    assert both[0] == both[1] > in_first[0]
    s3.upload_file(str(second), bucket, key + "one.gz")  # replaced: a new ETag
    assert counts() == (2 * (both[0] - in_first[0]),) * 2
    s3.delete_object(Bucket=bucket, Key=key + "one.gz")
    s3.delete_object(Bucket=bucket, Key=key + "two.gz")
    assert counts() == (None, None)
    assert not list((tmp_path / "cache").rglob("*.parquet"))
