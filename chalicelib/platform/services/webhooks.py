"""Webhook use-cases: subscriptions (CRUD, rotation, test pings) and delivery (dispatch, attempts)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chalicelib.core import ids
from chalicelib.core.domain import audit, urlguard
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import Conflict, NotFound
from chalicelib.core.domain.events import EVENT_ID_PREFIX, DomainEvent, WebhookDisabled, envelope
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.core.domain.urlguard import Target, UrlForbidden
from chalicelib.platform.domain import signing
from chalicelib.platform.domain import webhooks as rules
from chalicelib.platform.domain.webhooks import (
    Attempt,
    Delivery,
    DeliveryMessage,
    DeliveryQuery,
    DeliveryStatus,
    RecoveryWindow,
    Response,
    Webhook,
    WebhookCreation,
    WebhookQuery,
    WebhookUpdate,
)

log = logging.getLogger(__name__)
DISABLE_ATTEMPTS = 3


CHANGE_ATTEMPTS = 3


class DeliveryStore(Protocol):
    """What delivering needs: the subscriptions and their deliveries."""

    def get(self, project_id: str, webhook_id: str) -> Webhook | None: ...
    def list_all(self, project_id: str) -> list[Webhook]: ...
    def disable(self, webhook: Webhook, expected_version: int, event: WebhookDisabled) -> None: ...
    def mark_failing(self, project_id: str, webhook_id: str, since: datetime) -> None: ...
    def clear_failing(self, project_id: str, webhook_id: str) -> None: ...
    def get_delivery(self, project_id: str, webhook_id: str, delivery_id: str) -> Delivery | None: ...
    def create_delivery(self, delivery: Delivery) -> bool: ...
    def save_delivery(self, delivery: Delivery, event: DomainEvent | None = None) -> None: ...
    def lease_delivery(self, delivery: Delivery, now: datetime, lease: timedelta) -> bool: ...


class WebhookStore(DeliveryStore, Protocol):
    """What managing subscriptions needs besides."""

    def create(self, webhook: Webhook, audit: audit.AuditEvent) -> None: ...
    def save(self, webhook: Webhook, expected_version: int, audit: audit.AuditEvent) -> None: ...
    def list_deliveries(self, project_id: str, webhook_id: str) -> list[Delivery]: ...


class DeliveryQueue(Protocol):
    def send(self, messages: Sequence[DeliveryMessage], now: float | None = None) -> list[DeliveryMessage]: ...
    def dead_letter(self, message: DeliveryMessage) -> None: ...


class Sender(Protocol):
    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> Response: ...


@dataclass(frozen=True)
class Egress:
    """How deliveries reach the outside: the guard's settings and the HTTP sender."""

    sender: Sender
    allow_loopback: bool = False
    resolver: urlguard.Resolver | None = None  # the system's
    denied_ports: frozenset[int] = frozenset()

    def check(self, url: str) -> Target:
        return urlguard.check(url, self.allow_loopback, self.resolver, self.denied_ports)


@dataclass(frozen=True)
class TestResult:
    status_code: int | None
    latency_ms: int
    error: str | None

    @property
    def success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def precise_now() -> datetime:
    return datetime.now(UTC)


