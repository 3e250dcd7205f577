"""An api.video webhook event that the VOD pipeline will emit, end to end through the outbox.

The VOD code does not exist yet, so the test writes the outbox item into the devstack's table
exactly as that code will (`outbox_put` of the domain event, in the table the stream feeds): the
stream poller, publisher, bus rule, dispatcher and deliverer are all the real ones.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from apivideo.api.webhooks_api import WebhooksApi
from apivideo.model.webhooks_creation_payload import WebhooksCreationPayload
from standardwebhooks import Webhook as StandardWebhook

from chalicelib.adapters.dynamodb import to_attributes
from chalicelib.adapters.records import outbox_put
from chalicelib.clock import utc_now
from chalicelib.domain.events import VideoEncodingQualityCompleted, envelope
from chalicelib.domain.webhooks import delivery_id

from .support import Api, Devstack, Tenant

TABLE_NAME = "videoplane"
EVENT_TYPE = "video.encoding.quality.completed"
WAIT_SECONDS = 5.0
# api.video's payload for this event, plus the two fields every Videoplane event carries.
API_VIDEO_FIELDS = {"type", "emittedAt", "videoId", "encoding", "quality"}
EXPECTED_FIELDS = API_VIDEO_FIELDS | {"eventId", "projectId"}


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
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

    def with_id(self, message_id: str) -> list[Received]:
        return [r for r in list(self.received) if r.headers.get("webhook-id") == message_id]

    def wait_for(self, message_id: str, seconds: float = WAIT_SECONDS) -> Received:
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


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    pair = (Receiver().start(), Receiver().start())
    yield pair
    for receiver in pair:
        receiver.stop()


def write_outbox_item(devstack: Devstack, event: VideoEncodingQualityCompleted) -> None:
    """What the VOD pipeline will do (in its transaction): put the event's outbox item."""
    client = boto3.client("dynamodb", endpoint_url=devstack.aws_endpoint, region_name="us-east-1",
                          aws_access_key_id="devstack", aws_secret_access_key="devstack")  # fmt: skip
    put = outbox_put(event)
    assert put.condition is not None and not put.values
    client.put_item(
        TableName=TABLE_NAME,
        Item=to_attributes(put.item),
        ConditionExpression=put.condition,
        ExpressionAttributeNames=put.names,
    )


def test_quality_completed_reaches_an_sdk_webhook_signed_with_api_video_fields(
    devstack: Devstack, sdk: Any, api: Api, project_a: Tenant, receivers: tuple[Receiver, Receiver]
) -> None:
    quality_hook, created_hook = receivers
    webhooks = WebhooksApi(sdk)
    subscribed = webhooks.create(WebhooksCreationPayload(events=[EVENT_TYPE], url=quality_hook.url))
    other = webhooks.create(WebhooksCreationPayload(events=["video.created"], url=created_hook.url))
    try:
        assert list(subscribed["events"]) == [EVENT_TYPE]
        video = api.create_video(project_a.api_key, title="quality e2e")
        event = VideoEncodingQualityCompleted(
            **envelope(project_a.project_id, utc_now()), videoId=video["videoId"], encoding="hls", quality="720p"
        )
        write_outbox_item(devstack, event)

        delivery = quality_hook.wait_for(event.event_id)
        secret = subscribed["signature_secret"]
        payload: dict[str, Any] = StandardWebhook(secret).verify(delivery.body, delivery.headers)
        expected_hex = hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(delivery.headers["x-api-video-signature"], expected_hex)
        assert delivery.headers["x-api-video-webhookid"] == subscribed["webhook_id"]

        assert set(payload) == EXPECTED_FIELDS, sorted(payload)
        assert payload == {
            "type": EVENT_TYPE,
            "emittedAt": event.emitted_at,
            "videoId": video["videoId"],
            "encoding": "hls",
            "quality": "720p",
            "eventId": event.event_id,
            "projectId": project_a.project_id,
        }
        assert delivery.body == outbox_put(event).item["payload"].encode(), "the outbox bytes, unchanged"

        # The dispatcher creates every subscription's delivery for an event in one pass, before any
        # is sent: once the subscriber has it, a video.created-only webhook would have one too.
        log = api.ok("GET", f"/webhooks/{other['webhook_id']}/deliveries", project_a.api_key, params={"pageSize": 100})
        assert all(d["deliveryId"] != delivery_id(event.event_id) for d in log["data"]), log
        assert not created_hook.with_id(event.event_id)
        assert all(b'"type":"video.created"' in r.body for r in created_hook.received)
    finally:
        webhooks.delete(subscribed["webhook_id"])
        webhooks.delete(other["webhook_id"])
