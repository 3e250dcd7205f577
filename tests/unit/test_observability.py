"""Every log line carries its own invocation's request id. Lambda runs one invocation per
process, but the devstack (and any threaded consumer) runs several at once: a request id kept in
the logger's shared state leaks into another invocation's lines."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from chalice import Response
from chalice.app import Request, SQSEvent

from chalicelib.core.api.middleware import conventions, event_conventions
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.observability import logger, pipeline_stage


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(logger.registered_formatter.format(record)))


@pytest.fixture
def lines() -> Iterator[list[dict[str, Any]]]:
    handler = _Lines()
    target = logging.getLogger(logger.name)
    target.addHandler(handler)
    yield handler.lines
    target.removeHandler(handler)


def _http_event(request_id: str) -> Request:
    return Request(
        {
            "multiValueQueryStringParameters": None,
            "headers": {},
            "pathParameters": None,
            "requestContext": {"httpMethod": "GET", "resourcePath": "/videos", "requestId": request_id},
            "body": None,
            "stageVariables": None,
        }
    )


def test_a_concurrent_consumer_line_does_not_carry_an_http_requests_id(lines: list[dict[str, Any]]) -> None:
    inside, release = threading.Event(), threading.Event()

    def slow_view(event: Request) -> Response:
        inside.set()
        release.wait(5)
        return Response(body="", status_code=204)

    http = threading.Thread(target=conventions, args=(_http_event("http-request-1"), slow_view))
    http.start()
    assert inside.wait(5)
    pipeline_stage("vi0", "probed")  # another invocation, running while the request is in flight
    release.set()
    http.join()

    stage = next(line for line in lines if line["message"] == "pipeline stage")
    assert stage.get("request_id") != "http-request-1", stage
    request = next(line for line in lines if line["message"] == "request")
    assert request["request_id"] == "http-request-1"


def test_consumer_lines_carry_their_own_invocations_id(lines: list[dict[str, Any]]) -> None:
    record = {"messageId": "m1", "body": "vi1", "receiptHandle": "r", "attributes": {}, "eventSourceARN": "arn"}
    event = SQSEvent({"Records": [record, {**record, "messageId": "m2", "body": "vi2"}]}, None)
    event.context = SimpleNamespace(aws_request_id="consumer-invocation-7")  # type: ignore[assignment]

    def consume(sqs: SQSEvent) -> dict[str, Any]:
        return batch_item_failures(sqs, lambda body: pipeline_stage(body, "ingest"), workers=2)

    event_conventions(event, consume)
    pipeline_stage("vi3", "after the invocation")
    stages = {line["videoId"]: line.get("request_id") for line in lines if line["message"] == "pipeline stage"}
    assert stages == {"vi1": "consumer-invocation-7", "vi2": "consumer-invocation-7", "vi3": None}
