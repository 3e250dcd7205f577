"""The analytics adapters' AWS requests: botocore's Stubber (types, required members) and the strict
model walk (enums, bounds, patterns) for every Athena and Firehose call; failures as domain errors."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.analytics.adapters.athena import FIRST_POLL_SECONDS, MAX_POLL_SECONDS, PAGE_SIZE, AthenaQueries
from chalicelib.analytics.adapters.firehose import MAX_BATCH_RECORDS, FirehoseEventSink
from chalicelib.analytics.domain.beacons import EventRecord
from chalicelib.analytics.domain.errors import EventStoreUnavailable, QueryFailed
from chalicelib.core import resources
from tests.unit import strict_model
from tests.unit.test_ivs_channels import strict_model_name

EXECUTION = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
SQL = "SELECT 1 AS plays FROM events WHERE project = 'pr1' AND dt BETWEEN '2026-12-01' AND '2026-12-06'"


def client(service: str) -> Any:
    # Stubber never sends; the client only needs a region and (unused) credentials.
    return boto3.client(  # type: ignore[call-overload]
        service, region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit"
    )


def checked(stubber: Stubber, service: str, operation: str, response: dict[str, Any], params: dict[str, Any]) -> None:
    """Queues a response for exactly these parameters, after the strict walk passes them."""
    assert strict_model.findings(service, operation, params) == [], params
    stubber.add_response(strict_model_name(operation), response, params)


# -- Athena ---------------------------------------------------------------------------------------


class FakeClock:
    """Sleeping moves the clock: the poll loop's timeout is reached without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def queries(athena: Any, clock: FakeClock | None = None) -> AthenaQueries:
    clock = clock or FakeClock()
    return AthenaQueries(
        athena, resources.ANALYTICS_DATABASE, resources.ANALYTICS_WORKGROUP, sleep=clock.sleep, clock=clock
    )


def start(stubber: Stubber) -> None:
    checked(
        stubber,
        "athena",
        "StartQueryExecution",
        {"QueryExecutionId": EXECUTION},
        {
            "QueryString": SQL,
            "QueryExecutionContext": {"Database": resources.ANALYTICS_DATABASE},
            "WorkGroup": resources.ANALYTICS_WORKGROUP,
        },
    )


def state(stubber: Stubber, value: str, reason: str | None = None) -> None:
    status: dict[str, Any] = {"State": value}
    if reason:
        status["StateChangeReason"] = reason
    checked(
        stubber,
        "athena",
        "GetQueryExecution",
        {"QueryExecution": {"QueryExecutionId": EXECUTION, "Status": status}},
        {"QueryExecutionId": EXECUTION},
    )


def page(names: list[str], rows: list[list[str | None]], token: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "ResultSet": {
            "Rows": [{"Data": [{} if value is None else {"VarCharValue": value} for value in row]} for row in rows],
            "ResultSetMetadata": {"ColumnInfo": [{"Name": name, "Type": "varchar"} for name in names]},
        }
    }
    if token:
        answer["NextToken"] = token
    return answer


def results(stubber: Stubber, answer: dict[str, Any], token: str | None = None) -> None:
    params: dict[str, Any] = {"QueryExecutionId": EXECUTION, "MaxResults": PAGE_SIZE}
    if token:
        params["NextToken"] = token
    checked(stubber, "athena", "GetQueryResults", answer, params)


def test_a_query_runs_in_the_workgroup_polls_until_it_succeeds_and_reads_every_page() -> None:
    athena = client("athena")
    clock = FakeClock()
    with Stubber(athena) as stubber:
        start(stubber)
        state(stubber, "QUEUED")
        state(stubber, "RUNNING")
        state(stubber, "SUCCEEDED")
        # The first page starts with the header row; later pages do not.
        results(stubber, page(["media", "plays"], [["media", "plays"], ["vi1", "3"]], token="next-1"))
        results(stubber, page(["media", "plays"], [["vi2", None]]), token="next-1")
        rows = queries(athena, clock).rows(SQL)
        stubber.assert_no_pending_responses()
    assert rows == [{"media": "vi1", "plays": "3"}, {"media": "vi2", "plays": None}]
    assert clock.sleeps == [FIRST_POLL_SECONDS, FIRST_POLL_SECONDS * 2]


def test_a_failed_query_is_query_failed_with_athenas_reason() -> None:
    athena = client("athena")
    with Stubber(athena) as stubber:
        start(stubber)
        state(stubber, "FAILED", "SYNTAX_ERROR: line 1:8")
        with pytest.raises(QueryFailed) as raised:
            queries(athena).rows(SQL)
        stubber.assert_no_pending_responses()
    assert raised.value.detail == "SYNTAX_ERROR: line 1:8"


def test_a_query_past_the_deadline_is_stopped_and_fails() -> None:
    athena = client("athena")
    clock = FakeClock()
    with Stubber(athena) as stubber:
        start(stubber)
        polls = 0
        delay = FIRST_POLL_SECONDS
        elapsed = 0.0
        while elapsed <= 25.0:  # the adapter's TIMEOUT_SECONDS, reached by the fake clock
            state(stubber, "RUNNING")
            polls += 1
            elapsed += delay
            delay = min(delay * 2, MAX_POLL_SECONDS)
        state(stubber, "RUNNING")
        checked(stubber, "athena", "StopQueryExecution", {}, {"QueryExecutionId": EXECUTION})
        with pytest.raises(QueryFailed):
            queries(athena, clock).rows(SQL)
        stubber.assert_no_pending_responses()
    assert max(clock.sleeps) == MAX_POLL_SECONDS


