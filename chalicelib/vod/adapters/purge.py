"""What a purged video leaves behind: its objects in a bucket, and its items in the table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.core.adapters.dynamodb import PK, SK, Table
from chalicelib.core.adapters.versioned import key_args
from chalicelib.core.domain.errors import RepositoryUnavailable
from chalicelib.vod.adapters.direct_uploads import direct_upload_key
from chalicelib.vod.adapters.records import thumbnail_key, track_key, video_key
from chalicelib.vod.adapters.upload_tokens import DynamoUploadTokenRepository
from chalicelib.vod.adapters.uploads import parts_partition, session_key
from chalicelib.vod.domain.tracks import TrackKind

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# S3's DeleteObjects takes at most this many keys, and ListObjectsV2 returns at most as many.
MAX_KEYS = 1000


class S3Sweeper:
    def __init__(self, client: S3Client, bucket: str, page_size: int = MAX_KEYS) -> None:
        self.client = client
        self.bucket = bucket
        self.page_size = page_size

    def list_keys(self, prefix: str) -> Iterator[list[str]]:
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": self.page_size}
        while True:
            try:
                response = self.client.list_objects_v2(**request)
            except ClientError as error:
                raise RepositoryUnavailable(detail=f"Listing {self.bucket}/{prefix} failed.") from error
            keys = [str(item["Key"]) for item in response.get("Contents", [])]
            if keys:
                yield keys
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                return
            request["ContinuationToken"] = token

    def delete_keys(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), MAX_KEYS):
            batch: Any = [{"Key": key} for key in keys[start : start + MAX_KEYS]]
            try:
                # Quiet: the answer lists only the keys that could not be deleted.
                response = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            except ClientError as error:
                raise RepositoryUnavailable(detail=f"Deleting from {self.bucket} failed.") from error
            # DeleteObjects answers 200 even when some keys failed (AccessDenied, SlowDown...).
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise RepositoryUnavailable(
                    detail=f"{len(errors)} of {len(batch)} objects were not deleted from {self.bucket} "
                    f"({first.get('Code')}: {first.get('Key')})."
                )


class DynamoVideoLeftovers:
    """Deletes, one DeleteItem each, the items keyed by a video that is gone. None of them is a
    `video` item, so their own REMOVE records never start another purge."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def remove(self, project_id: str, video_id: str) -> int:
        session = self.table.get(**key_args(session_key(project_id, video_id)))
        token_id = (session or {}).get("token_id")
        if token_id:
            # First: once the session is deleted, nothing names the token any more.
            DynamoUploadTokenRepository(self.table).forget_open_upload(project_id, str(token_id), video_id)
        keys = [(str(item[PK]), str(item[SK])) for item in self._items(project_id, video_id)]
        if session is not None:
            keys.append((str(session[PK]), str(session[SK])))
        for pk, sk in keys:
            self.table.delete(pk, sk)
        return len(keys)

    def _items(self, project_id: str, video_id: str) -> Iterator[dict[str, Any]]:
        # Beside the video in its partition (`<videoId>#media`, and whatever joins it later).
        videos, _ = video_key(project_id, video_id)
        yield from self.table.query(videos, sk_between=(f"{video_id}#", f"{video_id}#~"), consistent=True)
        for kind in TrackKind:
            partition, _ = track_key(project_id, kind, video_id, "")
            yield from self.table.query(partition, consistent=True)
        thumbnail = self.table.get(*thumbnail_key(project_id, video_id))
        if thumbnail is not None:
            yield thumbnail
        yield from self.table.query(parts_partition(project_id, video_id), consistent=True)
        direct = direct_upload_key(project_id, video_id, "")
        yield from self.table.query(direct[PK], sk_between=(direct[SK], f"{direct[SK]}~"), consistent=True)
