"""The devstack process sends each AWS call's head and body in one write (gateway.aws_requests_in_one_send)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.config import Config

from devstack.gateway import aws_requests_in_one_send


@pytest.fixture
def emulator() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """A stand-in AWS endpoint that records each request (method, path, body) and answers `{}`."""
    received: list[tuple[str, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((self.command, self.path, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_POST = do_GET = _answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


def test_a_call_is_one_send_and_arrives_whole(
    emulator: tuple[str, list[tuple[str, str, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = emulator
    port = int(url.rsplit(":", 1)[1])
    aws_requests_in_one_send()
    aws_requests_in_one_send()  # idempotent
    sends: list[bytes] = []
    sendall = socket.socket.sendall

    def counted(self: socket.socket, data: Any, *args: Any) -> Any:
        if self.getpeername()[1] == port:  # the client's sends, not the stand-in's answers
            sends.append(bytes(data))
        return sendall(self, data, *args)

    monkeypatch.setattr(socket.socket, "sendall", counted)
    config = Config(account_id_endpoint_mode="disabled", retries={"max_attempts": 1})
    client = boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=config,
    )
    client.get_item(TableName="videoplane", Key={"PK": {"S": "p"}, "SK": {"S": "s"}})
    client.get_item(TableName="videoplane", Key={"PK": {"S": "p2"}, "SK": {"S": "s"}})
    assert len(sends) == 2 and all(b"\r\n\r\n{" in data for data in sends)
    assert [json.loads(body)["Key"]["PK"]["S"] for _, _, body in received] == ["p", "p2"]

    # A call without a body (S3 GetObject) still goes out, head alone.
    s3 = boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x", config=config
    )
    s3.get_object(Bucket="bucket", Key="key")
    assert received[-1][:2] == ("GET", "/bucket/key") and len(sends) == 3
