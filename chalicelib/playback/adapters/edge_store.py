"""The edge check's store on AWS: a CloudFront KeyValueStore, through the `cloudfront-keyvaluestore`
API. Every write names the store's current ETag (`IfMatch`); the ETag is read with
DescribeKeyValueStore and kept from one write's answer to the next. When another writer changed
the store in between, the write answers ConflictException: the ETag is read again and the write
retried, a few times.

The API is signed with SigV4A only: boto3 needs botocore's CRT extra (`awscrt`) to call it on AWS
(without it every call raises MissingDependencyException). Tests stub the client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.playback.domain.edge import EdgeStoreUnavailable

ATTEMPTS = 5
# Keys per UpdateKeys call. The API reference states no bound; 50 keeps a request small (Terraform's
# provider batches by the same number by default).
BATCH = 50


class KeyValueStoreEdge:
    def __init__(self, client: Any, arn: str, attempts: int = ATTEMPTS) -> None:
        self.client = client
        self.arn = arn
        self.attempts = attempts
        self._etag: str | None = None

    def put(self, key: str, value: str) -> None:
        self._write(lambda etag: self.client.put_key(KvsARN=self.arn, Key=key, Value=value, IfMatch=etag))

    def delete(self, key: str) -> None:
        """Deletes `key`; a key that is not there is deleted already."""
        self._write(lambda etag: self.client.delete_key(KvsARN=self.arn, Key=key, IfMatch=etag), absent_ok=True)

    def put_many(self, entries: dict[str, str]) -> None:
        """Puts many keys with UpdateKeys, `BATCH` keys a call (each call all or nothing)."""
        items = [{"Key": key, "Value": value} for key, value in entries.items()]
        for start in range(0, len(items), BATCH):
            batch = items[start : start + BATCH]
            self._write(lambda etag, batch=batch: self.client.update_keys(KvsARN=self.arn, IfMatch=etag, Puts=batch))  # type: ignore[misc]

    def _write(self, call: Callable[[str], dict[str, Any]], absent_ok: bool = False) -> None:
        for _ in range(self.attempts):
            etag = self._etag or self._describe()
            try:
                self._etag = str(call(etag)["ETag"])
                return
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code == "ConflictException":
                    self._etag = None
                    continue
                if code == "ResourceNotFoundException" and absent_ok:
                    return
                raise EdgeStoreUnavailable(f"{code}: the edge store refused the write") from error
        raise EdgeStoreUnavailable(f"the edge store kept changing under {self.attempts} attempts")

    def _describe(self) -> str:
        try:
            return str(self.client.describe_key_value_store(KvsARN=self.arn)["ETag"])
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            raise EdgeStoreUnavailable(f"{code}: the edge store cannot be read") from error
