"""The delivery service with in-memory fakes: pinning, rebinding, hops, exhaustion, disabling."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.domain.errors import Conflict
from chalicelib.core.domain.events import DomainEvent, WebhookDisabled
from chalicelib.core.domain.urlguard import Target
from chalicelib.platform.domain import webhooks as rules
from chalicelib.platform.domain.webhooks import (
    Delivery,
    DeliveryMessage,
    DeliveryStatus,
    Response,
    Webhook,
    WebhookCreation,
)
from chalicelib.platform.services.webhooks import DeliveryService, Egress

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeStore:
    def __init__(self, webhook: Webhook) -> None:
        self.webhooks = {webhook.webhook_id: webhook}
        self.deliveries: dict[str, Delivery] = {}
        self.disabled: list[WebhookDisabled] = []
        self.events: list[DomainEvent] = []
        self.leases: dict[str, datetime] = {}

    def get(self, project_id: str, webhook_id: str) -> Webhook | None:
        return self.webhooks.get(webhook_id)

    def list_all(self, project_id: str) -> list[Webhook]:
        return list(self.webhooks.values())

    def disable(self, webhook: Webhook, expected_version: int, event: WebhookDisabled) -> None:
        if self.webhooks[webhook.webhook_id].version != expected_version:
            raise Conflict()
        self.webhooks[webhook.webhook_id] = webhook
        self.disabled.append(event)

    def mark_failing(self, project_id: str, webhook_id: str, since: datetime) -> None:
        current = self.webhooks[webhook_id]
        self.webhooks[webhook_id] = current.model_copy(update={"failing_since": current.failing_since or since})

    def clear_failing(self, project_id: str, webhook_id: str) -> None:
        self.webhooks[webhook_id] = self.webhooks[webhook_id].model_copy(update={"failing_since": None})

    def get_delivery(self, project_id: str, webhook_id: str, delivery_id: str) -> Delivery | None:
        return self.deliveries.get(delivery_id)

    def create_delivery(self, delivery: Delivery) -> bool:
        if delivery.delivery_id in self.deliveries:
            return False
        self.deliveries[delivery.delivery_id] = delivery
        return True

    def save_delivery(self, delivery: Delivery, event: DomainEvent | None = None) -> None:
        self.deliveries[delivery.delivery_id] = delivery
        self.leases.pop(delivery.delivery_id, None)  # the whole item is written: the lease goes
        if event is not None:
            self.events.append(event)

    def lease_delivery(self, delivery: Delivery, now: datetime, lease: timedelta) -> bool:
        current = self.deliveries.get(delivery.delivery_id)
        held = self.leases.get(delivery.delivery_id)
        if current is None or current.status.value != "pending" or current.round_attempts != delivery.round_attempts:
            return False
        if held is not None and held > now - lease:
            return False
        self.leases[delivery.delivery_id] = now
        return True


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[DeliveryMessage] = []
        self.dead: list[DeliveryMessage] = []

    def send(self, messages: Sequence[DeliveryMessage], now: float | None = None) -> list[DeliveryMessage]:
        self.sent.extend(messages)
        return []

    def dead_letter(self, message: DeliveryMessage) -> None:
        self.dead.append(message)


class FakeSender:
    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.targets: list[Target] = []

    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> Response:
        self.targets.append(target)
        status = self.statuses.pop(0) if self.statuses else 200
        return Response(status_code=status, error=None if status < 300 else f"HTTP {status}")


def setup(sender: FakeSender, answers: list[str], now: datetime = NOW) -> tuple[DeliveryService, FakeStore, FakeQueue]:
    webhook = rules.new_webhook("pr1", WebhookCreation(events=["video.created"], url="https://hooks.example/x"), NOW)
    store, queue = FakeStore(webhook), FakeQueue()
    egress = Egress(sender, resolver=lambda host, port: answers)
    service = DeliveryService(store, egress, queue, clock=lambda: now)
    detail = {"type": "video.created", "eventId": "ev0001", "projectId": "pr1", "emittedAt": "x", "videoId": "vi1"}
    assert service.dispatch({"detail": detail}) == 1
    return service, store, queue


def test_delivery_connects_to_the_checked_address_only() -> None:
    sender = FakeSender()
    service, store, queue = setup(sender, ["93.184.216.34"])
    service.deliver(queue.sent[0])
    assert sender.targets[0].address == "93.184.216.34" and sender.targets[0].host == "hooks.example"
    assert next(iter(store.deliveries.values())).status is DeliveryStatus.SUCCEEDED


@pytest.mark.parametrize("rebound", ["127.0.0.1", "169.254.169.254", "10.0.0.7"])
def test_dns_rebinding_at_delivery_is_blocked(rebound: str) -> None:
    sender = FakeSender()
    service, store, queue = setup(sender, [rebound])
    service.deliver(queue.sent[0])
    assert sender.targets == []
    delivery = next(iter(store.deliveries.values()))
    assert delivery.status is DeliveryStatus.PENDING and "URL guard" in str(delivery.attempts[0].error)


def test_a_message_before_its_time_hops_through_the_queue() -> None:
    sender = FakeSender()
    service, store, queue = setup(sender, ["93.184.216.34"])
    retry_at = NOW + timedelta(hours=1)
    delivery_id = queue.sent[0].delivery_id
    store.deliveries[delivery_id] = store.deliveries[delivery_id].model_copy(update={"next_retry_at": retry_at})
    early = DeliveryMessage("pr1", queue.sent[0].webhook_id, delivery_id, retry_at.timestamp())
    service.deliver(early)
    assert sender.targets == [] and queue.sent[-1] == early


def test_a_stale_duplicate_is_dropped_and_a_held_lease_is_respected() -> None:
    sender = FakeSender(500)
    service, store, queue = setup(sender, ["93.184.216.34"])
    first = queue.sent[0]
    delivery = store.deliveries[first.delivery_id]
    assert store.lease_delivery(delivery, NOW, rules.ATTEMPT_LEASE)  # another consumer is attempting
    service.deliver(first)
    assert sender.targets == []
    store.leases.clear()
    service.deliver(first)  # attempted, failed: a retry is scheduled
    service.deliver(first)  # a late duplicate of the first message: not ahead of the retry
    assert len(sender.targets) == 1 and store.deliveries[first.delivery_id].next_retry_at is not None


def test_exhausted_deliveries_fail_and_go_to_the_dead_letter_queue() -> None:
    sender = FakeSender(*[500] * rules.MAX_ATTEMPTS)
    service, store, queue = setup(sender, ["93.184.216.34"])
    clock = [NOW]
    timed = DeliveryService(store, service.egress, queue, clock=lambda: clock[0])
    for _ in range(rules.MAX_ATTEMPTS):
        timed.deliver(queue.sent[-1])
        clock[0] = next(iter(store.deliveries.values())).next_retry_at or clock[0]
    delivery = next(iter(store.deliveries.values()))
    assert delivery.status is DeliveryStatus.FAILED and len(delivery.attempts) == rules.MAX_ATTEMPTS
    assert len(queue.dead) == 1 and len(sender.targets) == rules.MAX_ATTEMPTS
    # The last attempt comes after at least three days, and the endpoint is not yet disabled.
    assert delivery.attempts[-1].attempted_at - NOW >= timedelta(days=3)
    assert next(iter(store.webhooks.values())).enabled
    [exhausted] = store.events
    assert exhausted.payload()["type"] == "webhook.delivery.exhausted"
    assert exhausted.payload()["deliveryId"] == delivery.delivery_id
    assert exhausted.payload()["attempts"] == rules.MAX_ATTEMPTS and exhausted.payload()["lastError"] == "HTTP 500"


def test_an_exhausted_delivery_report_is_not_sent_to_the_endpoint_it_is_about() -> None:
    webhook = rules.new_webhook(
        "pr1", WebhookCreation(events=["webhook.delivery.exhausted"], url="https://h.example/x"), NOW
    )
    report = {"type": "webhook.delivery.exhausted", "webhookId": webhook.webhook_id}
    assert not rules.receives(webhook, report)
    assert rules.receives(webhook, {**report, "webhookId": "webhook_other"})


def test_five_days_of_failure_disable_and_emit_webhook_disabled() -> None:
    sender = FakeSender(500, 500)
    service, store, queue = setup(sender, ["93.184.216.34"])
    service.deliver(queue.sent[-1])
    webhook = next(iter(store.webhooks.values()))
    assert webhook.failing_since == NOW and webhook.enabled
    later = DeliveryService(store, service.egress, queue, clock=lambda: NOW + timedelta(days=5))
    later.deliver(queue.sent[-1])
    webhook = next(iter(store.webhooks.values()))
    assert not webhook.enabled and store.disabled[0].webhook_id == webhook.webhook_id
    assert store.disabled[0].type == "webhook.disabled"
