"""DynamoDB items of upload sessions and their received parts (docs/data-model.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.core.adapters import records
from chalicelib.core.adapters.dynamodb import PK, SK, Put, Table, Update, project_partition
from chalicelib.core.adapters.versioned import CREATE_ONLY, key_args
from chalicelib.core.clock import to_atom
from chalicelib.core.domain.events import DomainEvent
from chalicelib.vod.adapters.media import media_key, media_source_update
from chalicelib.vod.domain.media import IngestMethod, IngestStatus
from chalicelib.vod.domain.uploads import ContentRange, RangeForm, ReceivedPart, UploadSession, UploadStatus


def session_key(project_id: str, video_id: str) -> dict[str, str]:
    return {PK: project_partition(project_id, "UPLOAD"), SK: video_id}


def parts_partition(project_id: str, video_id: str) -> str:
    return project_partition(project_id, f"UPLOAD#{video_id}")


class DynamoUploadRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def session(self, project_id: str, video_id: str) -> UploadSession | None:
        item = self.table.get(**key_args(session_key(project_id, video_id)))
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
                Put(item=item, **CREATE_ONLY),  # type: ignore[arg-type]
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

    def fail(
        self, project_id: str, video_id: str, form: RangeForm, reason: str, events: Sequence[DomainEvent], now: datetime
    ) -> bool:
        """Ends the upload failed (creating its session if no part was kept yet) and writes the
        reason on the media state with its event, once; False when it was already complete or failed."""
        return self.table.write_if(
            [
                Update(
                    key=session_key(project_id, video_id),
                    expression=(
                        "SET #status = :failed, failure = :reason, #form = if_not_exists(#form, :form), "
                        "#created = if_not_exists(#created, :now), project_id = :project, video_id = :video"
                    ),
                    condition="attribute_not_exists(#status) OR #status = :uploading",
                    names={"#status": "status", "#form": "form", "#created": "created_at"},
                    values={
                        ":failed": UploadStatus.FAILED.value,
                        ":uploading": UploadStatus.UPLOADING.value,
                        ":reason": reason,
                        ":form": form.value,
                        ":now": to_atom(now),
                        ":project": project_id,
                        ":video": video_id,
                    },
                ),
                Update(
                    key=media_key(project_id, video_id),
                    expression="SET entity = :entity, project_id = :project, video_id = :video, failure = :reason, "
                    "updated_at = :now",
                    values={
                        ":entity": "videoMedia",
                        ":project": project_id,
                        ":video": video_id,
                        ":reason": reason,
                        ":now": to_atom(now),
                    },
                ),
                *(records.outbox_put(event) for event in events),
            ]
        )
