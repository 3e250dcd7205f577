"""Fixed-window request counters in DynamoDB."""

from __future__ import annotations

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, Table, Update, project_partition


class DynamoRateCounter:
    def __init__(self, table: Table) -> None:
        self.table = table

    def hit(self, project_id: str, bucket: str, window_start: int, window_seconds: int) -> int:
        attributes = self.table.update(
            Update(
                key={PK: project_partition(project_id, f"RATE#{bucket}"), resources.SORT_KEY: str(window_start)},
                expression="ADD #count :one SET #ttl = :ttl",
                names={"#count": "count", "#ttl": resources.TTL_ATTRIBUTE},
                values={":one": 1, ":ttl": window_start + 2 * window_seconds},
            ),
            return_new=True,
        )
        assert attributes is not None
        return int(attributes["count"])
