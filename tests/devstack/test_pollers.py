"""The devstack's Lambda event-source mappings, against moto's server over HTTP."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
import pytest
from chalice import Chalice
from chalice.app import DynamoDBEvent, SNSEvent, SQSEvent
from moto.server import ThreadedMotoServer

from devstack import pollers as pollers_module
from devstack.pollers import EventSourcePollers

pytestmark = pytest.mark.integration

T = TypeVar("T")
Reply = Callable[[list[dict[str, Any]]], Any]


def accept(records: list[dict[str, Any]]) -> None:
    return None


@dataclass
class Delivery:
    records: list[dict[str, Any]]
    ok: bool  # False when the handler raised


@dataclass
class Recorder:
    """What the test app's handlers received, and how they answer (set by each test)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sqs: list[Delivery] = field(default_factory=list)
    stream: list[Delivery] = field(default_factory=list)
    sqs_reply: Reply = accept
    stream_reply: Reply = accept

    def reset(self) -> None:
        with self.lock:
            self.sqs, self.stream = [], []
            self.sqs_reply = self.stream_reply = accept

    def handle(self, log: list[Delivery], reply: Reply, records: list[dict[str, Any]]) -> Any:
        try:
            result = reply(records)
        except Exception:
            with self.lock:
                log.append(Delivery(records, ok=False))
            raise
        with self.lock:
            log.append(Delivery(records, ok=True))
        return result

    def bodies(self, ok: bool | None = None) -> list[str]:
        with self.lock:
            return [r["body"] for d in self.sqs if ok in (None, d.ok) for r in d.records]

    def stream_keys(self, ok: bool | None = None) -> list[str]:
        with self.lock:
            return [r["dynamodb"]["Keys"]["id"]["S"] for d in self.stream if ok in (None, d.ok) for r in d.records]


RECORDER = Recorder()
app = Chalice("pollers-test")


@app.on_sqs_message(queue="q", batch_size=5)
def on_message(event: SQSEvent) -> Any:
    return RECORDER.handle(RECORDER.sqs, RECORDER.sqs_reply, event.to_dict()["Records"])


@app.on_dynamodb_record(
    stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
    batch_size=10,
    starting_position="TRIM_HORIZON",
)
def on_change(event: DynamoDBEvent) -> Any:
    # Iterating parses every record the way Chalice does in Lambda (it needs ApproximateCreationDateTime).
    assert all(record.table_name == "t" and record.timestamp for record in event)
    return RECORDER.handle(RECORDER.stream, RECORDER.stream_reply, event.to_dict()["Records"])


@app.on_sns_message(topic="ignored")
def on_sns(event: SNSEvent) -> None:
    return None


@app.schedule("rate(1 hour)")
def every_hour(event: Any) -> None:
    return None


def eventually(condition: Callable[[], T], timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.05)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto's backends live in this process and outlive any one server.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    RECORDER.reset()
    yield endpoint
    server.stop()


@pytest.fixture
def pollers(aws: str) -> Iterator[EventSourcePollers]:
    pollers = EventSourcePollers(app)
    yield pollers
    pollers.stop()


def sqs_client() -> Any:
    # Untyped on purpose: the tests pass attribute names as plain strings.
    return boto3.client("sqs")


def create_queue(**attributes: str) -> str:
    return str(sqs_client().create_queue(QueueName="q", Attributes=attributes)["QueueUrl"])


def queue_drained(url: str) -> bool:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs_client().get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return all(attributes[name] == "0" for name in names)


def send(url: str, *bodies: str) -> None:
    entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
    assert not sqs_client().send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def create_table() -> Any:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return client


def put(client: Any, *ids: str) -> None:
    for item_id in ids:
        client.put_item(TableName="t", Item={"id": {"S": item_id}})


def test_only_sqs_and_dynamodb_sources_are_polled() -> None:
    assert len(app.event_sources) == 4
    assert EventSourcePollers(app).count == 2


