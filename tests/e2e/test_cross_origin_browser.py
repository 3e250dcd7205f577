"""A customer's own page, on its own origin, calls the public routes a browser needs (a room join,
its stats, a beacon) with JSON: Chromium asks first (the CORS preflight) and may read the answers,
the admission and the refusals alike. Routes that take an API key answer no other origin."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from .browser import chromium, needs_chromium
from .support import Api, Tenant
from .test_rooms import create_room, mint

pytestmark = needs_chromium

PAGE = b"<!doctype html><title>customer app</title><p>A page of another origin.</p>"
# fetch() from that page: the status and JSON body, or the error a CORS refusal raises.
CALL = """async ([url, init]) => {
  try {
    const response = await fetch(url, init);
    const text = await response.text();
    return {status: response.status, body: text ? JSON.parse(text) : null};
  } catch (error) {
    return {error: String(error)};
  }
}"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def customer_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _post_json(body: Any) -> dict[str, Any]:
    return {"method": "POST", "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def test_a_page_of_another_origin_joins_a_room_and_reads_every_answer(
    api: Api, project_a: Tenant, customer_origin: str
) -> None:
    room_id = create_room(api, project_a, mode="group")["roomId"]
    token = mint(api, project_a, room_id, userRef="ada", name="Ada", role="participant")["token"]
    with chromium() as browser:
        page = browser.new_page()
        page.goto(customer_origin + "/")
        admitted = page.evaluate(CALL, [api.url("/join"), _post_json({"token": token})])
        assert admitted.get("status") == 200, admitted
        assert admitted["body"]["participantId"] and admitted["body"]["media"]["participantToken"]
        refused = page.evaluate(CALL, [api.url("/join"), _post_json({"token": "not-a-join-token"})])
        assert refused.get("status") == 401 and refused["body"]["status"] == 401, refused
        stats = page.evaluate(CALL, [api.url("/join/stats"), _post_json({})])
        assert stats.get("status") == 400 and stats["body"]["problems"], stats
        invalid = page.evaluate(CALL, [api.url("/embed/beacons"), _post_json({})])
        assert invalid.get("status") == 400 and invalid["body"]["problems"], invalid
        # A route that takes an API key: the browser refuses the answer to a page of another origin.
        listed = page.evaluate(
            CALL, [api.url("/videos"), {"headers": {"Authorization": api.bearer(project_a.api_key)["Authorization"]}}]
        )
        assert "error" in listed and "Failed to fetch" in listed["error"], listed
