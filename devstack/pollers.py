"""Lambda event-source mappings for the local stack: SQS queues and DynamoDB streams.

Each mapping runs in its own thread and behaves like its AWS counterpart with
ReportBatchItemFailures enabled (Chalice cannot set it; the deployed mappings get it through
CDK overrides): the handler gets the exact Lambda event, SQS messages are deleted only once
handled, and a stream shard is checkpointed only after its batch succeeds.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from chalice import Chalice
from chalice.app import DynamoDBEventConfig, SQSEventConfig

from chalicelib.core import resources
from devstack.gateway import LambdaContext

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]

SQS_WAIT_SECONDS = 1  # long-poll short enough for stop() to return promptly
STREAM_IDLE_SECONDS = 0.2
# Lambda reads an SQS queue with several concurrent pollers (five to start with) and adds more
# while a backlog lasts; one shard of a stream is read by one poller at a time. Eight keep a
# webhook backlog draining at the rate the devstack produces it (benchmarks/webhook_fanout: with
# four, deliveries waited 17 s at p50 in the queue; with eight, 1.6 s).
SQS_CONCURRENCY = 8
STREAM_MAX_ATTEMPTS = 5
RETRY_BACKOFF_SECONDS = 0.1
MAX_RETRY_BACKOFF_SECONDS = 1.0
SHARD_REFRESH_SECONDS = 10.0
ERROR_BACKOFF_SECONDS = (0.5, 5.0)
STOP_TIMEOUT_SECONDS = 5.0
WIRE_TIMEOUT_SECONDS = 30.0  # above SQS_WAIT_SECONDS: a long poll is not a timeout
LAMBDA_TIMEOUT_MS = 60_000  # Chalice's default lambda_timeout


class _Poller(Protocol):
    name: str

    def connect(self) -> None: ...

    def poll(self) -> None: ...

    def reset(self) -> None: ...


class EventSourcePollers:
    def __init__(self, app: Chalice) -> None:
        self._stop = threading.Event()
        self._pollers: list[_Poller] = []
        self._traffic: list[threading.Event] = []
        for config in app.event_sources:
            if isinstance(config, SQSEventConfig):
                handler = app.handler_map[config.name]
                traffic = threading.Event()
                self._traffic.append(traffic)
                self._pollers.extend(
                    _SqsPoller(config, handler, self._stop, traffic, lead=index == 0)
                    for index in range(SQS_CONCURRENCY)
                )
            elif isinstance(config, DynamoDBEventConfig):
                self._pollers.append(_StreamPoller(config, app.handler_map[config.name], self._stop))
        self.count = len({poller.name for poller in self._pollers})
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        for poller in self._pollers:
            # Here rather than in the threads: creating clients from the shared default session
            # concurrently is not thread-safe in boto3.
            poller.connect()
            thread = threading.Thread(target=self._run, args=(poller,), name=f"poller-{poller.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for traffic in self._traffic:
            traffic.set()  # wakes the pollers waiting for traffic
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s still busy in a handler; leaving it behind (daemon thread)", thread.name)
        self._threads = []

    def _run(self, poller: _Poller) -> None:
        delay = ERROR_BACKOFF_SECONDS[0]
        while not self._stop.is_set():
            try:
                poller.poll()
                delay = ERROR_BACKOFF_SECONDS[0]
            except EndpointConnectionError:
                # The emulator is gone (`devstack up` stops when it notices): one line, no traceback.
                log.warning("event source %s: the AWS emulator is unreachable; retrying in %.1fs", poller.name, delay)
                poller.reset()
                self._stop.wait(delay)
                delay = min(delay * 2, ERROR_BACKOFF_SECONDS[1])
            except Exception:
                log.exception("event source %s failed; retrying in %.1fs", poller.name, delay)
                # The emulator may have been reset or the resource recreated: look everything up again.
                poller.reset()
                self._stop.wait(delay)
                delay = min(delay * 2, ERROR_BACKOFF_SECONDS[1])


def _invoke(handler: Handler, name: str, event: dict[str, Any]) -> tuple[bool, Any]:
    """(True, result) on success, (False, None) when the handler raised."""
    try:
        return True, handler(event, LambdaContext(function_name=name, timeout_ms=LAMBDA_TIMEOUT_MS))
    except Exception:
        log.exception("handler %s failed on a batch of %d records", name, len(event["Records"]))
        return False, None


def _failed_items(result: Any, identifiers: list[str]) -> set[str] | None:
    """The identifiers reported in batchItemFailures, or None when Lambda counts the whole batch as failed."""
    if result is None or (isinstance(result, dict) and not result.get("batchItemFailures")):
        return set()
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if isinstance(failures, list) and all(isinstance(item, dict) for item in failures):
        failed = {item.get("itemIdentifier") for item in failures}
        # An empty, null or unknown itemIdentifier fails the whole batch, as in Lambda.
        if failed <= set(identifiers):
            return failed
    log.warning("not a valid batch item failure report, so the whole batch failed: %r", result)
    return None


def _jsonable(value: Any) -> Any:
    """Lambda events carry binary values base64-encoded, where boto3 hands back bytes."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


