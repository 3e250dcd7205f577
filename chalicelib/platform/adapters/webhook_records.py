"""Item layouts for webhooks and their deliveries in the single table (see docs/data-model.md).

- Webhook: `P#<projectId>#WEBHOOK` / `<webhookId>`. A deleted webhook stays as a tombstone for
  a day so that in-flight deliveries see it is gone, then TTL removes it.
- Delivery: `P#<projectId>#DELIVERY#<webhookId>` / `<deliveryId>` (sorts by event time), kept
  30 days by TTL.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, Put, Update, project_partition
from chalicelib.core.clock import epoch_seconds
from chalicelib.platform.domain.webhooks import DELIVERY_RETENTION, Delivery, Webhook

TTL = resources.TTL_ATTRIBUTE
TOMBSTONE_RETENTION = timedelta(days=1)
# DynamoDB items stop at 400 KB: the delivery log keeps the latest attempts only.
MAX_LOGGED_ATTEMPTS = 50
_META = (PK, SK, TTL, "entity")


def webhook_key(project_id: str, webhook_id: str) -> dict[str, str]:
    return {PK: project_partition(project_id, "WEBHOOK"), SK: webhook_id}


def webhook_item(webhook: Webhook) -> dict[str, Any]:
    ttl = epoch_seconds(webhook.updated_at + TOMBSTONE_RETENTION) if webhook.deleted else None
    return {**webhook_key(webhook.project_id, webhook.webhook_id), "entity": "webhook", TTL: ttl,
            **webhook.model_dump(mode="json")}  # fmt: skip


def webhook_from_item(item: dict[str, Any]) -> Webhook:
    return Webhook.model_validate({k: v for k, v in item.items() if k not in _META})


def webhook_create(webhook: Webhook) -> Put:
    return Put(item=webhook_item(webhook), condition="attribute_not_exists(#pk)", names={"#pk": PK})


def webhook_save(webhook: Webhook, expected_version: int) -> Put:
    return Put(
        item=webhook_item(webhook),
        condition="#v = :expected",
        names={"#v": "version"},
        values={":expected": expected_version},
    )


def mark_failing(project_id: str, webhook_id: str, since: datetime) -> Update:
    """Starts the failure clock unless it runs already. The version moves too, so that a PATCH
    that read the webhook before cannot write the clock back (it re-reads and re-applies)."""
    return Update(
        key=webhook_key(project_id, webhook_id),
        expression="SET #f = if_not_exists(#f, :since), #v = #v + :one",
        condition="attribute_exists(#pk)",
        names={"#f": "failing_since", "#pk": PK, "#v": "version"},
        values={":since": since.isoformat(), ":one": 1},
    )


def clear_failing(project_id: str, webhook_id: str) -> Update:
    return Update(
        key=webhook_key(project_id, webhook_id),
        expression="REMOVE #f SET #v = #v + :one",
        condition="attribute_exists(#pk)",
        names={"#f": "failing_since", "#pk": PK, "#v": "version"},
        values={":one": 1},
    )


def deliveries_partition(project_id: str, webhook_id: str) -> str:
    return project_partition(project_id, f"DELIVERY#{webhook_id}")


def delivery_key(project_id: str, webhook_id: str, delivery_id: str) -> dict[str, str]:
    return {PK: deliveries_partition(project_id, webhook_id), SK: delivery_id}


def delivery_item(delivery: Delivery) -> dict[str, Any]:
    body = delivery.model_dump(mode="json", by_alias=True, exclude={"attempts"})
    attempts = [a.model_dump(mode="json", by_alias=True) for a in delivery.attempts[-MAX_LOGGED_ATTEMPTS:]]
    return {
        **delivery_key(delivery.project_id, delivery.webhook_id, delivery.delivery_id),
        "entity": "webhookDelivery",
        TTL: epoch_seconds(delivery.created_at + DELIVERY_RETENTION),
        **body,
        # A JSON string: attempt fields are optional, and DynamoDB maps reject nothing but cost more to read.
        "attempts": json.dumps(attempts, separators=(",", ":")),
    }


def delivery_from_item(item: dict[str, Any]) -> Delivery:
    data = {k: v for k, v in item.items() if k not in _META and k != ATTEMPT_STARTED}
    data["attempts"] = json.loads(data.get("attempts") or "[]")
    return Delivery.model_validate(data)


# The attempt's lease: when an attempt started (epoch seconds). Not part of the Delivery model,
# so saving the delivery after the attempt (a whole-item Put) releases it.
ATTEMPT_STARTED = "attempt_started"


def delivery_lease(delivery: Delivery, now: datetime, lease: timedelta) -> Update:
    """Takes the attempt of this round: only while the delivery is pending in the same round, and
    no other attempt started less than `lease` ago (one that did and vanished has expired)."""
    return Update(
        key=delivery_key(delivery.project_id, delivery.webhook_id, delivery.delivery_id),
        expression="SET #started = :now",
        condition=(
            "attribute_exists(#pk) AND #status = :pending AND #round = :round"
            " AND (attribute_not_exists(#started) OR #started < :expired)"
        ),
        names={"#pk": PK, "#status": "status", "#round": "round_attempts", "#started": ATTEMPT_STARTED},
        values={
            ":now": Decimal(str(now.timestamp())),
            ":expired": Decimal(str((now - lease).timestamp())),
            ":pending": "pending",
            ":round": delivery.round_attempts,
        },
    )


def delivery_create(delivery: Delivery) -> Put:
    return Put(item=delivery_item(delivery), condition="attribute_not_exists(#pk)", names={"#pk": PK})


def delivery_save(delivery: Delivery) -> Put:
    return Put(item=delivery_item(delivery))
