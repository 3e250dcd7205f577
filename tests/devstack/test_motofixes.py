"""The devstack's moto fixes keep TransactWriteItems all-or-nothing, stream included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib.core import resources
from devstack import motofixes

pytestmark = pytest.mark.integration
TABLE = "fixes"


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    motofixes.apply()
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(TableName=TABLE, **resources.TABLE)
        yield client


def put(pk: str, value: int, must_be_new: bool = True) -> dict[str, Any]:
    request: dict[str, Any] = {"TableName": TABLE, "Item": {"PK": {"S": pk}, "SK": {"S": "x"}, "v": {"N": str(value)}}}
    if must_be_new:
        request["ConditionExpression"] = "attribute_not_exists(PK)"
    return {"Put": request}


def stream_records(client: Any) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return list(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def value(client: Any, pk: str) -> int | None:
    item = client.get_item(TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": "x"}}).get("Item")
    return None if item is None else int(item["v"]["N"])


def test_successful_transaction_writes_everything(ddb: Any) -> None:
    ddb.transact_write_items(TransactItems=[put("a", 1), put("b", 2)])
    assert (value(ddb, "a"), value(ddb, "b")) == (1, 2)
    assert [r["eventName"] for r in stream_records(ddb)] == ["INSERT", "INSERT"]


def test_failed_condition_leaves_neither_item_nor_stream_record(ddb: Any) -> None:
    ddb.transact_write_items(TransactItems=[put("b", 2)])
    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(TransactItems=[put("a", 1), put("b", 3)])
    assert (value(ddb, "a"), value(ddb, "b")) == (None, 2)
    assert len(stream_records(ddb)) == 1


def test_an_update_before_the_failing_write_is_rolled_back(ddb: Any) -> None:
    ddb.transact_write_items(TransactItems=[put("x", 1), put("y", 1)])
    update = {
        "Update": {
            "TableName": TABLE,
            "Key": {"PK": {"S": "x"}, "SK": {"S": "x"}},
            "UpdateExpression": "SET v = :two",
            "ExpressionAttributeValues": {":two": {"N": "2"}},
        }
    }
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[update, put("y", 5)])
    assert value(ddb, "x") == 1 and value(ddb, "y") == 1
    assert len(stream_records(ddb)) == 2
    ddb.transact_write_items(TransactItems=[update, put("z", 1)])
    assert value(ddb, "x") == 2
    assert [r["dynamodb"]["SequenceNumber"] for r in stream_records(ddb)] == sorted(
        r["dynamodb"]["SequenceNumber"] for r in stream_records(ddb)
    )


def test_reads_never_see_an_update_half_applied(ddb: Any) -> None:
    """UpdateItem creating an item with several attributes, against concurrent reads: each read
    sees no item or the whole item (moto alone lets a read see the keys only)."""
    import threading

    seen: list[set[str]] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            for n in range(40):
                item = ddb.get_item(TableName=TABLE, Key={"PK": {"S": f"u{n}"}, "SK": {"S": "x"}}).get("Item")
                if item is not None:
                    seen.append(set(item))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(40):
            ddb.update_item(
                TableName=TABLE,
                Key={"PK": {"S": f"u{n}"}, "SK": {"S": "x"}},
                UpdateExpression="SET a = :a, b = :b, c = :c ADD n :one",
                ExpressionAttributeValues={":a": {"S": "a"}, ":b": {"S": "b"}, ":c": {"S": "c"}, ":one": {"N": "1"}},
            )
    finally:
        done.set()
        reader.join()
    assert seen, "the reader saw nothing"
    assert all(keys == {"PK", "SK", "a", "b", "c", "n"} for keys in seen)


def test_item_answers_written_directly_equal_what_moto_serializes(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.responses import ActionResult, BaseResponse

    serialized = BaseResponse.serialized
    compared: list[str] = []

    def both(self: Any, answer: ActionResult) -> Any:
        direct = serialized(self, answer)
        if type(answer) is not ActionResult:  # one of the fixes' answers: moto's own must agree
            status, headers, body = serialized(self, ActionResult(answer.result))
            assert (direct[0], direct[1]) == (status, headers)
            assert json.loads(direct[2]) == json.loads(body), self._get_action()
            compared.append(self._get_action())
        return direct

    monkeypatch.setattr(BaseResponse, "serialized", both)
    key = {"PK": {"S": "p"}, "SK": {"S": "1"}}
    item = {
        **key,
        "b": {"B": b"\x00\xff"},
        "bs": {"BS": [b"x", b"\x01"]},
        "n": {"N": "1.5"},
        "ns": {"NS": ["1", "2"]},
        "ss": {"SS": ["q"]},
        "m": {"M": {"x": {"L": [{"NULL": True}, {"BOOL": False}, {"B": b"\x02"}]}}},
        "s": {"S": 'é \u2028 "quoted"'},
    }
    capacity = {"ReturnConsumedCapacity": "INDEXES"}
    ddb.put_item(TableName=TABLE, Item=item, ReturnValues="ALL_OLD", **capacity)
    ddb.put_item(
        TableName=TABLE, Item={**item, "SK": {"S": "2"}}, ReturnValues="ALL_OLD", ReturnItemCollectionMetrics="SIZE"
    )
    ddb.put_item(TableName=TABLE, Item=item, ReturnValues="ALL_OLD")
    ddb.get_item(TableName=TABLE, Key=key, **capacity)
    ddb.get_item(TableName=TABLE, Key={"PK": {"S": "absent"}, "SK": {"S": "1"}})
    page = ddb.query(
        TableName=TABLE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "p"}}, Limit=1
    )
    assert "LastEvaluatedKey" in page
    ddb.query(
        TableName=TABLE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "p"}}, Select="COUNT"
    )
    ddb.scan(TableName=TABLE, ProjectionExpression="PK, m.x[2]", **capacity)
    ddb.update_item(
        TableName=TABLE,
        Key=key,
        UpdateExpression="SET n = n + :o",
        ExpressionAttributeValues={":o": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    ddb.update_item(TableName=TABLE, Key=key, UpdateExpression="REMOVE ss", ReturnValues="UPDATED_OLD")
    ddb.batch_get_item(RequestItems={TABLE: {"Keys": [key, {"PK": {"S": "p"}, "SK": {"S": "2"}}]}}, **capacity)
    ddb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": {**item, "SK": {"S": "3"}}}}]}, **capacity)
    ddb.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": key}}], **capacity)
    ddb.transact_write_items(TransactItems=[put("t", 1)], **capacity)
    ddb.delete_item(TableName=TABLE, Key=key, ReturnValues="ALL_OLD", **capacity)
    assert stream_records(ddb)
    assert {*motofixes.ITEM_OPERATIONS, "GetRecords"} <= set(compared)


def test_a_query_reads_its_partition_as_dynamodb_does(ddb: Any) -> None:
    rows = [(pk, f"{sk:03d}", sk % 3) for pk in ("a", "b", "c") for sk in range(40)]
    for pk, sk, group in rows:
        item = {"PK": {"S": pk}, "SK": {"S": sk}, "g": {"N": str(group)}}
        ddb.put_item(TableName=TABLE, Item={**item, "GSI1PK": {"S": f"g{group}"}, "GSI1SK": {"S": sk + pk}})

    def everything(**query: Any) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        start: dict[str, Any] | None = None
        while True:
            page = ddb.query(TableName=TABLE, Limit=7, **query, **({"ExclusiveStartKey": start} if start else {}))
            found += [(item["PK"]["S"], item["SK"]["S"]) for item in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if start is None:
                return found

    b = {":p": {"S": "b"}}
    assert everything(KeyConditionExpression="PK = :p", ExpressionAttributeValues=b) == [
        ("b", sk) for pk, sk, _ in rows if pk == "b"
    ]
    assert everything(
        KeyConditionExpression="PK = :p AND SK BETWEEN :lo AND :hi",
        ExpressionAttributeValues={**b, ":lo": {"S": "010"}, ":hi": {"S": "019"}},
        ScanIndexForward=False,
    ) == [("b", f"{sk:03d}") for sk in range(19, 9, -1)]
    assert everything(
        KeyConditionExpression="PK = :p AND begins_with(SK, :two)",
        FilterExpression="g = :g",
        ExpressionAttributeValues={**b, ":two": {"S": "02"}, ":g": {"N": "1"}},
    ) == [("b", f"{sk:03d}") for sk in range(20, 30) if sk % 3 == 1]
    assert everything(KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "none"}}) == []
    # An index query still reads across the table's partitions.
    assert everything(
        IndexName=resources.GSI1, KeyConditionExpression="GSI1PK = :g", ExpressionAttributeValues={":g": {"S": "g1"}}
    ) == sorted(((pk, sk) for pk, sk, group in rows if group == 1), key=lambda row: row[1] + row[0])


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    motofixes.apply()
    with mock_aws():
        yield boto3.client("sqs")


def test_queue_attributes_by_name_answer_as_sqs_does(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "120", "VisibilityTimeout": "7"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    names = ["MessageRetentionPeriod", "VisibilityTimeout", "ApproximateNumberOfMessages"]
    answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    assert answer == {"MessageRetentionPeriod": "120", "VisibilityTimeout": "7", "ApproximateNumberOfMessages": "1"}
    assert set(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]) >= set(names)
    with pytest.raises(ClientError) as refused:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["NoSuchAttribute"])
    assert refused.value.response["Error"]["Code"] == "InvalidAttributeName"


def test_a_message_past_the_retention_period_is_not_received(sqs: Any) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    entries = [{"Id": body, "MessageBody": body} for body in ("new", "old")]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    queue = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_queue("q")
    old = next(message for message in queue._messages if message.body == "old")
    old.sent_timestamp = int(old.sent_timestamp or 0) - 61_000  # type: ignore[assignment]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [message["Body"] for message in received] == ["new"]


def test_receiving_a_batch_passes_over_a_backlog_a_bounded_number_of_times(
    sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.sqs.models import Message

    backlog = 500
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for start in range(0, backlog, 10):
        entries = [{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    checks = 0
    visible = Message.visible.fget  # type: ignore[attr-defined]

    def counted(self: Any) -> bool:
        nonlocal checks
        checks += 1
        return bool(visible(self))

    monkeypatch.setattr(Message, "visible", property(counted))
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 10
    # One pass to find the visible messages and one check per message handed out; moto alone
    # made three passes over the whole queue for every message it handed out (~15,000 here).
    assert checks <= backlog + 2 * 10


def test_content_based_deduplication_still_deduplicates_a_fifo_queue(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})[
        "QueueUrl"
    ]
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="g")
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert counts == {"ApproximateNumberOfMessages": "2"}


def test_sending_to_a_backlog_does_not_pass_over_it(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.sqs.models import Message

    url = sqs.create_queue(QueueName="q", Attributes={"DelaySeconds": "0"})["QueueUrl"]
    for start in range(0, 200, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)])
    checks = 0
    visible = Message.visible.fget  # type: ignore[attr-defined]

    def counted(self: Any) -> bool:
        nonlocal checks
        checks += 1
        return bool(visible(self))

    monkeypatch.setattr(Message, "visible", property(counted))
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "more"} for i in range(10)])
    delayed = sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=5)
    assert checks == 0 and delayed["MessageId"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesDelayed"]) == ("210", "1")


def test_a_message_sent_while_another_is_deleted_is_kept(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import Queue, sqs_backends

    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="first")
    received = sqs.receive_message(QueueUrl=url)["Messages"][0]
    queue = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_queue("q")
    sender = threading.Thread(target=lambda: sqs.send_message(QueueUrl=url, MessageBody="second"))

    def messages(self: Any) -> Any:
        return self.__dict__["_messages"]

    def replace_messages(self: Any, remaining: Any) -> None:
        # The delete has walked the list and is about to put the rest in its place: a send now
        # must wait for it, or its message is appended to the list being thrown away.
        if self is queue and sender.ident is None:
            sender.start()
            sender.join(0.3)
        self.__dict__["_messages"] = remaining

    monkeypatch.setattr(Queue, "_messages", property(messages, replace_messages), raising=False)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"])
    sender.join(5)
    monkeypatch.undo()
    bodies = [message["Body"] for message in sqs.receive_message(QueueUrl=url).get("Messages", [])]
    assert bodies == ["second"]


def test_an_input_path_is_parsed_once_and_still_transforms_every_event(monkeypatch: pytest.MonkeyPatch) -> None:
    import jsonpath_ng.ext.parser

    motofixes.apply()
    built: list[object] = []
    original_init = jsonpath_ng.ext.parser.ExtendedJsonPathParser.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(jsonpath_ng.ext.parser.ExtendedJsonPathParser, "__init__", counting_init)
    field = f"field{id(built)}"  # a path no earlier test parsed
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="transformed")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="r", EventPattern=json.dumps({"source": ["test"]}))
        events.put_targets(
            Rule="r",
            Targets=[
                {
                    "Id": "q",
                    "Arn": arn,
                    "InputTransformer": {
                        "InputPathsMap": {"v": f"$.detail.{field}"},
                        "InputTemplate": '{"value": <v>}',
                    },
                }
            ],
        )
        for number in range(3):
            events.put_events(Entries=[{"Source": "test", "DetailType": "t", "Detail": json.dumps({field: number})}])
        bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert sorted(body["value"] for body in bodies) == [0, 1, 2]
    assert len(built) == 1


def test_an_index_query_answers_its_projection_and_copies_only_that(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fix 12: a projecting Query copies only the attributes it answers, without moto's round trip
    of every item through plain JSON once per projected attribute; the answers are DynamoDB's."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    listing = resources.VIDEO_LISTING_ATTRIBUTES
    for n in range(30):
        item = {
            "PK": {"S": f"P#p{n % 2}#VIDEO"},
            "SK": {"S": f"v{n:02d}"},
            "GSI2PK": {"S": f"P#p{n % 2}#VIDEOS"},
            "GSI2SK": {"S": f"2026-{n:02d}"},
            "video_id": {"S": f"v{n:02d}"},
            "created_at": {"S": "2026"},
            "tags": {"L": [{"S": "a"}, {"S": str(n)}]},
            "metadata": {"L": [{"M": {"key": {"S": "k"}, "value": {"S": str(n)}}}]},
            "public": {"BOOL": True},
            "clip": {"M": {"start": {"S": "x" * 100}}},
        }
        ddb.put_item(TableName=TABLE, Item=item)
    ddb.put_item(
        TableName=TABLE, Item={"PK": {"S": "P#p0#VIDEO"}, "SK": {"S": "v00#media"}, "playable": {"BOOL": True}}
    )
    converted = {"to_regular_json": 0, "deepcopy of an unanswered attribute": 0}
    to_regular_json, deepcopy = DynamoType.to_regular_json, DynamoType.__deepcopy__

    def counted(name: str, method: Any) -> Any:
        def call(self: Any, *args: Any) -> Any:
            if name == "to_regular_json" or self.type == "BOOL":  # `public` is in no projection
                converted[name] += 1
            return method(self, *args)

        return call

    monkeypatch.setattr(DynamoType, "to_regular_json", counted("to_regular_json", to_regular_json))
    monkeypatch.setattr(DynamoType, "__deepcopy__", counted("deepcopy of an unanswered attribute", deepcopy))
    whole = ddb.query(
        TableName=TABLE,
        IndexName=resources.GSI2,
        KeyConditionExpression="GSI2PK = :p",
        ExpressionAttributeValues={":p": {"S": "P#p1#VIDEOS"}},
        ScanIndexForward=False,
    )["Items"]
    assert [row["SK"]["S"] for row in whole] == [f"v{n:02d}" for n in range(29, 0, -2)]
    kept = {"PK", "SK", "GSI2PK", "GSI2SK", *listing}
    assert all(
        set(row) == kept & {"PK", "SK", "GSI2PK", "GSI2SK", "video_id", "created_at", "tags", "metadata"}
        for row in whole
    )
    assert whole[0]["metadata"] == {"L": [{"M": {"key": {"S": "k"}, "value": {"S": "29"}}}]}
    some = ddb.query(
        TableName=TABLE,
        IndexName=resources.GSI2,
        KeyConditionExpression="GSI2PK = :p",
        ExpressionAttributeValues={":p": {"S": "P#p0#VIDEOS"}, ":lo": {"S": "2026-04"}},
        ProjectionExpression="video_id, #t",
        ExpressionAttributeNames={"#t": "tags"},
    )["Items"]
    assert some[:2] == [
        {"video_id": {"S": "v00"}, "tags": {"L": [{"S": "a"}, {"S": "0"}]}},
        {"video_id": {"S": "v02"}, "tags": {"L": [{"S": "a"}, {"S": "2"}]}},
    ]
    assert converted == {"to_regular_json": 0, "deepcopy of an unanswered attribute": 0}
    nested = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": {"S": "P#p0#VIDEO"}},
        ProjectionExpression="SK, metadata[0].#v, playable",
        ExpressionAttributeNames={"#v": "value"},
    )["Items"]
    assert nested[:2] == [
        {"SK": {"S": "v00"}, "metadata": {"L": [{"M": {"value": {"S": "0"}}}]}},
        {"SK": {"S": "v00#media"}, "playable": {"BOOL": True}},
    ]


def test_item_sizes_are_moto_s_and_a_range_query_keeps_its_bounds(ddb: Any) -> None:
    """Fix 12: items' sizes (the 1 MB page limit) summed directly equal moto's, and a BETWEEN on
    the range key reads only the partition's items between its bounds, in DynamoDB's order."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.utilities import bytesize

    values: dict[str, Any] = {
        "s": {"S": "plain"},
        "unicode": {"S": "é 漢字 \U0001f600"},
        "n": {"N": "-12.500"},
        "yes": {"BOOL": True},
        "nothing": {"NULL": True},
        "list": {"L": [{"S": "x"}, {"N": "1"}, {"L": [{"BOOL": False}]}, {"M": {"k": {"S": "v"}}}]},
        "map": {"M": {"k": {"S": "é"}, "n": {"N": "3"}}},
        "ss": {"SS": ["a", "bé"]},
        "ns": {"NS": ["1", "22"]},
        "b": {"B": b"\x00\x01"},
        "bs": {"BS": [b"x", b"yz"]},
    }
    item = Item(DynamoType({"S": "p"}), DynamoType({"S": "1"}), values)
    assert motofixes._item_size(item) == sum(bytesize(k) + v.size() for k, v in item.attrs.items())
    keys = ["a", "b#media", "b", "é", "é#1", "z", "\U0001f600", "~"]
    for sk in keys:
        ddb.put_item(TableName=TABLE, Item={"PK": {"S": "r"}, "SK": {"S": sk}})
    found = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :p AND SK BETWEEN :lo AND :hi",
        ExpressionAttributeValues={":p": {"S": "r"}, ":lo": {"S": "b"}, ":hi": {"S": "é#~"}},
    )["Items"]
    assert [row["SK"]["S"] for row in found] == ["b", "b#media", "z", "~", "é", "é#1"]  # UTF-8 byte order


def test_a_known_account_s_backend_is_found_while_another_thread_holds_moto_s_lock(ddb: Any) -> None:
    import threading

    from moto.core.base_backend import backend_lock
    from moto.dynamodb.models import dynamodb_backends

    dynamodb_backends["123456789012"]  # the account's backend exists
    found = threading.Event()
    with backend_lock:  # another thread creating some backend, or moto resetting

        def look_up() -> None:
            dynamodb_backends["123456789012"]
            found.set()

        threading.Thread(target=look_up, daemon=True).start()
        assert found.wait(2), "the lookup waited for moto's global backend lock"
    value(ddb, "still-answers")  # and a request still reaches the backend it found
