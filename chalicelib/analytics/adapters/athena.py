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
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.client = client
        self.database = database
        self.workgroup = workgroup
        self.sleep = sleep
        self.clock = clock
        self.timeout = timeout

    def rows(self, sql: str) -> list[dict[str, str | None]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            execution_id = self._start(sql)
            self._wait(execution_id)
            return self._results(execution_id)
        except (ClientError, BotoCoreError) as error:
            raise EventStoreUnavailable() from error

    def run(self, sql: str, started: Callable[[str], None] = lambda _: None) -> str | None:
        """A statement (the rollup's INSERT) to its end: the S3 URI of its data manifest, the list
        of files it wrote (None: it wrote none). `started` gets the execution id first."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            execution_id = self._start(sql)
            started(execution_id)
            execution = self._wait(execution_id)
        except (ClientError, BotoCoreError) as error:
            raise EventStoreUnavailable() from error
        manifest: str | None = execution.get("Statistics", {}).get("DataManifestLocation")
        return manifest

    def manifest_of(self, execution_id: str) -> str | None:
        """The data manifest of an earlier execution (None: it wrote none, or is unknown)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            execution = self.client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "InvalidRequestException":
                return None
            raise EventStoreUnavailable() from error
        except BotoCoreError as error:
            raise EventStoreUnavailable() from error
        manifest: str | None = execution.get("Statistics", {}).get("DataManifestLocation")
        return manifest

    def _start(self, sql: str) -> str:
        execution_id: str = self.client.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": self.database}, WorkGroup=self.workgroup
        )["QueryExecutionId"]
        return execution_id

    def _wait(self, execution_id: str) -> dict[str, Any]:
        deadline = self.clock() + self.timeout
        delay = FIRST_POLL_SECONDS
        while True:
            execution: dict[str, Any] = self.client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            status = execution["Status"]
            if status["State"] == "SUCCEEDED":
                return execution
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
