"""Player events into Kinesis Data Firehose, which writes them to the analytics bucket."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chalicelib.analytics.domain.beacons import EventRecord
from chalicelib.analytics.domain.errors import EventStoreUnavailable

# PutRecordBatch's limits: 500 records and 4 MiB a call.
MAX_BATCH_RECORDS = 500


class FirehoseEventSink:
    def __init__(self, client: Any, stream_name: str) -> None:
        self.client = client
        self.stream_name = stream_name

    def put(self, records: Sequence[EventRecord]) -> None:
        """One JSON object a line, so the files Firehose concatenates stay newline-delimited.
        Records Firehose refused in a batch are sent once more; still refused, the beacon fails
        (the player keeps its events and sends them again)."""
        from botocore.exceptions import BotoCoreError, ClientError

        for start in range(0, len(records), MAX_BATCH_RECORDS):
            pending = [
                {"Data": (json.dumps(r.as_json(), separators=(",", ":")) + "\n").encode()}
                for r in records[start : start + MAX_BATCH_RECORDS]
            ]
            for _ in range(2):
                try:
                    answer = self.client.put_record_batch(DeliveryStreamName=self.stream_name, Records=pending)
                except (ClientError, BotoCoreError) as error:
                    raise EventStoreUnavailable(detail="The event store did not take the events.") from error
                if not answer.get("FailedPutCount"):
                    break
                pending = [
                    p for p, result in zip(pending, answer["RequestResponses"], strict=True) if "ErrorCode" in result
                ]
            else:
                raise EventStoreUnavailable(detail="The event store did not take the events.")