def test_sqs_message_is_delivered_as_a_lambda_event_and_deleted(pollers: EventSourcePollers) -> None:
    url = create_queue()
    boto3.client("sqs").send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )
    pollers.start()

    eventually(lambda: RECORDER.bodies(ok=True))
    eventually(lambda: queue_drained(url))
    [record] = RECORDER.sqs[0].records
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:q"
    assert record["awsRegion"] == "us-east-1"
    assert record["messageId"] and record["receiptHandle"] and record["md5OfBody"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["SentTimestamp"].isdigit()
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "greeting",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert RECORDER.bodies() == ["hello"]


def test_partial_batch_failure_deletes_the_others_and_redelivers_the_failed_one(
    pollers: EventSourcePollers,
) -> None:
    url = create_queue(VisibilityTimeout="1")
    send(url, "m0", "m1", "m2", "m3", "m4")
    failed_once: set[str] = set()

    def reply(records: list[dict[str, Any]]) -> Any:
        failing = [r for r in records if r["body"] == "m2" and "m2" not in failed_once]
        failed_once.update(r["body"] for r in failing)
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failing]}

    RECORDER.sqs_reply = reply
    pollers.start()

    eventually(lambda: RECORDER.bodies().count("m2") == 2)
    eventually(lambda: queue_drained(url))
    assert sorted(r["body"] for r in RECORDER.sqs[0].records) == ["m0", "m1", "m2", "m3", "m4"]
    assert sorted(RECORDER.bodies()) == ["m0", "m1", "m2", "m2", "m3", "m4"]
    [redelivered] = RECORDER.sqs[-1].records
    assert redelivered["attributes"]["ApproximateReceiveCount"] == "2"


def test_raising_handler_gets_the_whole_batch_again(pollers: EventSourcePollers) -> None:
    url = create_queue(VisibilityTimeout="1")
    send(url, "a", "b", "c")
    calls: list[int] = []

    def reply(records: list[dict[str, Any]]) -> None:
        calls.append(len(records))
        if len(calls) == 1:
            raise RuntimeError("first attempt fails")

    RECORDER.sqs_reply = reply
    pollers.start()

    eventually(lambda: sorted(RECORDER.bodies(ok=True)) == ["a", "b", "c"])
    eventually(lambda: queue_drained(url))
    assert sorted(RECORDER.bodies(ok=False)) == ["a", "b", "c"]
    assert sorted(RECORDER.bodies()) == ["a", "a", "b", "b", "c", "c"]


def test_poison_message_ends_in_the_dead_letter_queue(pollers: EventSourcePollers) -> None:
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="q-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url = create_queue(VisibilityTimeout="1", RedrivePolicy=redrive)
    send(url, "poison")

    def reply(records: list[dict[str, Any]]) -> None:
        raise ValueError("cannot handle this message")

    RECORDER.sqs_reply = reply
    pollers.start()

    def in_dlq() -> bool:
        attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
        return attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"

    eventually(in_dlq)
    assert queue_drained(url)
    assert RECORDER.bodies() == ["poison", "poison"]
    assert RECORDER.bodies(ok=True) == []


def test_poller_survives_a_missing_queue_and_picks_it_up_later(pollers: EventSourcePollers) -> None:
    pollers.start()
    url = create_queue()
    send(url, "late")

    eventually(lambda: RECORDER.bodies(ok=True) == ["late"])


def test_stream_changes_arrive_in_order_with_images(pollers: EventSourcePollers) -> None:
    client = create_table()
    client.put_item(TableName="t", Item={"id": {"S": "v1"}, "status": {"S": "created"}, "payload": {"B": b"\x00\x01"}})
    client.update_item(
        TableName="t",
        Key={"id": {"S": "v1"}},
        UpdateExpression="SET #s = :s REMOVE payload",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "ready"}},
    )
    client.delete_item(TableName="t", Key={"id": {"S": "v1"}})
    stream_arn = client.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    pollers.start()

    eventually(lambda: len(RECORDER.stream_keys()) == 3)
    records = [r for d in RECORDER.stream for r in d.records]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = (r["dynamodb"] for r in records)
    # Binary values arrive base64-encoded, as Lambda delivers them.
    assert insert["NewImage"] == {"id": {"S": "v1"}, "status": {"S": "created"}, "payload": {"B": "AAE="}}
    assert "OldImage" not in insert
    assert modify["OldImage"]["status"] == {"S": "created"} and modify["NewImage"]["status"] == {"S": "ready"}
    assert remove["OldImage"]["status"] == {"S": "ready"} and "NewImage" not in remove
    assert all(r["Keys"] == {"id": {"S": "v1"}} for r in (insert, modify, remove))
    numbers = [int(r["SequenceNumber"]) for r in (insert, modify, remove)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    for record in records:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventSourceARN"] == stream_arn
        assert record["awsRegion"] == "us-east-1"
        assert record["eventVersion"] and record["eventID"]
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert record["dynamodb"]["SizeBytes"] > 0


def test_stream_handler_failure_is_retried_without_loss_or_duplicates(pollers: EventSourcePollers) -> None:
    client = create_table()
    put(client, "a", "b", "c")
    failures = iter([True, True])

    def reply(records: list[dict[str, Any]]) -> None:
        if next(failures, False):
            raise RuntimeError("transient")

    RECORDER.stream_reply = reply
    pollers.start()

    eventually(lambda: RECORDER.stream_keys(ok=True) == ["a", "b", "c"])
    put(client, "d")
    eventually(lambda: "d" in RECORDER.stream_keys(ok=True))
    assert RECORDER.stream_keys(ok=True) == ["a", "b", "c", "d"]
    assert RECORDER.stream_keys(ok=False) == ["a", "b", "c", "a", "b", "c"]


def test_stream_batch_item_failure_retries_from_the_failed_record(pollers: EventSourcePollers) -> None:
    client = create_table()
    put(client, "a", "b", "c")
    reported: list[str] = []

    def reply(records: list[dict[str, Any]]) -> Any:
        if reported:
            return None
        reported.append(records[1]["dynamodb"]["SequenceNumber"])
        return {"batchItemFailures": [{"itemIdentifier": reported[0]}]}

    RECORDER.stream_reply = reply
    pollers.start()

    eventually(lambda: len(RECORDER.stream) == 2)
    put(client, "d")
    eventually(lambda: "d" in RECORDER.stream_keys())
    first, second = (d.records for d in RECORDER.stream[:2])
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in first] == ["a", "b", "c"]
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in second] == ["b", "c"]
    assert RECORDER.stream_keys() == ["a", "b", "c", "b", "c", "d"]


