"""Webhook subscriptions and their deliveries: entities, request payloads and delivery rules.

Every rule here is a pure function of its inputs (times, statuses, headers), so the retry
schedule, the disabling rules and rotation are unit-tested without a clock or a network.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from chalicelib.core import ids
from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.core.domain.events import CATALOGUE, WebhookDeliveryExhausted, envelope
from chalicelib.platform.domain import signing

WEBHOOK_ID_PREFIX = "webhook_"
DELIVERY_ID_PREFIX = "dl"
TEST_EVENT_TYPE = "webhook.test"
MAX_EVENTS = 50
ROTATION_OVERLAP = timedelta(hours=24)
# An endpoint that has failed every attempt for this long is disabled (Svix's rule).
DISABLE_AFTER = timedelta(days=5)
DELIVERY_RETENTION = timedelta(days=30)
# Delay before retry n (n = 1 after the first failed attempt). Standard Webhooks' example schedule,
# extended so that the last attempt lands after 3 days even with the smallest jitter (75 h 36 min).
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Jitter only lengthens a delay, so the documented total is a lower bound.
JITTER = 0.1
MAX_RETRY_AFTER = timedelta(hours=24)
THROTTLE_STATUSES = frozenset({429, 503})
GONE = 410

EventName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


def new_webhook_id() -> str:
    # Time-sortable, so listings keep creation order within the same second.
    return ids.new_sortable_id(WEBHOOK_ID_PREFIX)


def delivery_id(event_id: str) -> str:
    """Deterministic per event (deliveries are keyed under their webhook), so a redelivered event
    finds its delivery instead of making a second one; sorts by the event's time."""
    return DELIVERY_ID_PREFIX + event_id.removeprefix("ev")


def check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in CATALOGUE]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]!r}; see GET /events/schemas")
    # Order kept, duplicates dropped.
    return list(dict.fromkeys(events))


class WebhookCreation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    events: Annotated[list[EventName], Field(min_length=1, max_length=MAX_EVENTS)]
    url: Url

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return check_events(value)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    events: Annotated[list[EventName], Field(min_length=1, max_length=MAX_EVENTS)] | None = None
    url: Url | None = None
    enabled: StrictBool | None = None

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_events(value)


