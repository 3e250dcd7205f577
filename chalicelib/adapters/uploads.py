"""DynamoDB items for uploads, upload tokens and each video's media state (docs/data-model.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib import resources
from chalicelib.adapters import records
from chalicelib.adapters.dynamodb import PK, SK, Put, Table, Update, project_partition
from chalicelib.clock import epoch_seconds, from_atom, to_atom
from chalicelib.domain.events import DomainEvent
from chalicelib.domain.ingest import DirectUpload, DirectUploadStatus
from chalicelib.domain.media import IngestMethod, IngestStatus, MediaState, QualityStatus
from chalicelib.domain.uploads import ContentRange, ReceivedPart, UploadSession, UploadStatus, UploadToken

_NEW = {"condition": "attribute_not_exists(#pk)", "names": {"#pk": PK}}
TOKEN_INDEX_PREFIX = "UPLOADTOKEN#"
MEDIA_SUFFIX = "#media"


# -- upload sessions and their parts ----------------------------------------------------------


def session_key(project_id: str, video_id: str) -> dict[str, str]:
    return {PK: project_partition(project_id, "UPLOAD"), SK: video_id}


def parts_partition(project_id: str, video_id: str) -> str:
    return project_partition(project_id, f"UPLOAD#{video_id}")


class DynamoUploadRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def session(self, project_id: str, video_id: str) -> UploadSession | None:
        item = self.table.get(**_pk_sk(session_key(project_id, video_id)))
        return None if item is None else UploadSession.model_validate(records.item_body(item))

    def has_part(self, project_id: str, video_id: str, content_range: ContentRange) -> bool:
        return self.table.get(parts_partition(project_id, video_id), content_range.key) is not None

    def parts(self, project_id: str, video_id: str) -> list[ReceivedPart]:
        return [
            ReceivedPart.model_validate(records.item_body(item))
            for item in self.table.query(parts_partition(project_id, video_id))
        ]

    def record_part(
        self,
        project_id: str,
        video_id: str,
        content_range: ContentRange,
        part: ReceivedPart,
        token_id: str | None,
        filename: str,
        now: datetime,
    ) -> bool:
        """Stores the part and counts it in its session, once. False when it was already there
        (a retried request, or a duplicate S3 event) or the upload is already complete."""
        names = {"#form": "form", "#created": "created_at", "#status": "status", "#count": "received_count",
                 "#bytes": "received_bytes", "#project": "project_id", "#video": "video_id", "#token": "token_id",
                 "#file": "filename"}  # fmt: skip
        values: dict[str, Any] = {":form": content_range.form.value, ":now": to_atom(now), ":one": 1,
                                  ":size": part.size, ":uploading": UploadStatus.UPLOADING.value,
                                  ":project": project_id, ":video": video_id, ":token": token_id or "",
                                  ":file": filename}  # fmt: skip
        expression = (
            "SET #form = if_not_exists(#form, :form), #created = if_not_exists(#created, :now), "
            "#status = if_not_exists(#status, :uploading), #project = :project, #video = :video, "
            "#token = if_not_exists(#token, :token), #file = if_not_exists(#file, :file)"
        )
        if content_range.total_parts is not None:
            expression += ", total_parts = :parts"
            values[":parts"] = content_range.total_parts
        if content_range.total_bytes is not None:
            expression += ", total_bytes = :total"
            values[":total"] = content_range.total_bytes
        expression += " ADD #count :one, #bytes :size"
        item = {PK: parts_partition(project_id, video_id), SK: part.key, "entity": "uploadPart",
                **part.model_dump(mode="json")}  # fmt: skip
        return self.table.write_if(
            [
                Put(item=item, **_NEW),  # type: ignore[arg-type]
                Update(
                    key=session_key(project_id, video_id),
                    expression=expression,
                    condition="attribute_not_exists(#status) OR #status = :uploading",
                    names=names,
                    values=values,
                ),
            ]
        )

    def complete(
        self,
        project_id: str,
        video_id: str,
        filesize: int,
        source_key: str,
        events: Sequence[DomainEvent],
        now: datetime,
    ) -> bool:
        """Marks the upload complete and the source uploaded, with its event, once."""
        return self.table.write_if(
            [
                Update(
                    key=session_key(project_id, video_id),
                    expression="SET #status = :uploaded",
                    condition="#status = :uploading",
                    names={"#status": "status"},
                    values={":uploaded": UploadStatus.UPLOADED.value, ":uploading": UploadStatus.UPLOADING.value},
                ),
                media_source_update(
                    project_id, video_id, IngestStatus.UPLOADED, IngestMethod.UPLOAD, filesize, source_key, now
                ),
                *(records.outbox_put(event) for event in events),
            ]
        )


def _pk_sk(key: dict[str, str]) -> dict[str, str]:
    return {"pk": key[PK], "sk": key[SK]}


# -- media state ------------------------------------------------------------------------------


def media_key(project_id: str, video_id: str) -> dict[str, str]:
    pk, sk = records.video_key(project_id, video_id)
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
        item = self.table.get(**_pk_sk(media_key(project_id, video_id)))
        return None if item is None else records.media_from_item(item)

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
                *(records.outbox_put(event) for event in events),
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
                *(records.outbox_put(event) for event in events),
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
                *(records.outbox_put(event) for event in events),
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
                *(records.outbox_put(event) for event in events),
            ]
        )


# -- direct (presigned S3 multipart) uploads --------------------------------------------------


def direct_upload_key(project_id: str, video_id: str, upload_id: str) -> dict[str, str]:
    return {PK: project_partition(project_id, "MPUPLOAD"), SK: f"{video_id}#{upload_id}"}


class DynamoDirectUploadRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create(self, upload: DirectUpload, ttl: int) -> None:
        item = {**direct_upload_key(upload.project_id, upload.video_id, upload.upload_id), "entity": "directUpload",
                resources.TTL_ATTRIBUTE: ttl, **upload.model_dump(mode="json")}  # fmt: skip
        self.table.write([Put(item=item, **_NEW)])  # type: ignore[arg-type]

    def get(self, project_id: str, video_id: str, upload_id: str) -> DirectUpload | None:
        item = self.table.get(**_pk_sk(direct_upload_key(project_id, video_id, upload_id)))
        return None if item is None else _direct_upload(item)

    def list_for_video(self, project_id: str, video_id: str) -> list[DirectUpload]:
        key = direct_upload_key(project_id, video_id, "")
        items = self.table.query(key[PK], sk_between=(key[SK], key[SK] + "~"))
        return [_direct_upload(item) for item in items]

    def complete(self, upload: DirectUpload, source_key: str, events: Sequence[DomainEvent], now: datetime) -> bool:
        """The upload completed, the media state `uploaded` and its event in one transaction, once,
        and only for a video without a source (two open uploads of one video: the first wins)."""
        source = media_source_update(
            upload.project_id, upload.video_id, IngestStatus.UPLOADED, IngestMethod.UPLOAD, upload.filesize,
            source_key, now,
        )  # fmt: skip
        return self.table.write_if(
            [
                Update(
                    key=direct_upload_key(upload.project_id, upload.video_id, upload.upload_id),
                    expression="SET #status = :completed",
                    condition="#status = :open",
                    names={"#status": "status"},
                    values={
                        ":completed": DirectUploadStatus.COMPLETED.value,
                        ":open": DirectUploadStatus.OPEN.value,
                    },
                ),
                Update(
                    key=source.key,
                    expression=source.expression,
                    condition="attribute_not_exists(ingest_status)",
                    values=source.values,
                ),
                *(records.outbox_put(event) for event in events),
            ]
        )

    def set_status(self, upload: DirectUpload, status: DirectUploadStatus) -> None:
        self.table.update(
            Update(
                key=direct_upload_key(upload.project_id, upload.video_id, upload.upload_id),
                expression="SET #status = :status",
                names={"#status": "status"},
                values={":status": status.value},
            )
        )


def _direct_upload(item: dict[str, Any]) -> DirectUpload:
    return DirectUpload.model_validate(records.item_body(item))


# -- upload tokens ----------------------------------------------------------------------------


def token_item(token: UploadToken) -> dict[str, Any]:
    """The token's own `ttl` (seconds) is kept as `ttl_seconds`: `ttl` is the table's expiry
    attribute, set to when the token expires (DynamoDB then removes it; never for ttl 0)."""
    expires = token.expires_at
    return {
        PK: project_partition(token.project_id, "UPLOADTOKEN"),
        SK: token.token_id,
        resources.GSI1_PARTITION_KEY: TOKEN_INDEX_PREFIX + token.token_id,
        resources.GSI1_SORT_KEY: token.project_id,
        "entity": "uploadToken",
        "open_uploads": {},
        "project_id": token.project_id,
        "token_id": token.token_id,
        "ttl_seconds": token.ttl,
        "created_at": to_atom(token.created_at),
        resources.TTL_ATTRIBUTE: epoch_seconds(expires) if expires else None,
    }


def token_from_item(item: dict[str, Any]) -> UploadToken:
    return UploadToken(
        project_id=item["project_id"],
        token_id=item["token_id"],
        ttl=int(item["ttl_seconds"]),
        created_at=from_atom(item["created_at"]),
    )


class DynamoUploadTokenRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create(self, token: UploadToken, writes: Sequence[Put | Update] = ()) -> None:
        self.table.write([Put(item=token_item(token), **_NEW), *writes])  # type: ignore[arg-type]

    def get(self, project_id: str, token_id: str) -> UploadToken | None:
        item = self.table.get(project_partition(project_id, "UPLOADTOKEN"), token_id)
        return None if item is None else token_from_item(item)

    def find(self, token_id: str) -> UploadToken | None:
        """By token alone (delegated uploads carry no credentials)."""
        for item in self.table.query(TOKEN_INDEX_PREFIX + token_id, index=resources.GSI1):
            # The index is eventually consistent: confirm against the item itself.
            return self.get(str(item["project_id"]), token_id)
        return None

    def list(self, project_id: str) -> list[UploadToken]:
        items = self.table.query(project_partition(project_id, "UPLOADTOKEN"))
        return [token_from_item(item) for item in items]

    def delete(self, token: UploadToken) -> None:
        self.table.delete(project_partition(token.project_id, "UPLOADTOKEN"), token.token_id)

    def remember_open_upload(self, token: UploadToken, slot: str, video_id: str) -> None:
        """Which video a token's chunked upload goes to: the SDK sends no videoId with later
        chunks of a non-progressive delegated upload (compat §4.4)."""
        self.table.update(
            Update(
                key={PK: project_partition(token.project_id, "UPLOADTOKEN"), SK: token.token_id},
                expression="SET open_uploads.#slot = :video",
                condition="attribute_exists(open_uploads)",
                names={"#slot": slot},
                values={":video": video_id},
            )
        )

    def open_upload(self, token: UploadToken, slot: str) -> str | None:
        item = self.table.get(project_partition(token.project_id, "UPLOADTOKEN"), token.token_id)
        if item is None:
            return None
        value = (item.get("open_uploads") or {}).get(slot)
        return str(value) if value else None
