"""The emulator keeps HTTP connections open between AWS calls, and a request body its backend
never read cannot bleed into the next request on the same connection."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from devstack.emulator import Emulator, start_emulator

pytestmark = pytest.mark.integration


def signed_for(service: str) -> dict[str, str]:
    # moto routes by the credential scope's service and does not check the signature.
    scope = f"devstack/20260101/us-east-1/{service}/aws4_request"
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    started = start_emulator()
    yield started
    started.stop()


def connect(emulator: Emulator) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)


def list_queues(connection: http.client.HTTPConnection) -> http.client.HTTPResponse:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_for("sqs")}
    connection.request("POST", "/", body="Action=ListQueues&Version=2012-11-05", headers=headers)
    return connection.getresponse()


def test_one_connection_serves_call_after_call(emulator: Emulator) -> None:
    connection = connect(emulator)
    for _ in range(3):
        answer = list_queues(connection)
        assert answer.status == 200
        assert answer.getheader("Connection") is None
        assert b"ListQueuesResponse" in answer.read()
    local_port = connection.sock.getsockname()[1]
    assert list_queues(connection).read() and connection.sock.getsockname()[1] == local_port


def test_a_body_the_backend_never_read_is_skipped_before_the_next_request(emulator: Emulator) -> None:
    connection = connect(emulator)
    # moto's own state dump never reads a body; its bytes must not be parsed as the next request.
    body = b"GET /not-a-request HTTP/1.1\r\n\r\n" + b"x" * 100_000
    connection.request("GET", "/moto-api/data.json", body=body)
    answer = connection.getresponse()
    assert answer.status == 200 and answer.read()
    follow_up = list_queues(connection)
    assert follow_up.status == 200 and b"ListQueuesResponse" in follow_up.read()


def test_a_chunked_request_closes_its_connection(emulator: Emulator) -> None:
    connection = connect(emulator)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_for("sqs")}
    connection.request("POST", "/", body=iter([b"Action=ListQueues", b"&Version=2012-11-05"]), headers=headers)
    answer = connection.getresponse()
    assert answer.status == 200 and b"ListQueuesResponse" in answer.read()
    assert answer.getheader("Connection") == "close"