class WireClient:
    """A JSON-protocol AWS call sent and answered as wire JSON, for the calls the pollers make
    several times a second. Through botocore each spent more CPU on signing, endpoint rules and
    parsing than the emulator spent answering it: most of the devstack process's CPU under API
    load went to its event-source pollers. The emulator checks no signature; it routes by the
    credential scope's service."""

    def __init__(self, client: Any) -> None:
        metadata = client.meta.service_model.metadata
        self._url = client.meta.endpoint_url
        self._target = metadata["targetPrefix"]
        self._content_type = f"application/x-amz-json-{metadata.get('jsonVersion', '1.0')}"
        service = metadata.get("signingName", metadata["endpointPrefix"])
        self._authorization = (
            f"AWS4-HMAC-SHA256 Credential=devstack/20000101/{client.meta.region_name}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )
        self._http = urllib3.PoolManager(maxsize=1)

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.request(
                "POST",
                self._url,
                body=json.dumps(params),
                headers={
                    "Content-Type": self._content_type,
                    "X-Amz-Target": f"{self._target}.{operation}",
                    "Authorization": self._authorization,
                },
                timeout=WIRE_TIMEOUT_SECONDS,
                retries=False,
            )
        except urllib3.exceptions.HTTPError as error:
            raise EndpointConnectionError(endpoint_url=self._url, error=error) from error
        body: dict[str, Any] = json.loads(response.data or b"{}")
        if response.status != 200:
            code = str(body.get("__type", "")).rsplit("#", 1)[-1] or str(response.status)
            message = str(body.get("message", body.get("Message", "")))
            raise ClientError({"Error": {"Code": code, "Message": message}}, operation)
        return body


class _SqsPoller:
    """One of a queue's pollers. The lead always long-polls; the others join while the queue has
    traffic (as Lambda scales its pollers), so an idle devstack makes one call per queue a second."""

    def __init__(
        self, config: SQSEventConfig, handler: Handler, stop: threading.Event, traffic: threading.Event, lead: bool
    ) -> None:
        self.name = config.name
        self._config = config
        self._handler = handler
        self._stop = stop
        self._traffic = traffic
        self._lead = lead
        self._client: Any = None
        self._wire: WireClient | None = None
        self._queue_url: str | None = None
        self._queue_arn = ""

    def connect(self) -> None:
        self._client = boto3.client("sqs")
        self._wire = WireClient(self._client)

    def reset(self) -> None:
        self._queue_url = None

    def _open(self) -> str:
        if self._config.queue_arn:
            _, _, _, _, account, queue = self._config.queue_arn.split(":")
            url = self._client.get_queue_url(QueueName=queue, QueueOwnerAWSAccountId=account)["QueueUrl"]
        else:
            url = self._client.get_queue_url(QueueName=self._config.queue)["QueueUrl"]
        attributes = self._client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        self._queue_arn = attributes["QueueArn"]
        return str(url)

    def poll(self) -> None:
        if not self._lead and not self._traffic.is_set():
            self._traffic.wait(SQS_WAIT_SECONDS)
            return
        url = self._queue_url = self._queue_url or self._open()
        messages = self._receive(url)
        if not messages:
            if not self._lead:
                self._traffic.clear()
            return
        self._traffic.set()
        records = [self._record(message) for message in messages]
        ok, result = _invoke(self._handler, self.name, {"Records": records})
        ids = [record["messageId"] for record in records]
        failed = _failed_items(result, ids) if ok else None
        if failed is None:
            # Nothing is deleted: the whole batch comes back after the queue's visibility timeout.
            return
        self._delete(url, [m["ReceiptHandle"] for m in messages if m["MessageId"] not in failed])

    def _receive(self, url: str) -> list[dict[str, Any]]:
        # Like Lambda, gather up to batch_size messages for at most the batching window.
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self._config.maximum_batching_window_in_seconds
        while len(messages) < self._config.batch_size and not self._stop.is_set():
            assert self._wire is not None
            request = {
                "QueueUrl": url,
                "MaxNumberOfMessages": min(self._config.batch_size - len(messages), 10),
                "WaitTimeSeconds": SQS_WAIT_SECONDS,
                "MessageSystemAttributeNames": ["All"],
                "MessageAttributeNames": ["All"],
            }
            response = self._wire.call("ReceiveMessage", request)
            messages.extend(response.get("Messages", []))
            if not messages or time.monotonic() >= deadline:
                break
        return messages

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": self._client.meta.region_name,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def _delete(self, url: str, handles: list[str]) -> None:
        for start in range(0, len(handles), 10):
            entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles[start : start + 10])]
            response = self._client.delete_message_batch(QueueUrl=url, Entries=entries)
            for failure in response.get("Failed", []):
                # Typically a handler that outlived the visibility timeout: the message is redelivered.
                log.warning("%s: could not delete a message: %s", self.name, failure.get("Message"))


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": _jsonable(value.get("BinaryListValues", [])),
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _jsonable(value["BinaryValue"])
    return attribute


