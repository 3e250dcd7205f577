"""The devstack's moto fixes keep TransactWriteItems all-or-nothing, stream included."""

from __future__ import annotations

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
