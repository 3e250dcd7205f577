"""A stand-in for Amazon Athena's query API, speaking its JSON protocol on loopback, that runs the
queries in DuckDB over the analytics bucket's event files in the emulated S3.

The app's `boto3.client("athena")` is pointed here with AWS_ENDPOINT_URL_ATHENA: moto's Athena
records queries but runs none. The SQL the app sends is the SQL Athena runs (one query builder,
chalicelib/analytics/domain/queries.py); the table `events` is a DuckDB view over the files Firehose
wrote (newline-delimited JSON, GZIP when the key ends in .gz), with the Glue table's columns
(resources.ANALYTICS_COLUMNS). Files are copied once from S3 by key and ETag and rewritten as
Parquet partitioned by project and day; `hourly` is the rollup (queries.rollup_select) of every
file, held in memory. The bucket is listed at most every SYNC_SECONDS.

Operations: StartQueryExecution (runs the query at once), GetQueryExecution, GetQueryResults
(pages of `MaxResults`, header row first as Athena sends it), StopQueryExecution.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb

from chalicelib.analytics.domain import queries
from chalicelib.core import resources

logger = logging.getLogger(__name__)
TARGET_PREFIX = "AmazonAthena."
MAX_RESULTS = 1000
# Glue's column types as DuckDB reads them from JSON.
_DUCKDB_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "double": "DOUBLE"}
_ATHENA_TYPES = {"VARCHAR": "varchar", "BIGINT": "bigint", "DOUBLE": "double", "HUGEINT": "bigint"}


class AthenaError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


SYNC_SECONDS = 1.0  # the bucket is listed at most this often (a beacon shows up within 10 s)


class EventFiles:
    """The event files under the analytics bucket's prefix, mirrored into a local directory as
    Parquet partitioned by project and day (so a query's `dt` condition skips the other days' files),
    with the hourly rollup of each file (queries.rollup_select) held in DuckDB's memory."""

    def __init__(self, s3: Any, bucket: str, cache_dir: Path, prefix: str = resources.ANALYTICS_EVENTS_PREFIX) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix
        self.cache_dir = cache_dir
        # Every object is converted again on the first sync (nothing is known yet): a previous
        # run's files would hold objects deleted since, or an older table's columns.
        shutil.rmtree(cache_dir / "raw", ignore_errors=True)
        self._lock = threading.Lock()
        self._files: dict[str, tuple[str, str]] = {}  # key → (ETag, the cached files' name stem)
        self._listed = float("-inf")
        self.connection = duckdb.connect()
        hourly = ", ".join(f"{name} {_DUCKDB_TYPES[kind]}" for name, kind in queries.ROLLUP_COLUMNS)
        self.connection.execute(f"CREATE TABLE hourly_rows (stem VARCHAR, {hourly}, project VARCHAR, dt VARCHAR)")

    def sync(self) -> None:
        if time.monotonic() - self._listed < SYNC_SECONDS:
            return
        seen: set[str] = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                key, etag = item["Key"], item["ETag"]
                seen.add(key)
                if self._files.get(key, ("", ""))[0] != etag:
                    self._add(key, etag)
        for key in set(self._files) - seen:  # expired by the lifecycle rule, or deleted
            self._remove(key)
        self._listed = time.monotonic()

    def _add(self, key: str, etag: str) -> None:
        if key in self._files:
            self._remove(key)
        stem = uuid.uuid5(uuid.NAMESPACE_URL, f"{key} {etag}").hex
        download = self.cache_dir / f"{stem}{'.json.gz' if key.endswith('.gz') else '.json'}"
        download.write_bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        try:
            events_view(self.connection, [download])
            self.connection.execute(
                f"COPY (SELECT * FROM events) TO '{self.cache_dir / 'raw'}' (FORMAT parquet, "
                f"PARTITION_BY (project, dt), OVERWRITE_OR_IGNORE, FILENAME_PATTERN '{stem}_{{i}}')"
            )
            self.connection.execute(f"INSERT INTO hourly_rows SELECT '{stem}', * FROM ({queries.rollup_select()})")
        finally:
            download.unlink(missing_ok=True)
        self._files[key] = (etag, stem)

    def _remove(self, key: str) -> None:
        stem = self._files.pop(key)[1]
        for path in (self.cache_dir / "raw").glob(f"*/*/{stem}_*.parquet"):
            path.unlink(missing_ok=True)
        self.connection.execute(f"DELETE FROM hourly_rows WHERE stem = '{stem}'")

    def run(self, sql: str) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
        """Syncs (at most every SYNC_SECONDS), then runs one query over `events` and `hourly`."""
        with self._lock:
            self.sync()
            columns = (*resources.ANALYTICS_COLUMNS, *resources.ANALYTICS_PARTITIONS)
            if any((self.cache_dir / "raw").glob("*/*/*.parquet")):
                raw = str(self.cache_dir / "raw" / "*" / "*" / "*.parquet").replace("'", "''")
                names = ", ".join(name for name, _ in columns)
                self.connection.execute(
                    f"CREATE OR REPLACE VIEW events AS SELECT {names} FROM read_parquet('{raw}', "
                    "hive_partitioning = true, hive_types = {'project': 'VARCHAR', 'dt': 'VARCHAR'}, "
                    "hive_types_autocast = false)"
                )
            else:
                events_view(self.connection, [])
            names = ", ".join(name for name, _ in (*queries.ROLLUP_COLUMNS, *resources.ANALYTICS_PARTITIONS))
            self.connection.execute(f"CREATE OR REPLACE VIEW {queries.ROLLUP_TABLE} AS SELECT {names} FROM hourly_rows")
            cursor = self.connection.execute(sql)
            return _described(cursor), cursor.fetchall()


