"""The health push channel in-process on moto: the subscription route (tenant isolation, 503 without
the channel), the WebSocket `$connect`/`$disconnect` functions, and a change travelling outbox → bus
rule → live-event-health queue → push consumer → each connection. API Gateway's Management API is
faked at the port (chalicelib.live.ports.HealthConnections); its requests are checked with the
Stubber and the strict model walk in tests/unit/test_live_health_push.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.core.domain.access import Role
from chalicelib.live import wiring
from chalicelib.live.api.health_push import (
    connect_live_event_health,
    disconnect_live_event_health,
    request_live_event_health,
)
from chalicelib.live.consumers.health_push import push_live_event_health
from chalicelib.live.domain.health_push import ConnectionGone
from devstack.ivsplane import IvsPlane
from tests.integration.conftest import ApiClient
from tests.integration.test_live_events_api import (  # noqa: F401 - fixtures
    FakeChannels,
    create_event,
    medialive,
    plane,
    with_role,
)
from tests.integration.test_live_streams_api import create as create_live_stream
from tests.integration.test_outbox import drain, publish, stream_event

PUSH_URL = "wss://abc123.execute-api.us-east-1.amazonaws.com/prod"


class FakeConnections:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.gone: set[str] = set()
        self.closed: list[str] = []

    def post(self, connection_id: str, data: bytes) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        self.sent.append((connection_id, json.loads(data)))

    def close(self, connection_id: str) -> None:
        self.closed.append(connection_id)


@pytest.fixture
def connections(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConnections]:
    monkeypatch.setenv(resources.LIVE_EVENT_HEALTH_PUSH_URL_ENV, PUSH_URL)
    monkeypatch.setenv(resources.LIVE_EVENT_HEALTH_CALLBACK_URL_ENV, PUSH_URL.replace("wss://", "https://"))
    fake = FakeConnections()
    monkeypatch.setattr(wiring, "health_push_connections", lambda: fake)
    core_wiring.reset()
    yield fake
    core_wiring.reset()


def connect(connection_id: str, token: str | None) -> int:
    event = {"requestContext": {"connectionId": connection_id, "routeKey": "$connect", "eventType": "CONNECT"}}
    result = connect_live_event_health({**event, "queryStringParameters": {"token": token} if token else None}, None)
    return int(result["statusCode"])


class Stream:
    """Where the outbox publisher got to, so each delivery publishes only the changes since."""

    last: str | None = None

    @classmethod
    def publish_new(cls) -> None:
        records = stream_event(cls.last)["Records"]
        fresh = records[1:] if cls.last is not None else records  # AT_SEQUENCE_NUMBER includes the last
        if fresh:
            assert publish({"Records": fresh}) == {"batchItemFailures": []}
            cls.last = fresh[-1]["dynamodb"]["SequenceNumber"]


def deliver_health_changes() -> list[str]:
    """The outbox → bus → queue path, then the push consumer on what reached its queue; returns the
    health events it handled."""
    Stream.publish_new()
    messages = drain(resources.LIVE_EVENT_HEALTH_QUEUE)
    records = [
        {
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": {},
            "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{resources.LIVE_EVENT_HEALTH_QUEUE.name}",
            "awsRegion": "us-east-1",
        }
        for m in messages
    ]  # fmt: skip
    assert push_live_event_health({"Records": records}, None) == {"batchItemFailures": []}
    return [json.loads(m["Body"])["detail-type"] for m in messages]


def test_a_subscriber_gets_each_health_change_and_a_gone_one_is_dropped(
    plane: IvsPlane,  # noqa: F811
    medialive: FakeChannels,  # noqa: F811
    connections: FakeConnections,
    chalice_client: Client,
    tenant: ApiClient,
) -> None:
    Stream.last = None
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    path = f"/live-events/{event['liveEventId']}"
    viewer = with_role(chalice_client, tenant, Role.VIEWER)
    subscribed = viewer.call("POST", f"{path}/health/subscriptions")
    assert subscribed.status_code == 201, subscribed.body
    token = subscribed.json_body["token"]
    assert subscribed.json_body["url"] == f"{PUSH_URL}?token={token}" and "streamUrl" not in subscribed.json_body
    assert connect("c1", token) == 200 and connect("c2", token) == 200
    wrong = token[:-1] + ("1" if token.endswith("0") else "0")
    assert connect("c3", None) == 401 and connect("c3", wrong) == 401

    assert tenant.call("POST", f"{path}/arm").status_code == 200
    assert deliver_health_changes() == [resources.LIVE_EVENT_HEALTH_EVENT]
    expected = tenant.call("GET", f"{path}/health").json_body
    assert expected["state"] == "armed"
    assert connections.sent == [("c1", expected), ("c2", expected)]  # the same document as GET /health
    request = {"requestContext": {"connectionId": "c2", "routeKey": "$default"}, "body": "{}"}
    assert request_live_event_health(request, None) == {"statusCode": 200}  # a screen asking for it
    assert connections.sent[-1] == ("c2", expected)

    connections.gone.add("c1")
    assert tenant.call("POST", f"{path}/route", {"mode": "automatic"}).status_code == 200  # no change: no push
    assert tenant.call("POST", f"{path}/end").status_code == 200
    assert deliver_health_changes() == [resources.LIVE_EVENT_HEALTH_EVENT]
    assert [(c, d["state"]) for c, d in connections.sent[3:]] == [("c2", "ended")]
    # Pushes of one event may arrive out of order: the newer document has the higher version.
    assert connections.sent[3][1]["version"] > expected["version"]
    # The event ended: c2 got the last document and the server closed it (c1 was gone already).
    assert connections.closed == ["c2"]
    assert deliver_health_changes() == []
    assert wiring.health_push_service().push(tenant.project_id, event["liveEventId"]) == 0
    disconnect_live_event_health({"requestContext": {"connectionId": "c2", "routeKey": "$disconnect"}}, None)


def test_another_tenant_can_neither_subscribe_nor_connect(
    plane: IvsPlane,  # noqa: F811
    medialive: FakeChannels,  # noqa: F811
    connections: FakeConnections,
    tenant: ApiClient,
    other_tenant: ApiClient,
) -> None:
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    path = f"/live-events/{event['liveEventId']}/health/subscriptions"
    refused = other_tenant.call("POST", path)
    assert refused.status_code == 404 and refused.json_body["name"] == "liveEventId"
    assert tenant.call("POST", "/live-events/le" + "0" * 22 + "/health/subscriptions").status_code == 404
    token = tenant.call("POST", path).json_body["token"]
    _, event_id, secret = token.split(".")
    # The other tenant's project in front of a valid secret: looked up in that project, not found.
    assert connect("c1", f"{other_tenant.project_id}.{event_id}.{secret}") == 401
    assert connect("c1", token) == 200


def test_a_stack_without_the_push_channel_answers_503(
    plane: IvsPlane,  # noqa: F811
    medialive: FakeChannels,  # noqa: F811
    tenant: ApiClient,
) -> None:
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    refused = tenant.call("POST", f"/live-events/{event['liveEventId']}/health/subscriptions")
    assert refused.status_code == 503 and refused.json_body["status"] == 503
