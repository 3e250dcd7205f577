"""VOD pipeline consumers: stored upload parts (S3 → SQS) and assembled sources.

S3 delivers duplicates (moto sends two notifications per multipart upload, AWS at least once),
so every handler is idempotent; failures are reported per message (`batchItemFailures`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote_plus

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib import resources, wiring
from chalicelib.permissions import (
    TABLE_READ,
    TABLE_WRITE,
    UPLOAD_PARTS_CONSUME,
    UPLOADS_OBJECTS_WRITE,
    declare,
)

log = logging.getLogger(__name__)
bp = Blueprint(__name__)
BATCH_SIZE = 10


def object_keys(body: str) -> Iterator[str]:
    """Keys of the ObjectCreated records in an S3 notification; `s3:TestEvent` has none."""
    message = json.loads(body)
    for record in message.get("Records") or []:
        if str(record.get("eventName", "")).startswith("ObjectCreated"):
            yield unquote_plus(record["s3"]["object"]["key"])


def each_message(event: SQSEvent, handle: Callable[[str], None]) -> dict[str, Any]:
    failures = []
    for record in event:
        try:
            for key in object_keys(record.body):
                handle(key)
        except Exception:
            log.exception("pipeline message failed")
            failures.append({"itemIdentifier": str(record.to_dict().get("messageId"))})
    return {"batchItemFailures": failures}


declare("receive_upload_parts", (UPLOAD_PARTS_CONSUME, UPLOADS_OBJECTS_WRITE, TABLE_READ, TABLE_WRITE))


@bp.on_sqs_message(queue=resources.UPLOAD_PARTS_QUEUE.name, batch_size=BATCH_SIZE)
def receive_upload_parts(event: SQSEvent) -> dict[str, Any]:
    return each_message(event, wiring.upload_service().receive)