def signed_headers(webhook: Webhook, delivery_id: str, message_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """Both header sets: api.video's (current secret) and Standard Webhooks' (every active secret)."""
    return {
        "X-Api-Video-WebhookID": webhook.webhook_id,
        "X-Api-Video-Signature": signing.api_video_signature(webhook.secret, body),
        "X-Videoplane-Delivery-Id": delivery_id,
        **signing.standard_headers(webhook.signing_secrets(now), message_id, int(now.timestamp()), body),
    }


class WebhookService:
    def __init__(
        self,
        repository: WebhookStore,
        egress: Egress,
        queue: Callable[[], DeliveryQueue],
        clock: Callable[[], datetime],
    ) -> None:
        self.repository = repository
        self.egress = egress
        self.queue = queue
        self.clock = clock

    def create(self, actor: Actor, payload: WebhookCreation) -> Webhook:
        self.egress.check(payload.url)
        webhook = rules.new_webhook(actor.project_id, payload, self.clock())
        event = audit.record(actor, "webhook.create", "webhook", webhook.webhook_id, self.clock(),
                             after=webhook.snapshot())  # fmt: skip
        self.repository.create(webhook, event)
        return webhook

    def get(self, actor: Actor, webhook_id: str) -> Webhook:
        webhook = self.repository.get(actor.project_id, webhook_id)
        if webhook is None or webhook.deleted:
            raise NotFound(name="webhookId")
        return webhook

    def list(self, actor: Actor, query: WebhookQuery, page: PageRequest) -> Page[Webhook]:
        items = [w for w in self.repository.list_all(actor.project_id) if not w.deleted]
        if query.events:
            items = [w for w in items if query.events in w.events]
        return paginate(sorted(items, key=lambda w: (w.created_at, w.webhook_id)), page)

    def update(self, actor: Actor, webhook_id: str, payload: WebhookUpdate) -> Webhook:
        if payload.url is not None:
            self.egress.check(payload.url)
        return self._change(actor, webhook_id, "webhook.update", lambda w: rules.apply_update(w, payload, self.clock()))

    def rotate_secret(self, actor: Actor, webhook_id: str) -> Webhook:
        return self._change(actor, webhook_id, "webhook.rotate-secret", lambda w: rules.rotate(w, self.clock()))

    def delete(self, actor: Actor, webhook_id: str) -> None:
        self._change(actor, webhook_id, "webhook.delete", lambda w: rules.delete(w, self.clock()))

    def _change(self, actor: Actor, webhook_id: str, action: str, change: Callable[[Webhook], Webhook]) -> Webhook:
        # A change is a function of the current webhook, so after a lost race (another PATCH, or
        # a delivery starting or stopping the failure clock) it is re-applied to a fresh read.
        for _ in range(CHANGE_ATTEMPTS):
            current = self.get(actor, webhook_id)
            updated = change(current)
            event = audit.record(actor, action, "webhook", webhook_id, self.clock(),
                                 before=current.snapshot(), after=updated.snapshot())  # fmt: skip
            try:
                self.repository.save(updated, current.version, event)
            except Conflict:
                continue
            return updated
        raise Conflict(name="webhookId")

    def deliveries(self, actor: Actor, webhook_id: str, query: DeliveryQuery, page: PageRequest) -> Page[Delivery]:
        self.get(actor, webhook_id)
        items = self.repository.list_deliveries(actor.project_id, webhook_id)
        if query.status is not None:
            items = [d for d in items if d.status is query.status]
        return paginate(items, page)

    def redeliver(self, actor: Actor, webhook_id: str, delivery_id: str) -> Delivery:
        """A fresh round of attempts for the same message (same `webhook-id`)."""
        self.get(actor, webhook_id)
        delivery = self.repository.get_delivery(actor.project_id, webhook_id, delivery_id)
        if delivery is None:
            raise NotFound(name="deliveryId")
        restarted = rules.restarted(delivery)
        self.repository.save_delivery(restarted)
        self.queue().send([DeliveryMessage(actor.project_id, webhook_id, delivery_id, None)])
        return restarted

    def recover(self, actor: Actor, webhook_id: str, window: RecoveryWindow) -> int:
        """Redelivers every delivery created in the window that failed; returns how many. Calling
        again is harmless: the recovered ones are pending (or settled) by then, not failed."""
        self.get(actor, webhook_id)
        window.check(self.clock())
        failed = [
            d
            for d in self.repository.list_deliveries(actor.project_id, webhook_id)
            if d.status is DeliveryStatus.FAILED and window.contains(d)
        ]
        for delivery in failed:
            self.repository.save_delivery(rules.restarted(delivery))
        messages = [DeliveryMessage(actor.project_id, webhook_id, d.delivery_id, None) for d in failed]
        unsent = {m.delivery_id for m in self.queue().send(messages)} if messages else set()
        if unsent:
            # Back to failed, so that calling again (the caller sees a 5xx) picks them up.
            for delivery in failed:
                if delivery.delivery_id in unsent:
                    self.repository.save_delivery(delivery)
            raise RuntimeError(f"{len(unsent)} recovered deliveries were not queued")
        return len(failed)

    def test(self, actor: Actor, webhook_id: str) -> TestResult:
        """A signed `webhook.test` ping, sent now. Only status and latency come back: echoing the
        receiver's body would turn this into an SSRF read primitive."""
        webhook = self.get(actor, webhook_id)
        target = self.egress.check(webhook.url)
        now = precise_now()
        event_id = ids.new_sortable_id(EVENT_ID_PREFIX)
        payload = {"type": rules.TEST_EVENT_TYPE, "emittedAt": now.isoformat(), "eventId": event_id,
                   "projectId": actor.project_id, "webhookId": webhook_id}  # fmt: skip
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = signed_headers(webhook, rules.delivery_id(event_id), event_id, body, now)
        response = self.egress.sender.post(target, body, headers)
        return TestResult(response.status_code, response.latency_ms, response.error)


class DeliveryService:
    """Runs in the queue consumers: one delivery per (event, subscription), then its attempts."""

    def __init__(
        self,
        repository: DeliveryStore,
        egress: Egress,
        queue: DeliveryQueue,
        clock: Callable[[], datetime] = precise_now,
        retry_scale: float = 1.0,
    ) -> None:
        self.repository = repository
        self.egress = egress
        self.queue = queue
        self.clock = clock
        self.retry_scale = retry_scale

    def dispatch(self, eventbridge_envelope: dict[str, Any]) -> int:
        """Creates the deliveries for one event and queues them; returns how many were queued.
        Safe to repeat: delivery ids derive from the event id, so a redelivered event adds none."""
        detail = eventbridge_envelope["detail"]
        if isinstance(detail, str):
            detail = json.loads(detail)
        project_id, event_type, event_id = detail["projectId"], detail["type"], detail["eventId"]
        body = json.dumps(detail, separators=(",", ":"))
        now = self.clock()
        pending: list[DeliveryMessage] = []
        for webhook in self.repository.list_all(project_id):
            if not rules.receives(webhook, detail):
                continue
            delivery = Delivery(project_id=project_id, webhook_id=webhook.webhook_id,
                                delivery_id=rules.delivery_id(event_id), event_id=event_id, event_type=event_type,
                                payload=body, created_at=now)  # fmt: skip
            if not self.repository.create_delivery(delivery):
                existing = self.repository.get_delivery(project_id, webhook.webhook_id, delivery.delivery_id)
                # Queued before but maybe not sent (a crash between put and send): send again; the
                # deliverer ignores a second message for a delivery that is no longer pending.
                if existing is None or existing.status is not DeliveryStatus.PENDING or existing.attempts:
                    continue
            pending.append(DeliveryMessage(project_id, webhook.webhook_id, delivery.delivery_id, None))
        failed = self.queue.send(pending) if pending else []
        if failed:
            raise RuntimeError(f"{len(failed)} delivery messages were not queued")
        return len(pending)

    def deliver(self, message: DeliveryMessage) -> None:
        claimed = self._claim(message)
        if claimed is None:
            return
        webhook, delivery, now = claimed
        if not webhook.enabled:
            self._settle(delivery, Attempt(attempted_at=now, latency_ms=0, error="The webhook is disabled."),
                         DeliveryStatus.FAILED, None)  # fmt: skip
            return
        response = self._attempt(webhook, delivery, now)
        result = rules.outcome(response, delivery.round_attempts + 1, webhook.failing_since, now, self.retry_scale)
        attempt = Attempt(attempted_at=now, status_code=response.status_code, latency_ms=response.latency_ms,
                          error=response.error, next_retry_at=result.next_retry_at)  # fmt: skip
        # Gave up after the whole schedule (not a 410, which disables and says so itself).
        exhausted = result.status is DeliveryStatus.FAILED and result.disable_reason is None
        self._settle(delivery, attempt, result.status, result.next_retry_at,
                     rules.exhausted_event(delivery, attempt, now) if exhausted else None)  # fmt: skip
        if response.ok and webhook.failing_since is not None:
            self.repository.clear_failing(webhook.project_id, webhook.webhook_id)
        elif not response.ok and webhook.failing_since is None:
            self.repository.mark_failing(webhook.project_id, webhook.webhook_id, now)
        if result.next_retry_at is not None:
            retry = DeliveryMessage(message.project_id, message.webhook_id, message.delivery_id,
                                 result.next_retry_at.timestamp())  # fmt: skip
            self.queue.send([retry], now.timestamp())
        elif result.status is DeliveryStatus.FAILED:
            self.queue.dead_letter(message)
        if result.disable_reason is not None:
            self._disable(webhook, result.disable_reason, now)

    def _claim(self, message: DeliveryMessage) -> tuple[Webhook, Delivery, datetime] | None:
        """The webhook and delivery this message may attempt now, with the attempt's lease taken;
        None when it may not (and then it is handled: dropped, or sent back until due)."""
        webhook = self.repository.get(message.project_id, message.webhook_id)
        delivery = self.repository.get_delivery(message.project_id, message.webhook_id, message.delivery_id)
        if webhook is None or webhook.deleted or delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return None  # deleted, or a duplicate message for a delivery already settled
        if not rules.message_is_current(message, delivery):
            return None  # a duplicate of a message already attempted; the scheduled one will come
        now = self.clock()
        if message.not_before is not None and message.not_before > now.timestamp():
            self.queue.send([message], now.timestamp())  # not yet: hop through the queue again
            return None
        if not self.repository.lease_delivery(delivery, now, rules.ATTEMPT_LEASE):
            # A duplicate being attempted right now (SQS delivers at least once). If that consumer
            # dies, its own message returns after the lease expired and the attempt is made then.
            return None
        return webhook, delivery, now

    def _attempt(self, webhook: Webhook, delivery: Delivery, now: datetime) -> Response:
        try:
            target = self.egress.check(webhook.url)  # again: DNS may have changed since registration
        except UrlForbidden as refused:
            return Response(error=f"refused by the URL guard: {refused.detail}")
        body = delivery.payload.encode()
        headers = signed_headers(webhook, delivery.delivery_id, delivery.message_id, body, now)
        return self.egress.sender.post(target, body, headers)

    def _settle(
        self,
        delivery: Delivery,
        attempt: Attempt,
        status: DeliveryStatus,
        retry: datetime | None,
        event: DomainEvent | None = None,
    ) -> None:
        """Records the attempt, which also releases the lease (the item is written whole)."""
        self.repository.save_delivery(
            delivery.model_copy(
                update={
                    "attempts": [*delivery.attempts, attempt],
                    "round_attempts": delivery.round_attempts + 1,
                    "status": status,
                    "next_retry_at": retry,
                }
            ),
            event,
        )

    def _disable(self, webhook: Webhook, reason: str, now: datetime) -> None:
        current: Webhook | None = webhook
        for _ in range(DISABLE_ATTEMPTS):
            if current is None or current.deleted or not current.enabled:
                return
            event = WebhookDisabled(**envelope(current.project_id, now), webhookId=current.webhook_id, reason=reason)
            try:
                self.repository.disable(rules.disable(current, reason, now), current.version, event)
                return
            except Conflict:
                current = self.repository.get(webhook.project_id, webhook.webhook_id)
        log.warning("could not disable webhook %s after %d attempts", webhook.webhook_id, DISABLE_ATTEMPTS)
