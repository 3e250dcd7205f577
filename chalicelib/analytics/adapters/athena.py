"""Queries of the event store through Amazon Athena (the devstack: its DuckDB-backed plane)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalicelib.analytics.domain.errors import EventStoreUnavailable, QueryFailed

FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")
# Polling: Athena answers small queries in about a second; /data must answer within API
# Gateway's 29 s.
FIRST_POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 1.0
TIMEOUT_SECONDS = 25.0
PAGE_SIZE = 1000


class AthenaQueries:
    def __init__(
        self,
        client: Any,
        database: str,
        workgroup: str,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.database = database
        self.workgroup = workgroup
        self.sleep = sleep
        self.clock = clock

    def rows(self, sql: str) -> list[dict[str, str | None]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            execution_id = self.client.start_query_execution(
                QueryString=sql, QueryExecutionContext={"Database": self.database}, WorkGroup=self.workgroup
            )["QueryExecutionId"]
            self._wait(execution_id)
            return self._results(execution_id)
        except (ClientError, BotoCoreError) as error:
            raise EventStoreUnavailable() from error

    def _wait(self, execution_id: str) -> None:
        deadline = self.clock() + TIMEOUT_SECONDS
        delay = FIRST_POLL_SECONDS
        while True:
            status = self.client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                return
            if status["State"] in FINISHED:
                raise QueryFailed(detail=status.get("StateChangeReason"))
            if self.clock() > deadline:
                self.client.stop_query_execution(QueryExecutionId=execution_id)
                raise QueryFailed(detail="The query took too long.")
            self.sleep(delay)
            delay = min(delay * 2, MAX_POLL_SECONDS)

    def _results(self, execution_id: str) -> list[dict[str, str | None]]:
        rows: list[dict[str, str | None]] = []
        names: list[str] = []
        token: str | None = None
        while True:
            request: dict[str, Any] = {"QueryExecutionId": execution_id, "MaxResults": PAGE_SIZE}
            if token:
                request["NextToken"] = token
            page = self.client.get_query_results(**request)
            result_rows = page["ResultSet"]["Rows"]
            if not names:
                names = [c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
                result_rows = result_rows[1:]  # a SELECT's first page starts with the header row
            rows.extend(
                {name: cell.get("VarCharValue") for name, cell in zip(names, row["Data"], strict=True)}
                for row in result_rows
            )
            token = page.get("NextToken")
            if not token:
                return rows
