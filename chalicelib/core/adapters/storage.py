"""S3 objects: stored request bodies, assembled sources and media files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.core.domain.errors import RepositoryUnavailable
from chalicelib.core.domain.objects import OCTET_STREAM, Slice, StoredObject

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3Bucket:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def head(self, key: str) -> StoredObject | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return StoredObject(
            key=key,
            size=int(response["ContentLength"]),
            etag=str(response.get("ETag", "")).strip('"'),
            content_type=str(response.get("ContentType", "")),
            metadata=dict(response.get("Metadata", {})),
        )

    def read(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of the object (end is clamped by S3)."""
        if end <= start:
            return b""
        response = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}")
        data: bytes = response["Body"].read()
        return data

    def read_all(self, key: str) -> bytes:
        data: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return data

    def put(self, key: str, body: bytes, content_type: str, metadata: dict[str, str] | None = None) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata or {}
            )
        except ClientError as error:
            raise RepositoryUnavailable(detail="The file could not be stored; retry the request.") from error

    def concatenate(self, key: str, slices: Sequence[Slice], content_type: str, metadata: dict[str, str]) -> str:
        """Writes `key` as the slices in order with server-side ranged copies (no bytes pass
        through here). Every slice but the last must be at least 5 MiB (an S3 rule)."""
        upload_id = self.create_multipart(key, metadata, content_type)
        try:
            parts: list[Any] = []
            for number, piece in enumerate(slices, start=1):
                copied = self.client.upload_part_copy(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": self.bucket, "Key": piece.key},
                    CopySourceRange=f"bytes={piece.start}-{piece.end - 1}",
                )
                parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
            done = self.complete_multipart(key, upload_id, parts)
        except BaseException:
            self.abort_multipart(key, upload_id)
            raise
        return str(done.get("ETag", "")).strip('"')

    def create_multipart(self, key: str, metadata: dict[str, str], content_type: str = OCTET_STREAM) -> str:
        response = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type, Metadata=metadata
        )
        return str(response["UploadId"])

    def complete_multipart(self, key: str, upload_id: str, parts: list[Any]) -> Any:
        return self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Aborting an upload that is already gone succeeds (a retried DELETE is harmless)."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "NoSuchUpload":
                raise

    def copy_from(self, source_bucket: str, source_key: str, key: str, content_type: str | None = None) -> None:
        extra: dict[str, Any] = {}
        if content_type is not None:
            extra = {"ContentType": content_type, "MetadataDirective": "REPLACE"}
        self.client.copy_object(
            Bucket=self.bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key}, **extra
        )

    def delete(self, key: str) -> None:
        """Deleting a missing key succeeds in S3, so a retried delete is harmless."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            raise RepositoryUnavailable(detail="The file could not be deleted; retry the request.") from error

    def delete_many(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            if batch:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})  # type: ignore[typeddict-item]

    def url(self) -> str:
        return f"s3://{self.bucket}"
