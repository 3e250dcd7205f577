"""VOD pipeline consumers: stored upload parts (S3 → SQS) and assembled sources.

S3 delivers duplicates (moto sends two notifications per multipart upload, AWS at least once),
so every handler is idempotent; failures are reported per message (`batchItemFailures`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote_plus

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.permissions import (
    MEDIA_EVENTS_CONSUME,
    MEDIA_OBJECTS_WRITE,
    MEDIACONVERT_JOBS,
    MEDIACONVERT_PASS_ROLE,
    SOURCES_CONSUME,
    TABLE_READ,
    TABLE_WRITE,
    UPLOAD_PARTS_CONSUME,
    UPLOADS_OBJECTS_READ,
    UPLOADS_OBJECTS_WRITE,
    UPLOADS_SOURCES_WRITE,
    declare,
)
from chalicelib.vod import wiring
from chalicelib.vod.domain.ingest import IngestMessage
from chalicelib.vod.domain.uploads import parse_source_key

bp = Blueprint(__name__)
BATCH_SIZE = 10


def object_keys(body: str) -> Iterator[str]:
    """Keys of the ObjectCreated records in an S3 notification; `s3:TestEvent` has none."""
    message = json.loads(body)
    for record in message.get("Records") or []:
        if str(record.get("eventName", "")).startswith("ObjectCreated"):
            yield unquote_plus(record["s3"]["object"]["key"])


def each_key(handle: Callable[[str], object]) -> Callable[[str], None]:
    """A message handler that passes each created object's key to `handle`."""

    def handle_body(body: str) -> None:
        for key in object_keys(body):
            handle(key)

    return handle_body


# The part that completes an upload assembles the source and starts its pipeline (probe, jobs).
declare(
    "receive_upload_parts",
    (UPLOAD_PARTS_CONSUME, UPLOADS_OBJECTS_WRITE, TABLE_READ, TABLE_WRITE, MEDIA_OBJECTS_WRITE, MEDIACONVERT_JOBS,
     MEDIACONVERT_PASS_ROLE),
)  # fmt: skip


@bp.on_sqs_message(queue=resources.UPLOAD_PARTS_QUEUE.name, batch_size=BATCH_SIZE)
def receive_upload_parts(event: SQSEvent) -> dict[str, Any]:
    return batch_item_failures(event, each_key(wiring.upload_service().receive))


# URL and copy ingests (messages the create route sends) write the source object themselves.
declare(
    "ingest_sources",
    (SOURCES_CONSUME, UPLOADS_OBJECTS_READ, UPLOADS_SOURCES_WRITE, MEDIA_OBJECTS_WRITE, TABLE_READ, TABLE_WRITE,
     MEDIACONVERT_JOBS, MEDIACONVERT_PASS_ROLE),
)  # fmt: skip


@bp.on_sqs_message(queue=resources.SOURCES_QUEUE.name, batch_size=1)
def ingest_sources(event: SQSEvent) -> dict[str, Any]:
    def ingest(key: str) -> None:
        parsed = parse_source_key(key)
        if parsed is not None:
            wiring.pipeline_service().ingest(*parsed, key)

    def handle(body: str) -> None:
        # Not an S3 notification (no `Records`) but a request to fetch or copy a source: once
        # stored, that source's own notification comes back here and takes the other branch.
        message = IngestMessage.from_body(body)
        if message is not None:
            wiring.ingest_fetcher().handle(message)
        else:
            each_key(ingest)(body)

    return batch_item_failures(event, handle)


declare("track_encoding_jobs", (MEDIA_EVENTS_CONSUME, MEDIA_OBJECTS_WRITE, TABLE_READ, TABLE_WRITE))


@bp.on_sqs_message(queue=resources.MEDIA_EVENTS_QUEUE.name, batch_size=BATCH_SIZE)
def track_encoding_jobs(event: SQSEvent) -> dict[str, Any]:
    """MediaConvert "Job State Change" events, as the default-bus rule delivers them."""
    return batch_item_failures(event, lambda body: wiring.pipeline_service().on_job_event(json.loads(body)))
