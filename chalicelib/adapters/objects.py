"""S3 object storage for the files the API receives (captions, chapters, images)."""

from __future__ import annotations

from typing import Any, Protocol

from botocore.exceptions import ClientError

from chalicelib.domain.errors import RepositoryUnavailable


class S3Client(Protocol):
    """The part of boto3's S3 client used here (mypy-boto3-s3 is not a dev dependency)."""

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, ContentType: str) -> Any: ...  # noqa: N803
    def delete_object(self, *, Bucket: str, Key: str) -> Any: ...  # noqa: N803


class S3ObjectStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except ClientError as error:
            raise RepositoryUnavailable(detail="The file could not be stored; retry the request.") from error

    def delete(self, key: str) -> None:
        """Deleting a missing key succeeds in S3, so a retried delete is harmless."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            raise RepositoryUnavailable(detail="The file could not be deleted; retry the request.") from error
