"""Each hour's rollup run, recorded in the analytics bucket next to the rows it describes
(`rollup/_runs/<hour>.json`: Athena skips names starting with `_`, and the rollup's lifecycle rule
expires the record with the rows), and the data manifests Athena writes for an INSERT."""

from __future__ import annotations

import json
from collections.abc import Sequence

from botocore.exceptions import ClientError

from chalicelib.analytics.domain.rollup import RollupRun
from chalicelib.core import resources
from chalicelib.core.adapters.storage import S3Bucket

RUNS_PREFIX = f"{resources.ANALYTICS_ROLLUP_PREFIX}_runs/"


class S3RollupRuns:
    def __init__(self, bucket: S3Bucket) -> None:
        self.bucket = bucket

    def last(self, hour_ms: int) -> RollupRun | None:
        try:
            body = json.loads(self.bucket.read_all(f"{RUNS_PREFIX}{hour_ms}.json"))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return RollupRun(str(body["executionId"]), tuple(str(key) for key in body["files"]))

    def record(self, hour_ms: int, run: RollupRun) -> None:
        body = json.dumps({"executionId": run.execution_id, "files": list(run.files)}).encode()
        self.bucket.put(f"{RUNS_PREFIX}{hour_ms}.json", body, "application/json")

    def written(self, manifest_uri: str) -> list[str]:
        """Keys of this bucket a manifest lists (one `s3://bucket/key` a line)."""
        own = f"s3://{self.bucket.bucket}/"
        try:
            text = self.bucket.read_all(manifest_uri.removeprefix(own)).decode()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return []  # expired with the query results (a day): nothing left to find
            raise
        return [line.strip().removeprefix(own) for line in text.splitlines() if line.strip().startswith(own)]

    def remove(self, keys: Sequence[str]) -> None:
        # Only the rollup's own files, whatever a record says.
        self.bucket.delete_many([key for key in keys if key.startswith(resources.ANALYTICS_ROLLUP_PREFIX)])
