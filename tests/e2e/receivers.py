"""Real webhook receivers on 127.0.0.1 for the e2e tests, and how a receiver verifies a delivery."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook as StandardWebhook

WAIT_SECONDS = 10.0


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers from a script of (status, headers), then 200; records every request."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    Received(time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                self.send_response(status)
                for name, value in {**headers, "Content-Length": "0"}.items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, seconds: float = WAIT_SECONDS) -> list[Received]:
        deadline = time.monotonic() + seconds
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.requests) >= count, f"got {len(self.requests)} of {count} deliveries"
        return self.requests

    def with_id(self, message_id: str) -> list[Received]:
        return [r for r in list(self.requests) if r.headers.get("webhook-id") == message_id]

    def wait_for_id(self, message_id: str, seconds: float = WAIT_SECONDS) -> Received:
        deadline = time.monotonic() + seconds
        while not self.with_id(message_id) and time.monotonic() < deadline:
            time.sleep(0.02)
        found = self.with_id(message_id)
        assert found, f"no delivery with webhook-id {message_id} within {seconds} s"
        return found[0]

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def verify_both_ways(secret: str, webhook_id: str, delivery: Received) -> dict[str, Any]:
    """What a receiver does: Standard Webhooks' library, and api.video's hex HMAC of the raw body."""
    payload: dict[str, Any] = StandardWebhook(secret).verify(delivery.body, delivery.headers)
    assert delivery.headers["x-api-video-webhookid"] == webhook_id
    expected = hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivery.headers["x-api-video-signature"], expected)
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["user-agent"] == "Videoplane-Webhooks/1"
    return payload
