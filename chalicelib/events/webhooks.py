"""Webhook consumers: the dispatcher (project bus → one delivery per subscription) and the deliverer.

Both report partial batch failures (`batchItemFailures`), so one bad message is retried alone
and, after the queue's maxReceiveCount, parked in that queue's DLQ.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent, SQSRecord

from chalicelib import resources, wiring
from chalicelib.domain.webhooks import DeliveryMessage
from chalicelib.permissions import (
    TABLE_READ,
    TABLE_WRITE,
    WEBHOOK_DEAD_LETTERS_SEND,
    WEBHOOK_DELIVERIES_CONSUME,
    WEBHOOK_DELIVERIES_SEND,
    WEBHOOK_EVENTS_CONSUME,
    declare,
)

log = logging.getLogger(__name__)
bp = Blueprint(__name__)
BATCH_SIZE = 10


def _failures(records: list[SQSRecord], handle: Any) -> dict[str, Any]:
    """Runs `handle` on each record in parallel (a slow receiver must not hold up the batch)."""

    def one(record: SQSRecord) -> str | None:
        try:
            handle(record.body)
        except Exception:
            log.exception("webhook message %s failed", record.to_dict().get("messageId"))
            return str(record.to_dict().get("messageId"))
        return None

    with ThreadPoolExecutor(max_workers=max(1, min(BATCH_SIZE, len(records)))) as pool:
        failed = [message_id for message_id in pool.map(one, records) if message_id is not None]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


@bp.on_sqs_message(queue=resources.WEBHOOK_EVENTS_QUEUE.name, batch_size=BATCH_SIZE)
def dispatch_webhook_events(event: SQSEvent) -> dict[str, Any]:
    service = wiring.delivery_service()
    return _failures(list(event), lambda body: service.dispatch(json.loads(body)))


@bp.on_sqs_message(queue=resources.WEBHOOK_DELIVERIES_QUEUE.name, batch_size=BATCH_SIZE)
def deliver_webhooks(event: SQSEvent) -> dict[str, Any]:
    service = wiring.delivery_service()
    return _failures(list(event), lambda body: service.deliver(DeliveryMessage.parse(body)))


declare("dispatch_webhook_events", (TABLE_READ, TABLE_WRITE, WEBHOOK_EVENTS_CONSUME, WEBHOOK_DELIVERIES_SEND))
declare(
    "deliver_webhooks",
    (TABLE_READ, TABLE_WRITE, WEBHOOK_DELIVERIES_CONSUME, WEBHOOK_DELIVERIES_SEND, WEBHOOK_DEAD_LETTERS_SEND),
)
