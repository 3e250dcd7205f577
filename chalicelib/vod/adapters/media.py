"""DynamoDB item of each video's media state: source, probe, renditions (docs/data-model.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.core.adapters.dynamodb import PK, SK, Table, Update
from chalicelib.core.adapters.records import outbox_put
from chalicelib.core.adapters.versioned import key_args
from chalicelib.core.clock import to_atom
from chalicelib.core.domain.events import DomainEvent
from chalicelib.vod.adapters.records import media_from_item, video_key
from chalicelib.vod.domain.media import IngestMethod, IngestStatus, MediaState, QualityStatus

MEDIA_SUFFIX = "#media"


def media_key(project_id: str, video_id: str) -> dict[str, str]:
    pk, sk = video_key(project_id, video_id)
    return {PK: pk, SK: sk + MEDIA_SUFFIX}


def media_source_update(
    project_id: str,
    video_id: str,
    status: IngestStatus,
    method: IngestMethod,
    filesize: int | None,
    source_key: str,
    now: datetime,
) -> Update:
    return Update(
        key=media_key(project_id, video_id),
        expression=(
            "SET entity = :entity, project_id = :project, video_id = :video, ingest_status = :status, "
            "ingest_method = :method, filesize = :size, source_key = :source, updated_at = :now"
        ),
        values={
            ":entity": "videoMedia",
            ":project": project_id,
            ":video": video_id,
            ":status": status.value,
            ":method": method.value,
            ":size": filesize,
            ":source": source_key,
            ":now": to_atom(now),
        },
    )


class DynamoMediaRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, video_id: str) -> MediaState | None:
        item = self.table.get(**key_args(media_key(project_id, video_id)))
        return None if item is None else media_from_item(item)

    def claim(self, project_id: str, video_id: str, marker: str, attribute: str, now: datetime) -> bool:
        """Sets `attribute` to `marker` unless it already holds it: a duplicate S3 or job event
        finds its work claimed and stops."""
        return self.table.write_if(
            [
                Update(
                    key=media_key(project_id, video_id),
                    expression="SET #a = :m, updated_at = :now, entity = :entity, project_id = :p, video_id = :v",
                    condition="attribute_not_exists(#a) OR #a <> :m",
                    names={"#a": attribute},
                    values={
                        ":m": marker,
                        ":now": to_atom(now),
                        ":entity": "videoMedia",
                        ":p": project_id,
                        ":v": video_id,
                    },
                )
            ]
        )

    def release(self, project_id: str, video_id: str, marker: str, attribute: str) -> None:
        """Gives a claim back (the work failed midway) so that a retry may take it."""
        self.table.write_if(
            [
                Update(
                    key=media_key(project_id, video_id),
                    expression="REMOVE #a",
                    condition="#a = :m",
                    names={"#a": attribute},
                    values={":m": marker},
                )
            ]
        )

    def set_fields(
        self, project_id: str, video_id: str, fields: dict[str, Any], now: datetime, events: Sequence[DomainEvent] = ()
    ) -> None:
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": value for i, value in enumerate(fields.values())}
        assignments = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        self.table.write(
            [
                Update(
                    key=media_key(project_id, video_id),
                    expression=f"SET {assignments}, updated_at = :now",
                    names=names,
                    values={**values, ":now": to_atom(now)},
                ),
                *(outbox_put(event) for event in events),
            ]
        )

    def set_quality(
        self,
        project_id: str,
        video_id: str,
        key: str,
        status: QualityStatus,
        now: datetime,
        unless: Sequence[QualityStatus],
        extra: dict[str, Any] | None = None,
        events: Sequence[DomainEvent] = (),
    ) -> bool:
        """Moves one quality to `status` unless it is already in one of `unless` (events arrive
        out of order and twice); its events are written only by the move that happens."""
        names = {"#q": "qualities", "#k": key}
        values: dict[str, Any] = {":s": status.value, ":now": to_atom(now)}
        assignments = ["#q.#k = :s", "updated_at = :now"]
        for i, (path, value) in enumerate((extra or {}).items()):
            parts = path.split(".")
            placeholders = []
            for j, part in enumerate(parts):
                names[f"#e{i}_{j}"] = part
                placeholders.append(f"#e{i}_{j}")
            values[f":e{i}"] = value
            assignments.append(f"{'.'.join(placeholders)} = :e{i}")
        condition = "attribute_exists(#q.#k)"
        for i, blocked in enumerate(unless):
            values[f":u{i}"] = blocked.value
            condition += f" AND #q.#k <> :u{i}"
        return self.table.write_if(
            [
                Update(
                    key=media_key(project_id, video_id),
                    expression="SET " + ", ".join(assignments),
                    condition=condition,
                    names=names,
                    values=values,
                ),
                *(outbox_put(event) for event in events),
            ]
        )

    def choose_thumbnail(self, project_id: str, video_id: str, file: str, source: str, now: datetime) -> bool:
        """An automatic thumbnail never replaces one a user uploaded or picked."""
        condition = "attribute_not_exists(thumbnail_source) OR thumbnail_source = :auto" if source == "auto" else None
        values: dict[str, Any] = {":file": file, ":source": source, ":t": True, ":now": to_atom(now),
                                  ":entity": "videoMedia", ":p": project_id, ":v": video_id}  # fmt: skip
        if condition:
            values[":auto"] = "auto"
        return self.table.write_if(
            [
                Update(
                    key=media_key(project_id, video_id),
                    expression="SET thumbnail_file = :file, thumbnail_source = :source, thumbnail = :t, "
                    "updated_at = :now, entity = :entity, project_id = :p, video_id = :v",
                    condition=condition,
                    values=values,
                )
            ]
        )

    def flag_once(
        self, project_id: str, video_id: str, flag: str, now: datetime, events: Sequence[DomainEvent]
    ) -> bool:
        """Sets a boolean flag (playable, ready) the first time only, with its event."""
        return self.table.write_if(
            [
                Update(
                    key=media_key(project_id, video_id),
                    expression="SET #f = :t, updated_at = :now",
                    condition="attribute_exists(#pk) AND (attribute_not_exists(#f) OR #f = :false)",
                    names={"#f": flag, "#pk": PK},
                    values={":t": True, ":false": False, ":now": to_atom(now)},
                ),
                *(outbox_put(event) for event in events),
            ]
        )

    def lease(self, project_id: str, video_id: str, attribute: str, now: datetime, until: datetime) -> bool:
        """Takes `attribute` as a lease until `until` unless another holder's lease is still running:
        a message redelivered while its first copy is still fetching must not fetch again."""
        return self.table.write_if(
            [
                Update(
                    key=media_key(project_id, video_id),
                    expression="SET #a = :until, updated_at = :now",
                    condition="attribute_exists(#pk) AND (attribute_not_exists(#a) OR #a < :now)",
                    names={"#a": attribute, "#pk": PK},
                    values={":until": to_atom(until), ":now": to_atom(now)},
                )
            ]
        )

    def mark_ingested(
        self,
        project_id: str,
        video_id: str,
        filesize: int,
        source_key: str,
        events: Sequence[DomainEvent],
        now: datetime,
    ) -> bool:
        """`ingesting` → `ingested` with its event (video.source.uploaded), once: the condition makes
        a redelivered message's second attempt a no-op."""
        return self.table.write_if(
            [
                Update(
                    key=media_key(project_id, video_id),
                    expression="SET ingest_status = :ingested, filesize = :size, source_key = :key, updated_at = :now",
                    condition="ingest_status = :ingesting",
                    values={
                        ":ingested": IngestStatus.INGESTED.value,
                        ":ingesting": IngestStatus.INGESTING.value,
                        ":size": filesize,
                        ":key": source_key,
                        ":now": to_atom(now),
                    },
                ),
                *(outbox_put(event) for event in events),
            ]
        )
