"""DynamoDB items of resumable direct (presigned multipart) uploads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters import records
from chalicelib.core.adapters.dynamodb import PK, SK, Put, Table, Update, project_partition
from chalicelib.core.adapters.versioned import CREATE_ONLY, key_args
from chalicelib.core.domain.events import DomainEvent
from chalicelib.vod.adapters.media import media_source_update
from chalicelib.vod.domain.ingest import DirectUpload, DirectUploadStatus
from chalicelib.vod.domain.media import IngestMethod, IngestStatus


def direct_upload_key(project_id: str, video_id: str, upload_id: str) -> dict[str, str]:
    return {PK: project_partition(project_id, "MPUPLOAD"), SK: f"{video_id}#{upload_id}"}


class DynamoDirectUploadRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create(self, upload: DirectUpload, ttl: int) -> None:
        item = {**direct_upload_key(upload.project_id, upload.video_id, upload.upload_id), "entity": "directUpload",
                resources.TTL_ATTRIBUTE: ttl, **upload.model_dump(mode="json")}  # fmt: skip
        self.table.write([Put(item=item, **CREATE_ONLY)])  # type: ignore[arg-type]

    def get(self, project_id: str, video_id: str, upload_id: str) -> DirectUpload | None:
        item = self.table.get(**key_args(direct_upload_key(project_id, video_id, upload_id)))
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
