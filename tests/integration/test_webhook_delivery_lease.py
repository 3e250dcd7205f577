"""Duplicate delivery messages never POST twice (a conditional lease on the delivery before the
POST), and a delivery that exhausts its retries reports it (`webhook.delivery.exhausted` through
the outbox). Real parts: moto, a loopback HTTP receiver, the real deliverer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import boto3
import pytest

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.platform import wiring as platform_wiring
from chalicelib.platform.domain.webhooks import DeliveryMessage
from devstack.bootstrap import create_queues
from tests.integration.conftest import ApiClient
from tests.integration.receivers import Receiver

EVENT_ID = "ev0Lease0001000000000000"


@pytest.fixture
def loopback(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    urls = create_queues(boto3.client("sqs"))
    for definition in resources.QUEUES:
        monkeypatch.setenv(definition.env, urls[definition.name])
    monkeypatch.setenv(resources.ALLOW_LOOPBACK_WEBHOOKS_ENV, "1")
    monkeypatch.setenv(resources.WEBHOOK_RETRY_SCALE_ENV, "0.00001")
    core_wiring.reset()
    yield urls
    core_wiring.reset()


def _subscribe_and_dispatch(tenant: ApiClient, url: str) -> tuple[str, DeliveryMessage]:
    response = tenant.call("POST", "/webhooks", {"events": ["video.created"], "url": url})
    webhook_id = response.json_body["webhookId"]
    detail = {"type": "video.created", "eventId": EVENT_ID, "projectId": tenant.project_id, "videoId": "vi1",
              "title": "t", "emittedAt": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    assert platform_wiring.delivery_service().dispatch({"detail": detail}) == 1
    delivery_id = "dl" + EVENT_ID.removeprefix("ev")
    return webhook_id, DeliveryMessage(tenant.project_id, webhook_id, delivery_id, None)


def test_concurrent_duplicate_messages_post_once(tenant: ApiClient, loopback: dict[str, str]) -> None:
    receiver = Receiver([], delay=0.5)
    try:
        _, message = _subscribe_and_dispatch(tenant, receiver.url)
        service = platform_wiring.delivery_service()
        racers = [threading.Thread(target=service.deliver, args=(message,)) for _ in range(4)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        for _ in range(2):  # duplicates arriving after the delivery settled
            service.deliver(message)
        assert len(receiver.requests) == 1
    finally:
        receiver.close()


def test_a_stale_duplicate_does_not_jump_the_retry_schedule(tenant: ApiClient, loopback: dict[str, str]) -> None:
    """The first attempt failed and a retry is scheduled; a late duplicate of the first message
    (not_before None) must not POST ahead of the retry."""
    receiver = Receiver([], then=500)
    try:
        _, message = _subscribe_and_dispatch(tenant, receiver.url)
        service = platform_wiring.delivery_service()
        service.deliver(message)
        assert len(receiver.requests) == 1
        service.deliver(message)
        assert len(receiver.requests) == 1
    finally:
        receiver.close()


def test_exhausted_retries_emit_an_operational_event(tenant: ApiClient, loopback: dict[str, str]) -> None:
    receiver = Receiver([], then=500)
    try:
        webhook_id, _ = _subscribe_and_dispatch(tenant, receiver.url)
        sqs, service = boto3.client("sqs"), platform_wiring.delivery_service()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = sqs.receive_message(QueueUrl=loopback[resources.WEBHOOK_DELIVERIES_QUEUE.name],
                                      MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])  # fmt: skip
            for raw in got:
                service.deliver(DeliveryMessage.parse(raw["Body"]))
                sqs.delete_message(QueueUrl=loopback[resources.WEBHOOK_DELIVERIES_QUEUE.name],
                                   ReceiptHandle=raw["ReceiptHandle"])  # fmt: skip
            log = tenant.call("GET", f"/webhooks/{webhook_id}/deliveries?status=failed").json_body["data"]
            if log:
                break
            time.sleep(0.1)
        assert log and len(log[0]["attempts"]) == 11
        outbox = boto3.client("dynamodb").query(
            TableName="videoplane",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"P#{tenant.project_id}#OUTBOX"}},
        )["Items"]
        exhausted = [item for item in outbox if item["eventType"]["S"] == "webhook.delivery.exhausted"]
        assert len(exhausted) == 1 and webhook_id in exhausted[0]["payload"]["S"]
        assert log[0]["deliveryId"] in exhausted[0]["payload"]["S"]
    finally:
        receiver.close()
