"""The devstack's WebSocket side of the health push channel (devstack/healthpush.py) with the app
in-process on moto: a real WebSocket client and an event stream connect with a subscription's token,
the app's own `apigatewaymanagementapi` client posts to them through the loopback Management API, a
refused token is a refused upgrade, and a closed client is gone (410) and forgotten."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from app import app
from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.live import wiring
from devstack.healthpush import HealthPushGateway, start_health_push
from devstack.ivsplane import IvsPlane
from tests.integration.conftest import ApiClient
from tests.integration.test_live_events_api import FakeChannels, create_event, medialive, plane  # noqa: F401
from tests.integration.test_live_streams_api import create as create_live_stream


@pytest.fixture
def gateway(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[HealthPushGateway]:
    for name in (
        resources.LIVE_EVENT_HEALTH_PUSH_URL_ENV,
        resources.LIVE_EVENT_HEALTH_CALLBACK_URL_ENV,
        resources.LIVE_EVENT_HEALTH_STREAM_URL_ENV,
    ):
        monkeypatch.setenv(name, "")  # restored after the test; start_health_push sets them
    push = start_health_push(app)
    core_wiring.reset()
    yield push
    push.stop()


def subscribe(tenant: ApiClient, live_event_id: str) -> dict[str, Any]:
    response = tenant.call("POST", f"/live-events/{live_event_id}/health/subscriptions")
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def test_a_websocket_and_an_event_stream_get_each_push(
    plane: IvsPlane,  # noqa: F811
    medialive: FakeChannels,  # noqa: F811
    gateway: HealthPushGateway,
    tenant: ApiClient,
) -> None:
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    subscription = subscribe(tenant, event["liveEventId"])
    assert subscription["url"].startswith(gateway.push_url + "?token=")
    assert subscription["streamUrl"] == f"{gateway.stream_url}?token={subscription['token']}"
    push = wiring.health_push_service()
    with (
        connect(subscription["url"], open_timeout=5) as socket,
        requests.get(subscription["streamUrl"], stream=True, timeout=5) as stream,
    ):
        assert stream.status_code == 200 and stream.headers["Content-Type"] == "text/event-stream"
        lines = stream.iter_lines(chunk_size=1, decode_unicode=True)  # as it comes
        assert next(lines) == ": connected"
        assert tenant.call("POST", f"/live-events/{event['liveEventId']}/arm").status_code == 200
        assert push.push(tenant.project_id, event["liveEventId"]) == 2
        expected = tenant.call("GET", f"/live-events/{event['liveEventId']}/health").json_body
        assert json.loads(socket.recv(timeout=5)) == expected
        socket.send('{"action": "health"}')  # any message: $default answers with the current document
        assert json.loads(socket.recv(timeout=5)) == expected
        frame = [next(lines), next(lines), next(lines)]
        assert (
            frame[0] == "" and frame[1] == "event: health" and json.loads(frame[2].removeprefix("data: ")) == expected
        )
    # Both clients went away: $disconnect forgets them (the stream's hang-up is noticed within 0.5 s).
    deadline = time.monotonic() + 5
    while push.push(tenant.project_id, event["liveEventId"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert push.push(tenant.project_id, event["liveEventId"]) == 0


def test_an_ended_event_s_socket_gets_the_last_document_and_is_closed_by_the_server(
    plane: IvsPlane,  # noqa: F811
    medialive: FakeChannels,  # noqa: F811
    gateway: HealthPushGateway,
    tenant: ApiClient,
) -> None:
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    path = f"/live-events/{event['liveEventId']}"
    subscription = subscribe(tenant, event["liveEventId"])
    assert tenant.call("POST", f"{path}/arm").status_code == 200
    with connect(subscription["url"], open_timeout=5) as socket:
        assert tenant.call("POST", f"{path}/end").status_code == 200
        assert wiring.health_push_service().push(tenant.project_id, event["liveEventId"]) == 1
        assert json.loads(socket.recv(timeout=5))["state"] == "ended"
        with pytest.raises(ConnectionClosed):  # DeleteConnection, through the Management API
            socket.recv(timeout=5)
    assert wiring.health_push_service().push(tenant.project_id, event["liveEventId"]) == 0


def test_a_bad_token_is_a_refused_upgrade_and_a_401_stream(
    plane: IvsPlane,  # noqa: F811
    medialive: FakeChannels,  # noqa: F811
    gateway: HealthPushGateway,
    tenant: ApiClient,
    other_tenant: ApiClient,
) -> None:
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    _, event_id, secret = subscribe(tenant, event["liveEventId"])["token"].split(".")
    forged = f"{other_tenant.project_id}.{event_id}.{secret}"
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{gateway.push_url}?token={forged}", open_timeout=5)
    assert refused.value.response.status_code == 401
    assert requests.get(f"{gateway.stream_url}?token={forged}", timeout=5).status_code == 401
    with pytest.raises(InvalidStatus):
        connect(gateway.push_url, open_timeout=5)


def test_the_management_api_answers_as_api_gateway(gateway: HealthPushGateway) -> None:
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client("apigatewaymanagementapi", endpoint_url=gateway.callback_url)
    with pytest.raises(ClientError) as gone:
        client.post_to_connection(ConnectionId="L0SM9cOFvHcCIhw=", Data=b"{}")
    assert gone.value.response["Error"]["Code"] == "GoneException"
    with pytest.raises(ClientError) as missing:
        client.get_connection(ConnectionId="L0SM9cOFvHcCIhw=")
    assert missing.value.response["Error"]["Code"] == "GoneException"