@dataclass
class _Shard:
    shard_id: str
    start: str  # iterator type used until there is a checkpoint
    batch_limit: int
    iterator: str | None = None
    closed: bool = False
    checkpoint: str | None = None  # sequence number of the last record the handler accepted
    pending: list[dict[str, Any]] = field(default_factory=list)  # fetched, not yet accepted
    attempts: int = 0
    retry_at: float = 0.0


def matches_filter(pattern: dict[str, Any], value: Any) -> bool:
    """Lambda's event filtering for the literal-list patterns the app declares: every key present,
    nested objects matched recursively, a leaf one of the listed values."""
    for key, expected in pattern.items():
        if not isinstance(value, dict) or key not in value:
            return False
        if isinstance(expected, dict):
            if not matches_filter(expected, value[key]):
                return False
        elif value[key] not in expected:
            return False
    return True


class _StreamPoller:
    def __init__(self, config: DynamoDBEventConfig, handler: Handler, stop: threading.Event) -> None:
        self.name = config.name
        # As the deployed mapping's FilterCriteria: records matching none are skipped, never delivered.
        self._filters = resources.STREAM_FILTERS.get(config.name, ())
        self._config = config
        self._handler = handler
        self._stop = stop
        self._dynamodb: Any = None
        self._streams: Any = None
        self._stream_arn: str | None = None
        self._shards_arn: str | None = None  # the stream that _shards (and their checkpoints) belong to
        self._shards: dict[str, _Shard] = {}
        self._listed_at = 0.0

    def connect(self) -> None:
        self._dynamodb = boto3.client("dynamodb")
        # botocore's account-based streams endpoint is not routed by moto.
        self._streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
        self._wire = WireClient(self._streams)

    def reset(self) -> None:
        self._stream_arn = None

    def _open(self) -> str:
        # The decorator's ARN is a packaging-time literal; the emulated table has its own stream ARN.
        source = self._config.stream_arn
        table = source.split("table/", 1)[1].split("/", 1)[0] if "table/" in source else source
        arn = self._dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
        if not arn:
            raise LookupError(f"table {table} has no stream enabled")
        if arn != self._shards_arn:
            self._shards = {}
        for shard in self._shards.values():
            # Iterators may not survive whatever made us reopen; checkpoints do.
            shard.iterator, shard.pending = None, []
        self._shards_arn = arn
        self._listed_at = 0.0
        return str(arn)

    def poll(self) -> None:
        arn = self._stream_arn = self._stream_arn or self._open()
        if time.monotonic() - self._listed_at > SHARD_REFRESH_SECONDS:
            self._list_shards(arn)
        wait = STREAM_IDLE_SECONDS
        for shard in list(self._shards.values()):
            wait = min(wait, self._advance(arn, shard))
        if wait > 0:
            self._stop.wait(wait)

    def _list_shards(self, arn: str) -> None:
        # Shards present when the mapping starts begin at starting_position; later ones (splits) at the start.
        start = "TRIM_HORIZON" if self._shards else self._config.starting_position
        for shard in self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            if shard["ShardId"] not in self._shards:
                self._shards[shard["ShardId"]] = _Shard(shard["ShardId"], start, self._config.batch_size)
        self._listed_at = time.monotonic()

    def _advance(self, arn: str, shard: _Shard) -> float:
        """Fetch and deliver at most one batch; returns how long the shard can wait for its next turn."""
        if not shard.pending and not shard.closed:
            self._fetch(arn, shard)
        if not shard.pending:
            return STREAM_IDLE_SECONDS
        backoff = shard.retry_at - time.monotonic()
        if backoff > 0:
            return backoff
        self._deliver(arn, shard)
        return 0.0

    def _fetch(self, arn: str, shard: _Shard) -> None:
        if shard.iterator is None:
            position: dict[str, str] = {"ShardIteratorType": shard.start}
            if shard.checkpoint is not None:
                position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.checkpoint}
            shard.iterator = self._streams.get_shard_iterator(StreamArn=arn, ShardId=shard.shard_id, **position)[
                "ShardIterator"
            ]
        # Its wire JSON is already what Lambda hands a function (attribute values typed, binary
        # base64, times in epoch seconds), so botocore does not parse it only for _record to undo.
        response = self._wire.call("GetRecords", {"ShardIterator": shard.iterator, "Limit": 1000})
        shard.pending = [self._record(arn, raw) for raw in response.get("Records", [])]
        shard.batch_limit = self._config.batch_size  # a bisection only lasts for the read it started in
        if "NextShardIterator" not in response:
            shard.iterator, shard.closed = None, True
        elif shard.pending:
            # An empty read leaves the position unchanged, so the current iterator is kept: moto
            # stores every iterator it hands out forever, two a second when idle.
            shard.iterator = response["NextShardIterator"]

    def _record(self, arn: str, raw: dict[str, Any]) -> dict[str, Any]:
        created = raw["dynamodb"].get("ApproximateCreationDateTime")
        if created is not None:
            # Lambda sends whole epoch seconds, and Chalice's DynamoDBRecord needs a number here.
            raw["dynamodb"]["ApproximateCreationDateTime"] = int(created)
        return {**raw, "awsRegion": self._streams.meta.region_name, "eventSourceARN": arn}

    def _deliver(self, arn: str, shard: _Shard) -> None:
        batch = shard.pending[: shard.batch_limit]
        sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in batch]
        wanted = [record for record in batch if self._wanted(record)]
        failed: set[str] | None = set()
        if wanted:
            ok, result = _invoke(self._handler, self.name, {"Records": wanted})
            failed = _failed_items(result, [record["dynamodb"]["SequenceNumber"] for record in wanted]) if ok else None
        accepted = len(batch) if failed == set() else 0
        if failed:
            # Lambda checkpoints just before the lowest failed sequence number and retries from there.
            accepted = min(sequence_numbers.index(number) for number in failed)
        if accepted:
            shard.checkpoint = sequence_numbers[accepted - 1]
            shard.pending = shard.pending[accepted:]
            shard.attempts = 0
        if accepted < len(batch):
            self._retry(shard, len(batch) - accepted)

    def _wanted(self, record: dict[str, Any]) -> bool:
        return not self._filters or any(matches_filter(pattern, record) for pattern in self._filters)

    def _retry(self, shard: _Shard, failing: int) -> None:
        # MaximumRetryAttempts + BisectBatchOnFunctionError: split a failing batch, then skip
        # a record that fails on its own, so one bad record cannot stall the shard forever.
        shard.attempts += 1
        if shard.attempts >= STREAM_MAX_ATTEMPTS:
            shard.attempts = 0
            if failing > 1:
                shard.batch_limit = (failing + 1) // 2
            else:
                dropped = shard.pending.pop(0)
                shard.checkpoint = dropped["dynamodb"]["SequenceNumber"]
                log.error("%s: dropping stream record after %d attempts: %s", self.name, STREAM_MAX_ATTEMPTS, dropped)
        delay = min(RETRY_BACKOFF_SECONDS * 2 ** max(shard.attempts - 1, 0), MAX_RETRY_BACKOFF_SECONDS)
        shard.retry_at = time.monotonic() + delay