def test_stream_record_that_always_fails_is_isolated_and_skipped(
    pollers: EventSourcePollers, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(pollers_module, "RETRY_BACKOFF_SECONDS", 0.01)
    client = create_table()
    put(client, "a", "bad", "c", "d")

    def reply(records: list[dict[str, Any]]) -> None:
        if any(r["dynamodb"]["Keys"]["id"]["S"] == "bad" for r in records):
            raise RuntimeError("poison record")

    RECORDER.stream_reply = reply
    pollers.start()

    eventually(lambda: "d" in RECORDER.stream_keys(ok=True))
    assert RECORDER.stream_keys(ok=True) == ["a", "c", "d"]
    assert "dropping stream record" in caplog.text
    # 5 attempts with the whole batch, then with halves until "bad" is alone.
    assert len([d for d in RECORDER.stream if not d.ok]) == 3 * pollers_module.STREAM_MAX_ATTEMPTS


def test_stop_returns_promptly_and_ends_the_threads(pollers: EventSourcePollers) -> None:
    url = create_queue()
    create_table()
    pollers.start()
    send(url, "ping")
    eventually(lambda: RECORDER.bodies(ok=True))

    started = time.monotonic()
    pollers.stop()

    assert time.monotonic() - started < 3
    assert not [t for t in threading.enumerate() if t.name.startswith("poller-")]


def _stream_record(event_name: str, image: str, entity: str) -> dict[str, Any]:
    return {"eventName": event_name, "dynamodb": {image: {"PK": {"S": "P#p1#X"}, "entity": {"S": entity}}}}


@pytest.mark.parametrize(
    ("record", "delivered"),
    [
        (_stream_record("INSERT", "NewImage", "outbox"), True),
        (_stream_record("REMOVE", "OldImage", "video"), True),
        (_stream_record("REMOVE", "OldImage", "liveStream"), True),
        (_stream_record("INSERT", "NewImage", "video"), False),
        (_stream_record("MODIFY", "NewImage", "outbox"), False),
        (_stream_record("REMOVE", "OldImage", "outbox"), False),  # an event leaving by its TTL
        ({"eventName": "MODIFY", "dynamodb": {"NewImage": {"count": {"N": "3"}}}}, False),  # a rate counter
        ({"eventName": "INSERT", "dynamodb": {}}, False),
    ],
)
def test_the_outbox_publisher_sees_only_what_its_filters_let_through(record: dict[str, Any], delivered: bool) -> None:
    from chalicelib.core import resources

    patterns = resources.STREAM_FILTERS["publish_outbox"]
    assert any(pollers_module.matches_filter(pattern, record) for pattern in patterns) is delivered


def test_records_no_filter_lets_through_are_skipped_and_the_shard_moves_past_them(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.core import resources

    monkeypatch.setitem(resources.STREAM_FILTERS, "on_change", ({"dynamodb": {"NewImage": {"id": {"S": ["a", "c"]}}}},))
    pollers = EventSourcePollers(app)
    client = create_table()
    put(client, "a", "b")
    pollers.start()
    try:
        eventually(lambda: RECORDER.stream_keys() == ["a"])
        put(client, "b2", "c")
        eventually(lambda: RECORDER.stream_keys() == ["a", "c"])
        time.sleep(1)  # nothing else arrives, and nothing is delivered twice
        assert RECORDER.stream_keys() == ["a", "c"]
    finally:
        pollers.stop()
