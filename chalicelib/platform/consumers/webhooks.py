"""Webhook consumers: the dispatcher (project bus → one delivery per subscription) and the deliverer.

Both report partial batch failures (`batchItemFailures`), so one bad message is retried alone
and, after the queue's maxReceiveCount, parked in that queue's DLQ.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.permissions import (
    TABLE_READ,
    TABLE_WRITE,
    WEBHOOK_DEAD_LETTERS_SEND,
    WEBHOOK_DELIVERIES_CONSUME,
    WEBHOOK_DELIVERIES_SEND,
    WEBHOOK_EVENTS_CONSUME,
    declare,
)
from chalicelib.platform import wiring
from chalicelib.platform.domain.webhooks import DeliveryMessage

bp = Blueprint(__name__)
BATCH_SIZE = 10


@bp.on_sqs_message(queue=resources.WEBHOOK_EVENTS_QUEUE.name, batch_size=BATCH_SIZE)
def dispatch_webhook_events(event: SQSEvent) -> dict[str, Any]:
    service = wiring.delivery_service()
    return batch_item_failures(event, lambda body: service.dispatch(json.loads(body)), workers=BATCH_SIZE)


@bp.on_sqs_message(queue=resources.WEBHOOK_DELIVERIES_QUEUE.name, batch_size=BATCH_SIZE)
def deliver_webhooks(event: SQSEvent) -> dict[str, Any]:
    service = wiring.delivery_service()
    return batch_item_failures(event, lambda body: service.deliver(DeliveryMessage.parse(body)), workers=BATCH_SIZE)


declare("dispatch_webhook_events", (TABLE_READ, TABLE_WRITE, WEBHOOK_EVENTS_CONSUME, WEBHOOK_DELIVERIES_SEND))
declare(
    "deliver_webhooks",
    (TABLE_READ, TABLE_WRITE, WEBHOOK_DELIVERIES_CONSUME, WEBHOOK_DELIVERIES_SEND, WEBHOOK_DEAD_LETTERS_SEND),
)