@pytest.mark.parametrize("code", ["InvalidRequestException", "InternalServerException", "TooManyRequestsException"])
def test_athena_client_errors_are_event_store_unavailable(code: str) -> None:
    athena = client("athena")
    with Stubber(athena) as stubber:
        stubber.add_client_error("start_query_execution", service_error_code=code, http_status_code=400)
        with pytest.raises(EventStoreUnavailable):
            queries(athena).rows(SQL)


def test_the_devstack_names_pass_athenas_model() -> None:
    assert strict_model.findings("athena", "StartQueryExecution", {
        "QueryString": SQL,
        "QueryExecutionContext": {"Database": resources.ANALYTICS_DATABASE},
        "WorkGroup": resources.ANALYTICS_WORKGROUP,
    }) == []  # fmt: skip
    bad = strict_model.findings("athena", "StartQueryExecution", {"QueryString": SQL, "WorkGroup": "!@#"})
    assert any(finding.startswith("WorkGroup") for finding in bad)


# -- Firehose -------------------------------------------------------------------------------------


def record(index: int) -> EventRecord:
    return EventRecord(
        project="pr1",
        dt="2026-12-06",
        ts=1_796_000_000_000 + index,
        received=1_796_000_000_500,
        session_id="session-1",
        media_id="vi" + "a" * 22,
        media_type="video",
        event="heartbeat",
        playhead=float(index),
        watched=1.0,
        startup_ms=None,
        seek_from=None,
        rendition=None,
        error=None,
        player_id=None,
        referrer="https://example.com/page",
        device_type="desktop",
        operating_system="Linux",
        browser="Chrome",
        country="FR",
        continent="EU",
        source="videoplane",
    )


def data(records: list[EventRecord]) -> list[dict[str, bytes]]:
    return [{"Data": (json.dumps(r.as_json(), separators=(",", ":")) + "\n").encode()} for r in records]


def batch(stubber: Stubber, records: list[EventRecord], failed: set[int] | None = None) -> None:
    failed = failed or set()
    answers = [
        {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"}
        if index in failed
        else {"RecordId": f"r{index}"}
        for index in range(len(records))
    ]
    checked(
        stubber,
        "firehose",
        "PutRecordBatch",
        {"FailedPutCount": len(failed), "RequestResponses": answers},
        {"DeliveryStreamName": resources.ANALYTICS_STREAM.name, "Records": data(records)},
    )


def test_records_go_one_json_line_each_in_batches_of_at_most_500() -> None:
    firehose = client("firehose")
    records = [record(i) for i in range(MAX_BATCH_RECORDS + 3)]
    with Stubber(firehose) as stubber:
        batch(stubber, records[:MAX_BATCH_RECORDS])
        batch(stubber, records[MAX_BATCH_RECORDS:])
        FirehoseEventSink(firehose, resources.ANALYTICS_STREAM.name).put(records)
        stubber.assert_no_pending_responses()
    line = data(records[:1])[0]["Data"]
    assert line.endswith(b"\n") and json.loads(line)["project"] == "pr1"


def test_records_firehose_refused_are_sent_once_more_alone() -> None:
    firehose = client("firehose")
    records = [record(i) for i in range(3)]
    with Stubber(firehose) as stubber:
        batch(stubber, records, failed={1})
        batch(stubber, [records[1]])
        FirehoseEventSink(firehose, resources.ANALYTICS_STREAM.name).put(records)
        stubber.assert_no_pending_responses()


def test_records_refused_twice_fail_the_beacon() -> None:
    firehose = client("firehose")
    records = [record(i) for i in range(2)]
    with Stubber(firehose) as stubber:
        batch(stubber, records, failed={0})
        batch(stubber, [records[0]], failed={0})
        with pytest.raises(EventStoreUnavailable):
            FirehoseEventSink(firehose, resources.ANALYTICS_STREAM.name).put(records)
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "ServiceUnavailableException"])
def test_firehose_client_errors_are_event_store_unavailable(code: str) -> None:
    firehose = client("firehose")
    with Stubber(firehose) as stubber:
        stubber.add_client_error("put_record_batch", service_error_code=code, http_status_code=400)
        with pytest.raises(EventStoreUnavailable):
            FirehoseEventSink(firehose, resources.ANALYTICS_STREAM.name).put([record(0)])


def test_the_stream_definition_passes_firehoses_model() -> None:
    """What the devstack creates and infra translates (resources.ANALYTICS_STREAM.extended_s3)."""
    stream = resources.ANALYTICS_STREAM
    request = {
        "DeliveryStreamName": stream.name,
        "DeliveryStreamType": "DirectPut",
        "ExtendedS3DestinationConfiguration": stream.extended_s3(
            "arn:aws:s3:::videoplane-analytics", "arn:aws:iam::123456789012:role/videoplane-beacons"
        ),
    }
    assert strict_model.findings("firehose", "CreateDeliveryStream", request) == []