def events_view(connection: duckdb.DuckDBPyConnection, files: list[Path]) -> None:
    """`events`: the Glue table's columns and partitions, read from the files (or empty)."""
    columns = (*resources.ANALYTICS_COLUMNS, *resources.ANALYTICS_PARTITIONS)
    if not files:
        select = ", ".join(f"CAST(NULL AS {_DUCKDB_TYPES[kind]}) AS {name}" for name, kind in columns)
        connection.execute(f"CREATE OR REPLACE VIEW events AS SELECT {select} WHERE false")
        return
    spec = "{" + ", ".join(f"'{name}': '{_DUCKDB_TYPES[kind]}'" for name, kind in columns) + "}"
    paths = "[" + ", ".join("'" + str(path).replace("'", "''") + "'" for path in files) + "]"
    connection.execute(
        f"CREATE OR REPLACE VIEW events AS SELECT * FROM read_json({paths}, format = 'newline_delimited', "
        f"columns = {spec}, compression = 'auto')"
    )


def run_query(files: list[Path], sql: str) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
    """Runs one query against the event files: (column names and Athena types, rows)."""
    with duckdb.connect() as connection:
        events_view(connection, files)
        cursor = connection.execute(sql)
        return _described(cursor), cursor.fetchall()


def _described(cursor: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return [(d[0], _ATHENA_TYPES.get(str(d[1]).upper(), "varchar")) for d in cursor.description or []]


class AthenaPlane:
    def __init__(
        self, run: Callable[[str], tuple[list[tuple[str, str]], list[tuple[Any, ...]]]], region: str = "us-east-1"
    ) -> None:
        self.run = run
        self.region = region
        self._lock = threading.Lock()
        self.executions: dict[str, dict[str, Any]] = {}
        self._server: _Server | None = None

    def start(self) -> str:
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, name="athenaplane-http", daemon=True).start()
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"_{operation}", None)
        if handler is None:
            raise AthenaError("InvalidRequestException", f"The devstack's Athena plane does not implement {operation}.")
        result: dict[str, Any] = handler(params)
        return result

    def _StartQueryExecution(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - Athena's names
        query = params.get("QueryString")
        if not isinstance(query, str) or not query:
            raise AthenaError("InvalidRequestException", "QueryString is required.")
        execution_id = str(uuid.uuid4())
        submitted = time.time()
        execution: dict[str, Any] = {
            "QueryExecutionId": execution_id,
            "Query": query,
            "StatementType": "DML",
            "WorkGroup": params.get("WorkGroup", "primary"),
            "QueryExecutionContext": params.get("QueryExecutionContext", {}),
        }
        try:
            columns, rows = self.run(query)
            state, reason = "SUCCEEDED", None
        except duckdb.Error as error:
            columns, rows, state, reason = [], [], "FAILED", str(error)
        status: dict[str, Any] = {"State": state, "SubmissionDateTime": submitted, "CompletionDateTime": time.time()}
        if reason:
            status["StateChangeReason"] = reason
            status["AthenaError"] = {"ErrorCategory": 2, "ErrorType": 1006, "Retryable": False, "ErrorMessage": reason}
        execution["Status"] = status
        execution["Statistics"] = {"EngineExecutionTimeInMillis": int((time.time() - submitted) * 1000)}
        with self._lock:
            self.executions[execution_id] = {"execution": execution, "columns": columns, "rows": rows}
        return {"QueryExecutionId": execution_id}

    def _GetQueryExecution(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"QueryExecution": self._execution(params)["execution"]}

    def _StopQueryExecution(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._execution(params)
        return {}

    def _GetQueryResults(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        stored = self._execution(params)
        if stored["execution"]["Status"]["State"] != "SUCCEEDED":
            raise AthenaError("InvalidRequestException", "Query has not yet finished or has failed.")
        limit = min(int(params.get("MaxResults", MAX_RESULTS)), MAX_RESULTS)
        offset = int(params.get("NextToken") or 0)
        # Athena's first page starts with the header row.
        header = [{"Data": [{"VarCharValue": name} for name, _ in stored["columns"]]}] if offset == 0 else []
        page = stored["rows"][offset : offset + limit - len(header)]
        rows = [{"Data": [{} if v is None else {"VarCharValue": _text(v)} for v in row]} for row in page]
        result: dict[str, Any] = {
            "UpdateCount": 0,
            "ResultSet": {
                "Rows": header + rows,
                "ResultSetMetadata": {
                    "ColumnInfo": [
                        {"CatalogName": "hive", "Name": name, "Label": name, "Type": kind, "Nullable": "UNKNOWN"}
                        for name, kind in stored["columns"]
                    ]
                },
            },
        }
        next_offset = offset + len(page)
        if next_offset < len(stored["rows"]):
            result["NextToken"] = str(next_offset)
        return result

    def _execution(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            stored = self.executions.get(str(params.get("QueryExecutionId")))
        if stored is None:
            raise AthenaError("InvalidRequestException", "QueryExecution was not found.")
        return stored


def _text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def start_athena_plane(s3: Any, bucket: str, cache_dir: Path | None = None) -> tuple[AthenaPlane, str]:
    directory = cache_dir or Path(tempfile.mkdtemp(prefix="videoplane-analytics-"))
    directory.mkdir(parents=True, exist_ok=True)
    plane = AthenaPlane(EventFiles(s3, bucket, directory).run)
    return plane, plane.start()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, plane: AthenaPlane) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.plane = plane


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for the client's
    # delayed ACK (~40 ms an answer, three answers a query).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        logger.debug("athenaplane: " + format, *args)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        target = self.headers.get("X-Amz-Target", "")
        try:
            if not target.startswith(TARGET_PREFIX):
                raise AthenaError("InvalidRequestException", "Missing X-Amz-Target.")
            params = json.loads(self.rfile.read(length) or b"{}")
            result = self.server.plane.call(target[len(TARGET_PREFIX) :], params)
        except json.JSONDecodeError:
            self._json(400, {"__type": "InvalidRequestException", "Message": "The request body is not JSON."})
            return
        except AthenaError as error:
            self._json(400, {"__type": error.code, "Message": error.message})
            return
        self._json(200, result)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
