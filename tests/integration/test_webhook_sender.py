"""The pinned HTTP sender against a loopback server (sockets are allowed in integration tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib.core.domain.urlguard import Target
from chalicelib.platform.adapters.webhooks import MAX_RESPONSE_BYTES, PinnedHttpSender


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({k.lower(): v for k, v in self.headers.items()})
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/")
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * (MAX_RESPONSE_BYTES * 4))

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield str(httpd.server_address[1]), seen
    httpd.shutdown()
    httpd.server_close()


def test_sender_pins_the_address_keeps_the_host_and_follows_no_redirect(
    server: tuple[str, list[dict[str, str]]],
) -> None:
    port, seen = server
    sender = PinnedHttpSender(timeout=5)
    target = Target(scheme="http", host="hooks.example", port=int(port), path="/ok", address="127.0.0.1")
    assert sender.post(target, b"{}", {"webhook-id": "ev1"}).status_code == 200
    assert seen[0]["host"] == f"hooks.example:{port}" and seen[0]["webhook-id"] == "ev1"
    moved = sender.post(Target("http", "hooks.example", int(port), "/redirect", "127.0.0.1"), b"{}", {})
    assert moved.status_code == 302 and not moved.ok and len(seen) == 2


def test_sender_reports_connection_failures() -> None:
    refused = PinnedHttpSender(timeout=2).post(Target("http", "hooks.example", 9, "/", "127.0.0.1"), b"{}", {})
    assert refused.status_code is None and refused.error and refused.error.startswith("connection failed")
