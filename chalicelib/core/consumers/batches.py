"""Partial batch failures for SQS consumers: each message is handled on its own, and only the
ones that failed are reported back (`batchItemFailures`), so they alone are retried and, after
the queue's maxReceiveCount, parked in its DLQ."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalice.app import SQSRecord

log = logging.getLogger(__name__)


def batch_item_failures(
    records: Iterable[SQSRecord], handle: Callable[[str], object], workers: int = 1
) -> dict[str, Any]:
    """Runs `handle` on each message body, `workers` at a time (a slow one need not hold up the rest)."""
    batch = list(records)

    def failed(record: SQSRecord) -> str | None:
        message_id = str(record.to_dict().get("messageId"))
        try:
            handle(record.body)
        except Exception:
            log.exception("message %s failed", message_id)
            return message_id
        return None

    if workers > 1 and len(batch) > 1:
        # Each worker runs in a copy of the invocation's context: its lines keep the request id.
        contexts = [contextvars.copy_context() for _ in batch]
        with ThreadPoolExecutor(max_workers=min(workers, len(batch))) as pool:
            outcomes = list(pool.map(lambda context, record: context.run(failed, record), contexts, batch))
    else:
        outcomes = [failed(record) for record in batch]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in outcomes if message_id]}
