"""Webhooks through the routes (moto), and the consumers' services against a loopback receiver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook as StandardWebhook

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.platform import wiring as platform_wiring
from chalicelib.platform.domain.webhooks import DeliveryMessage
from devstack.bootstrap import create_queues
from tests.integration.conftest import ApiClient
from tests.integration.receivers import Receiver

HOOK = "https://hooks.example.com/videoplane"


@pytest.fixture(autouse=True)
def queues(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    urls = create_queues(boto3.client("sqs"))
    for definition in resources.QUEUES:
        monkeypatch.setenv(definition.env, urls[definition.name])
    monkeypatch.setenv(resources.WEBHOOK_RETRY_SCALE_ENV, "0.001")
    monkeypatch.delenv(resources.ALLOW_LOOPBACK_WEBHOOKS_ENV, raising=False)
    monkeypatch.setattr("chalicelib.core.domain.urlguard.system_resolver", lambda host, port: ["93.184.216.34"])
    core_wiring.reset()
    yield urls
    core_wiring.reset()


def create(api: ApiClient, events: list[str] | None = None, url: str = HOOK) -> dict[str, Any]:
    response = api.call("POST", "/webhooks", {"events": events or ["video.created"], "url": url})
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def test_create_get_list_delete_round_trip(tenant: ApiClient) -> None:
    created = create(tenant, ["video.created", "video.encoding.quality.completed"])
    assert created["webhookId"].startswith("webhook_") and len(created["webhookId"]) == 30
    assert created["signatureSecret"].startswith("whsec_") and created["enabled"] is True
    assert created["createdAt"].endswith("+00:00") and created["url"] == HOOK
    webhook_id = created["webhookId"]
    assert tenant.call("GET", f"/webhooks/{webhook_id}").json_body == created
    assert tenant.call("DELETE", f"/webhooks/{webhook_id}").status_code == 204
    assert tenant.call("GET", f"/webhooks/{webhook_id}").status_code == 404
    assert tenant.call("GET", "/webhooks").json_body["data"] == []


def test_list_filters_by_one_event_and_paginates(tenant: ApiClient) -> None:
    first = create(tenant, ["video.created"])
    create(tenant, ["video.ready"])
    third = create(tenant, ["video.created", "video.ready"])
    page = tenant.call("GET", "/webhooks?events=video.created&pageSize=1").json_body
    assert [w["webhookId"] for w in page["data"]] == [first["webhookId"]]
    assert page["pagination"]["itemsTotal"] == 2 and page["pagination"]["pagesTotal"] == 2
    links = {link["rel"]: link["uri"] for link in page["pagination"]["links"]}
    assert links["next"] == "/webhooks?events=video.created&currentPage=2&pageSize=1"
    second = tenant.call("GET", links["next"]).json_body
    assert [w["webhookId"] for w in second["data"]] == [third["webhookId"]]


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"url": HOOK}, "events"),
        ({"events": ["video.created"]}, "url"),
        ({"events": [], "url": HOOK}, "events"),
        ({"events": ["video.unknown"], "url": HOOK}, "events"),
        ({"events": "video.created", "url": HOOK}, "events"),
    ],
)
def test_invalid_bodies_are_400(tenant: ApiClient, body: dict[str, Any], name: str) -> None:
    response = tenant.call("POST", "/webhooks", body)
    assert response.status_code == 400 and response.json_body["name"] == name


@pytest.mark.parametrize(
    "url", ["https://169.254.169.254/latest/meta-data/", "https://2852039166/", "http://127.0.0.1:9000/", "file:///x"]
)
def test_forbidden_urls_are_422_problems(tenant: ApiClient, url: str) -> None:
    response = tenant.call("POST", "/webhooks", {"events": ["video.created"], "url": url})
    assert response.status_code == 422
    body = response.json_body
    assert body["type"].endswith("/webhook-url-forbidden") and body["name"] == "url" and body["detail"]
    webhook_id = create(tenant)["webhookId"]
    assert tenant.call("PATCH", f"/webhooks/{webhook_id}", {"url": url}).status_code == 422


def test_patch_rotate_and_audit(tenant: ApiClient) -> None:
    created = create(tenant)
    webhook_id = created["webhookId"]
    patched = tenant.call("PATCH", f"/webhooks/{webhook_id}", {"events": ["video.ready"], "enabled": False})
    assert patched.status_code == 200
    assert patched.json_body["events"] == ["video.ready"] and patched.json_body["enabled"] is False
    rotated = tenant.call("POST", f"/webhooks/{webhook_id}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json_body["signatureSecret"] not in (created["signatureSecret"], None)
    assert "previousSecretExpiresAt" in rotated.json_body
    replay = tenant.call("POST", f"/webhooks/{webhook_id}/rotate-secret", headers={"Idempotency-Key": "k1"})
    assert replay.status_code == 400
    tenant.call("DELETE", f"/webhooks/{webhook_id}")
    audit = tenant.call("GET", f"/audit-events?resourceId={webhook_id}").json_body["data"]
    assert [e["action"] for e in audit] == [
        "webhook.delete",
        "webhook.rotate-secret",
        "webhook.update",
        "webhook.create",
    ]
    assert created["signatureSecret"] not in json.dumps(audit)
    assert rotated.json_body["signatureSecret"] not in json.dumps(audit)


def test_other_tenants_webhooks_are_404(tenant: ApiClient, other_tenant: ApiClient) -> None:
    webhook_id = create(tenant)["webhookId"]
    for method, path, body in (
        ("GET", "", None),
        ("PATCH", "", {"enabled": False}),
        ("DELETE", "", None),
        ("POST", "/rotate-secret", None),
        ("GET", "/deliveries", None),
        ("POST", "/deliveries/dl0000/redeliver", None),
        ("POST", "/test", None),
    ):
        response = other_tenant.call(method, f"/webhooks/{webhook_id}{path}", body)
        assert response.status_code == 404, (method, path, response.body)
    assert other_tenant.call("GET", "/webhooks").json_body["data"] == []
    assert tenant.call("GET", f"/webhooks/{webhook_id}").status_code == 200


def pump(queue_url: str, seconds: float = 4.0) -> None:
    """Plays the deliverer's event source until the deliveries queue stays empty."""
    sqs, service = boto3.client("sqs"), platform_wiring.delivery_service()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        for message in messages:
            service.deliver(DeliveryMessage.parse(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_dispatch_deliver_retry_log_and_redeliver(
    tenant: ApiClient, queues: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(resources.ALLOW_LOOPBACK_WEBHOOKS_ENV, "1")
    core_wiring.reset()  # settings are read once per process
    receiver = Receiver([500])
    try:
        created = create(tenant, url=receiver.url)
        create(tenant, ["video.ready"], url=receiver.url)  # not subscribed: gets nothing
        detail = {
            "type": "video.created",
            "eventId": "ev0Test00010000000000000",
            "projectId": tenant.project_id,
            "videoId": "vi123",
            "title": "t",
            "emittedAt": "2026-01-01T00:00:00+00:00",
        }
        envelope = {"id": "1", "detail-type": "video.created", "source": "videoplane", "detail": detail}
        service = platform_wiring.delivery_service()
        assert service.dispatch(envelope) == 1
        assert service.dispatch(envelope) == 1  # not yet attempted: queued again, still one delivery
        pump(queues[resources.WEBHOOK_DELIVERIES_QUEUE.name])
        assert len(receiver.requests) == 2, "the duplicate message must not cause a third attempt"
        ids = {headers["webhook-id"] for headers, _ in receiver.requests}
        assert ids == {"ev0Test00010000000000000"}
        for headers, body in receiver.requests:
            assert StandardWebhook(created["signatureSecret"]).verify(body, headers)["videoId"] == "vi123"
        assert service.dispatch(envelope) == 0  # settled: a redelivered event adds nothing

        path = f"/webhooks/{created['webhookId']}/deliveries"
        log = tenant.call("GET", f"{path}?status=succeeded").json_body["data"]
        assert len(log) == 1 and [a["statusCode"] for a in log[0]["attempts"]] == [500, 200]
        assert log[0]["attempts"][0]["nextRetryAt"] and log[0]["attempts"][0]["error"] == "HTTP 500"
        assert tenant.call("GET", f"{path}?status=failed").json_body["data"] == []

        redelivered = tenant.call("POST", f"{path}/{log[0]['deliveryId']}/redeliver")
        assert redelivered.status_code == 202 and redelivered.json_body["status"] == "pending"
        pump(queues[resources.WEBHOOK_DELIVERIES_QUEUE.name], seconds=2)
        assert len(receiver.requests) == 3 and receiver.requests[-1][0]["webhook-id"] == "ev0Test00010000000000000"

        ping = tenant.call("POST", f"/webhooks/{created['webhookId']}/test").json_body
        assert ping["success"] is True and ping["statusCode"] == 200 and ping["latencyMs"] >= 0
        assert json.loads(receiver.requests[-1][1])["type"] == "webhook.test"
    finally:
        receiver.close()


def test_410_disables_and_emits_webhook_disabled(
    tenant: ApiClient, queues: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(resources.ALLOW_LOOPBACK_WEBHOOKS_ENV, "1")
    core_wiring.reset()  # settings are read once per process
    receiver = Receiver([410])
    try:
        webhook_id = create(tenant, url=receiver.url)["webhookId"]
        detail = {
            "type": "video.created",
            "eventId": "ev0Test00020000000000000",
            "projectId": tenant.project_id,
            "videoId": "vi123",
            "title": "t",
            "emittedAt": "2026-01-01T00:00:00+00:00",
        }
        platform_wiring.delivery_service().dispatch({"detail": detail})
        pump(queues[resources.WEBHOOK_DELIVERIES_QUEUE.name], seconds=2)
        body = tenant.call("GET", f"/webhooks/{webhook_id}").json_body
        assert body["enabled"] is False and "410" in body["disabledReason"]
        dead = boto3.client("sqs").receive_message(QueueUrl=queues[resources.WEBHOOK_DEAD_LETTERS_QUEUE.name])
        assert json.loads(dead["Messages"][0]["Body"])["webhookId"] == webhook_id
        outbox = boto3.client("dynamodb").query(
            TableName="videoplane",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"P#{tenant.project_id}#OUTBOX"}},
        )["Items"]
        assert [item["eventType"]["S"] for item in outbox] == ["webhook.disabled"]
    finally:
        receiver.close()


def test_a_patch_racing_a_failing_delivery_keeps_the_failure_clock(tenant: ApiClient) -> None:
    """The deliverer starts the failure clock between the PATCH's read and its write: the PATCH
    loses the race, re-reads, and the clock survives it."""
    from datetime import UTC, datetime

    from chalicelib.platform.adapters import webhook_records

    webhook_id = create(tenant)["webhookId"]
    repository = platform_wiring.webhook_service().repository
    original_get = repository.get
    started = datetime(2026, 11, 20, tzinfo=UTC)
    reads = 0

    def get_then_race(project_id: str, wanted: str) -> Any:
        nonlocal reads
        webhook = original_get(project_id, wanted)
        reads += 1
        if reads == 1:
            core_wiring.table().write([webhook_records.mark_failing(project_id, wanted, started)])
        return webhook

    repository.get = get_then_race  # type: ignore[method-assign,assignment]
    try:
        patched = tenant.call("PATCH", f"/webhooks/{webhook_id}", {"events": ["video.ready"]})
    finally:
        repository.get = original_get  # type: ignore[method-assign]
    assert patched.status_code == 200 and patched.json_body["events"] == ["video.ready"]
    assert reads == 2
    stored = original_get(tenant.project_id, webhook_id)
    assert stored is not None and stored.failing_since == started