class Webhook(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    webhook_id: str
    url: str
    events: list[str]
    enabled: bool = True
    created_at: datetime
    updated_at: datetime
    secret: str
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    failing_since: datetime | None = None
    disabled_reason: str | None = None
    deleted: bool = False
    version: int = 1

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, then the previous one while the rotation overlap lasts."""
        active = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            active.append(self.previous_secret)
        return active

    def subscribed(self, event_type: str) -> bool:
        return self.enabled and not self.deleted and event_type in self.events

    def snapshot(self) -> dict[str, Any]:
        """For the audit log: never the secrets."""
        return self.model_dump(mode="json", exclude={"project_id", "secret", "previous_secret"})


def new_webhook(project_id: str, payload: WebhookCreation, now: datetime) -> Webhook:
    return Webhook(
        project_id=project_id,
        webhook_id=new_webhook_id(),
        url=payload.url,
        events=payload.events,
        created_at=now,
        updated_at=now,
        secret=signing.new_secret(),
    )


def apply_update(webhook: Webhook, payload: WebhookUpdate, now: datetime) -> Webhook:
    changes: dict[str, Any] = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    if changes.get("enabled") is True and not webhook.enabled:
        # Re-enabled by its owner: the failure clock starts again.
        changes.update(failing_since=None, disabled_reason=None)
    return webhook.model_copy(update={**changes, "updated_at": now, "version": webhook.version + 1})


def rotate(webhook: Webhook, now: datetime) -> Webhook:
    return webhook.model_copy(
        update={
            "secret": signing.new_secret(),
            "previous_secret": webhook.secret,
            "previous_secret_expires_at": now + ROTATION_OVERLAP,
            "updated_at": now,
            "version": webhook.version + 1,
        }
    )


def disable(webhook: Webhook, reason: str, now: datetime) -> Webhook:
    return webhook.model_copy(
        update={"enabled": False, "disabled_reason": reason, "updated_at": now, "version": webhook.version + 1}
    )


def delete(webhook: Webhook, now: datetime) -> Webhook:
    changes = {"deleted": True, "enabled": False, "updated_at": now, "version": webhook.version + 1}
    return webhook.model_copy(update=changes)


class WebhookQuery(BaseModel):
    events: Annotated[str, StringConstraints(max_length=128)] | None = None


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Attempt(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)
    attempted_at: datetime = Field(alias="attemptedAt")
    status_code: int | None = Field(default=None, alias="statusCode")
    latency_ms: int = Field(alias="latencyMs")
    error: str | None = None
    next_retry_at: datetime | None = Field(default=None, alias="nextRetryAt")


class Delivery(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    webhook_id: str
    delivery_id: str
    event_id: str
    event_type: str
    payload: str  # the exact compact JSON body sent, so every attempt signs the same bytes
    status: DeliveryStatus = DeliveryStatus.PENDING
    created_at: datetime
    attempts: list[Attempt] = Field(default_factory=list)
    # Attempts since the last (re)delivery started: the retry schedule counts these.
    round_attempts: int = 0
    next_retry_at: datetime | None = None

    @property
    def message_id(self) -> str:
        """`webhook-id`: the event id, the same for every attempt and every redelivery."""
        return self.event_id


@dataclass(frozen=True)
class DeliveryMessage:
    """What the deliveries queue carries: a pointer to the delivery record, never the secret."""

    project_id: str
    webhook_id: str
    delivery_id: str
    not_before: float | None = None  # epoch seconds

    def body(self) -> str:
        data: dict[str, Any] = {"projectId": self.project_id, "webhookId": self.webhook_id,
                                "deliveryId": self.delivery_id}  # fmt: skip
        if self.not_before is not None:
            data["notBefore"] = self.not_before
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> DeliveryMessage:
        data = json.loads(body)
        not_before = data.get("notBefore")
        return cls(data["projectId"], data["webhookId"], data["deliveryId"],
                   float(not_before) if not_before is not None else None)  # fmt: skip


class DeliveryQuery(BaseModel):
    status: DeliveryStatus | None = None


class Response(BaseModel):
    """What one attempt got back (status None: no HTTP response at all)."""

    model_config = ConfigDict(frozen=True)
    status_code: int | None = None
    retry_after: str | None = None
    error: str | None = None
    latency_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_delay(attempt: int, scale: float = 1.0, rand: Callable[[], float] = random.random) -> timedelta | None:
    """Delay before the attempt after attempt number `attempt` (1-based), None once exhausted.
    `scale` shrinks the schedule for tests only (VIDEOPLANE_WEBHOOK_RETRY_SCALE)."""
    if attempt < 1 or attempt > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[attempt - 1].total_seconds()
    return timedelta(seconds=base * (1 + JITTER * rand()) * scale)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as delay-seconds or an HTTP-date, capped at 24 h; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            delay = parsedate_to_datetime(value) - now
        except (TypeError, ValueError):
            return None
    return max(timedelta(0), min(delay, MAX_RETRY_AFTER))


class Outcome(BaseModel):
    """What to do after an attempt."""

    model_config = ConfigDict(frozen=True)
    status: DeliveryStatus
    next_retry_at: datetime | None = None
    disable_reason: str | None = None


def outcome(
    response: Response,
    round_attempts: int,
    failing_since: datetime | None,
    now: datetime,
    scale: float = 1.0,
    rand: Callable[[], float] = random.random,
) -> Outcome:
    """`round_attempts` counts the attempt just made. `failing_since` is the endpoint's first
    failure of its current failing streak (None if this attempt is the first)."""
    if response.ok:
        return Outcome(status=DeliveryStatus.SUCCEEDED)
    if response.status_code == GONE:
        return Outcome(status=DeliveryStatus.FAILED, disable_reason="The endpoint answered 410 Gone.")
    if failing_since is not None and now - failing_since >= DISABLE_AFTER:
        return Outcome(
            status=DeliveryStatus.FAILED, disable_reason=f"Every delivery failed for {DISABLE_AFTER.days} days."
        )
    delay = retry_delay(round_attempts, scale, rand)
    if delay is None:
        return Outcome(status=DeliveryStatus.FAILED)
    if response.status_code in THROTTLE_STATUSES:
        # The receiver's own schedule wins over ours; it is not scaled.
        delay = parse_retry_after(response.retry_after, now) or delay
    return Outcome(status=DeliveryStatus.PENDING, next_retry_at=now + delay)


# How long one attempt holds its delivery: longer than an attempt can take (the sender's 15 s
# timeout plus signing and bookkeeping), shorter than the deliveries queue's 60 s visibility
# timeout, so that when a consumer dies mid-attempt its own message comes back after the lease
# has expired and the attempt is made again.
ATTEMPT_LEASE = timedelta(seconds=45)


def message_is_current(message: DeliveryMessage, delivery: Delivery) -> bool:
    """Whether a message is the one the delivery waits for: the first or a redelivery's (no
    `notBefore`) while no retry is scheduled, or the scheduled retry's. Any other is a duplicate
    of a message whose attempt already happened, and must not attempt ahead of the schedule."""
    if delivery.next_retry_at is None:
        return message.not_before is None
    return message.not_before is not None and abs(message.not_before - delivery.next_retry_at.timestamp()) < 0.001


def exhausted_event(delivery: Delivery, attempt: Attempt, now: datetime) -> WebhookDeliveryExhausted:
    return WebhookDeliveryExhausted(
        **envelope(delivery.project_id, now),
        webhookId=delivery.webhook_id,
        deliveryId=delivery.delivery_id,
        failedEventId=delivery.event_id,
        failedEventType=delivery.event_type,
        attempts=delivery.round_attempts + 1,
        lastError=attempt.error or (f"HTTP {attempt.status_code}" if attempt.status_code else None),
    )


def receives(webhook: Webhook, detail: dict[str, Any]) -> bool:
    """Whether the webhook gets this event: it subscribed to its type, and the event is not the
    report of this very endpoint's own exhausted delivery (which it could not take either, and
    whose failure would report itself again, every three days)."""
    event_type = str(detail.get("type"))
    if not webhook.subscribed(event_type):
        return False
    return not (event_type == "webhook.delivery.exhausted" and detail.get("webhookId") == webhook.webhook_id)


MAX_RECOVERY_WINDOW = timedelta(days=7)


class RecoveryWindow(BaseModel):
    """`POST /webhooks/{webhookId}/recover`: deliveries created in [since, until) that failed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    since: AwareDatetime
    until: AwareDatetime

    def check(self, now: datetime) -> None:
        """Bounded, so one call queues a bounded amount of work; within the deliveries' retention,
        because older ones are gone."""
        if self.until <= self.since:
            raise _window_problem("until", "`until` must be after `since`.")
        if self.until - self.since > MAX_RECOVERY_WINDOW:
            raise _window_problem("until", "The window must not exceed 7 days.")
        if self.since < now - DELIVERY_RETENTION:
            raise _window_problem("since", "Deliveries are kept 30 days: `since` must be within them.")

    def contains(self, delivery: Delivery) -> bool:
        return self.since <= delivery.created_at < self.until


def _window_problem(name: str, title: str) -> InvalidInput:
    return InvalidInput([Problem("invalid-attribute", title, name)])


def restarted(delivery: Delivery) -> Delivery:
    """A new round of attempts for the same message (same `webhook-id`)."""
    return delivery.model_copy(update={"status": DeliveryStatus.PENDING, "round_attempts": 0, "next_retry_at": None})
