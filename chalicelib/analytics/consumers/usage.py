"""The usage counters' domain events (resources.BUS_ROUTES "usage-events": `video.ready`, a live
stream's broadcast start and end, a room session's `room.cdr.ready`) and the daily usage event
(`usage.daily.ready`).

Each event counts once: its id is written with its counts in one transaction (a redelivery counts
nothing). A broadcast end whose start has not been counted yet fails and comes back (SQS
redelivers it) until the start is in, or the queue's maxReceiveCount parks it in the DLQ.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalice import Blueprint, Cron
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib.analytics import wiring
from chalicelib.analytics.domain import usage
from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.domain import events
from chalicelib.core.observability import logger
from chalicelib.core.permissions import (
    ANALYTICS_CATALOG_READ,
    ANALYTICS_OBJECTS_QUERY,
    ANALYTICS_QUERIES,
    MEDIA_LIST,
    TABLE_INDEX_READ,
    TABLE_READ,
    TABLE_WRITE,
    UPLOADS_LIST,
    USAGE_EVENTS_CONSUME,
    declare,
)

bp = Blueprint(__name__)
declare("count_usage", (TABLE_READ, TABLE_WRITE, USAGE_EVENTS_CONSUME))
declare(
    "report_daily_usage",
    (TABLE_READ, TABLE_INDEX_READ, TABLE_WRITE, MEDIA_LIST, ANALYTICS_QUERIES, ANALYTICS_CATALOG_READ,
     ANALYTICS_OBJECTS_QUERY, UPLOADS_LIST),
)  # fmt: skip


def count(message_body: str) -> None:
    detail = json.loads(message_body).get("detail") or {}
    event = events.parse(detail)
    counted = wiring.usage_service().count(event)
    logger.info("usage event", extra={"projectId": event.project_id, "type": event.type, "counted": counted})


@bp.on_sqs_message(queue=resources.USAGE_EVENTS_QUEUE.name, batch_size=10)
def count_usage(event: SQSEvent) -> dict[str, Any]:
    return batch_item_failures(event, count)


# 00:15 UTC: yesterday's beacons are in the event store by then (Firehose buffers 60 s).
@bp.schedule(Cron(15, 0, "*", "*", "?", "*"))
def report_daily_usage(event: CloudWatchEvent) -> None:
    # The day before the scheduled time, not the clock's: a late retry still reports the same day.
    day = usage.yesterday(datetime.fromisoformat(event.time))
    reported = wiring.usage_service().report(day)
    logger.info("daily usage reported", extra={"day": day, "projects": reported})
