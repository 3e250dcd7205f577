"""Usage counters in the shared table, bytes stored in the media bucket, and the project list.

Items (docs/data-model.md):
- `P#<project>#USAGE` / `<day>`: the day's counters (`encodedSeconds`, `liveSeconds`, ADDed) and
  the last `storedBytes` measured for it;
- `P#<project>#USAGE_EVENT` / `<eventId>`: an event that was counted (kept 14 days, longer than
  any redelivery), written in the same transaction as its counts: a redelivered event fails the
  condition and counts nothing;
- `P#<project>#USAGE_BROADCAST` / `<liveStreamId>`: a broadcast that started and has not been
  counted yet;
- `P#<project>#USAGE_REPORT` / `<day>`: the day's usage event was written to the outbox (same
  transaction), so a rerun of the schedule never emits it twice.

The project list is the platform's index entry (GSI1PK `PROJECTS` → GSI1SK = project id); a
project's videos are its `P#<project>#VIDEO` items, whose files are under `vod/<videoId>/`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.analytics.domain.usage import Count, Counter, UsageDay
from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, Delete, Put, Table, Update, project_partition
from chalicelib.core.adapters.records import outbox_put
from chalicelib.core.clock import epoch_seconds, from_atom, to_atom, utc_now
from chalicelib.core.domain.errors import RepositoryUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from chalicelib.core.domain.events import UsageDailyReady

TTL = resources.TTL_ATTRIBUTE
COUNTED_RETENTION = timedelta(days=14)
PROJECTS_INDEX_PK = "PROJECTS"
VIDEO_COLLECTION = "VIDEO"
MEDIA_PREFIX = "vod/"
UPLOADS_PREFIXES = (resources.SOURCES_PREFIX, resources.INCOMING_PREFIX)


def _key(project_id: str, collection: str, sort: str) -> dict[str, str]:
    return {PK: project_partition(project_id, collection), SK: sort}


class DynamoUsageCounters:
    def __init__(self, table: Table) -> None:
        self.table = table

    def count(self, count: Count, closing: str | None = None) -> bool:
        marker = Put(
            item={
                **_key(count.project_id, "USAGE_EVENT", count.event_id),
                "entity": "usageEvent",
                TTL: epoch_seconds(utc_now() + COUNTED_RETENTION),
            },
            condition="attribute_not_exists(#pk)",
            names={"#pk": PK},
        )
        writes: list[Put | Update | Delete] = [marker]
        writes += [
            Update(
                key=_key(count.project_id, "USAGE", day),
                expression="ADD #counter :seconds SET #entity = :entity",
                names={"#counter": count.counter.value, "#entity": "entity"},
                values={":seconds": seconds, ":entity": "usage"},
            )
            for day, seconds in sorted(count.seconds_by_day.items())
        ]
        if closing is not None:
            writes.append(Delete(key=_key(count.project_id, "USAGE_BROADCAST", closing)))
        return self.table.write_if(writes)

    def counted(self, project_id: str, event_id: str) -> bool:
        return self.table.get(**_pk_sk(project_id, "USAGE_EVENT", event_id)) is not None

    def open_broadcast(self, project_id: str, live_stream_id: str, started_at: datetime) -> None:
        # A later broadcast's start replaces an earlier one's; a late redelivery of an earlier start
        # never replaces a later one (ATOM strings in UTC sort as times).
        item = {**_key(project_id, "USAGE_BROADCAST", live_stream_id), "entity": "usageBroadcast"}
        item["startedAt"] = to_atom(started_at)
        condition = "attribute_not_exists(#pk) OR #started < :started"
        names = {"#pk": PK, "#started": "startedAt"}
        self.table.write_if([Put(item=item, condition=condition, names=names, values={":started": item["startedAt"]})])

    def broadcast_start(self, project_id: str, live_stream_id: str) -> datetime | None:
        item = self.table.get(**_pk_sk(project_id, "USAGE_BROADCAST", live_stream_id))
        return None if item is None else from_atom(str(item["startedAt"]))

    def days(self, project_id: str, first: str, last: str) -> dict[str, UsageDay]:
        rows = {}
        for item in self.table.query(project_partition(project_id, "USAGE"), sk_between=(first, last)):
            day = str(item[SK])
            rows[day] = UsageDay(
                day=day,
                encoded_seconds=float(item.get(Counter.ENCODED.value, 0)),
                live_seconds=float(item.get(Counter.LIVE.value, 0)),
                room_seconds=float(item.get(Counter.ROOM.value, 0)),
                stored_bytes=item.get("storedBytes"),
            )
        return rows

    def measure_storage(self, project_id: str, day: str, stored_bytes: int) -> None:
        self.table.update(
            Update(
                key=_key(project_id, "USAGE", day),
                expression="SET #stored = :stored, #entity = :entity",
                names={"#stored": "storedBytes", "#entity": "entity"},
                values={":stored": stored_bytes, ":entity": "usage"},
            )
        )

    def report(self, event: UsageDailyReady) -> bool:
        item = {**_key(event.project_id, "USAGE_REPORT", event.day), "entity": "usageReport", "eventId": event.event_id}
        marker = Put(
            item=item,
            condition="attribute_not_exists(#pk)",
            names={"#pk": PK},
        )
        return self.table.write_if([marker, outbox_put(event)])


def _pk_sk(project_id: str, collection: str, sort: str) -> dict[str, str]:
    return {"pk": project_partition(project_id, collection), "sk": sort}


class DynamoProjectDirectory:
    def __init__(self, table: Table) -> None:
        self.table = table

    def project_ids(self) -> list[str]:
        items = self.table.query(PROJECTS_INDEX_PK, index=resources.GSI1)
        return [str(item[resources.GSI1_SORT_KEY]) for item in items]


class S3MediaStorage:
    """Bytes stored: a ListObjectsV2 sweep of each of the project's video prefixes in the media
    bucket, and of the project's two prefixes in the uploads bucket (the VOD context keys sources
    `sources/<project>/<videoId>` and unfinished uploads `incoming/<project>/…`; uploads.py). One
    request per 1,000 objects: $0.005 per 1,000 requests in us-east-1."""

    def __init__(self, table: Table, client: S3Client, bucket: str, uploads_bucket: str) -> None:
        self.table = table
        self.client = client
        self.bucket = bucket
        self.uploads_bucket = uploads_bucket

    def stored_bytes(self, project_id: str) -> int:
        total = sum(self._prefix_bytes(self.uploads_bucket, f"{p}{project_id}/") for p in UPLOADS_PREFIXES)
        for item in self.table.query(project_partition(project_id, VIDEO_COLLECTION)):
            if item.get("entity") == "video":  # the video's own item, not its media state's
                total += self._prefix_bytes(self.bucket, f"{MEDIA_PREFIX}{item[SK]}/")
        return total

    def _prefix_bytes(self, bucket: str, prefix: str) -> int:
        from botocore.exceptions import ClientError

        total = 0
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            try:
                page = self.client.list_objects_v2(**request)
            except ClientError as error:
                raise RepositoryUnavailable(detail="A media bucket could not be listed.") from error
            total += sum(int(entry.get("Size", 0)) for entry in page.get("Contents", []))
            if not page.get("IsTruncated"):
                return total
            request["ContinuationToken"] = page["NextContinuationToken"]
