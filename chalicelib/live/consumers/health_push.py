"""The health push channel's sender: `live-event.health.changed` (the project bus → the
live-event-health queue, resources.BUS_ROUTES) → the event's health document to each open connection.

A message carries only which event changed; the document is read when it is sent, so a redelivered
or late message sends the latest health, never an old one."""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.permissions import (
    LIVE_EVENT_HEALTH_CONNECTIONS,
    LIVE_EVENT_HEALTH_CONSUME,
    TABLE_READ,
    TABLE_WRITE,
    declare,
)
from chalicelib.live import wiring

bp = Blueprint(__name__)
declare("push_live_event_health", (LIVE_EVENT_HEALTH_CONSUME, TABLE_READ, TABLE_WRITE, LIVE_EVENT_HEALTH_CONNECTIONS))


def handle(body: str) -> None:
    detail = json.loads(body).get("detail") or {}
    wiring.health_push_service().push(str(detail["projectId"]), str(detail["liveEventId"]))


@bp.on_sqs_message(queue=resources.LIVE_EVENT_HEALTH_QUEUE.name, batch_size=10)
def push_live_event_health(event: SQSEvent) -> dict[str, Any]:
    """A live event's health changed: its connections get the new document."""
    return batch_item_failures(event, handle)
