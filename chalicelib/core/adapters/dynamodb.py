"""A thin single-table helper over the low-level DynamoDB client."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.core import resources
from chalicelib.core.domain.errors import Conflict, InvalidPayload, RepositoryUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PK = resources.PARTITION_KEY
SK = resources.SORT_KEY

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
}
_INDEX_KEYS = {
    resources.GSI1: (resources.GSI1_PARTITION_KEY, resources.GSI1_SORT_KEY),
    resources.GSI2: (resources.GSI2_PARTITION_KEY, resources.GSI2_SORT_KEY),
}
# BatchGetItem takes at most 100 keys a call.
BATCH_GET_KEYS = 100


def to_attributes(item: Mapping[str, Any], keep_nulls: bool = False) -> dict[str, Any]:
    """Absent attributes are left out of items; expression values keep None as NULL."""
    return {k: _serializer.serialize(_decimal(v)) for k, v in item.items() if keep_nulls or v is not None}


def _decimal(value: Any) -> Any:
    """DynamoDB takes numbers as Decimal; floats (durations, frame rates) go through str."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimal(v) for v in value]
    return value


def from_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the domain and JSON want int or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_plain(v) for v in value]
    return value


def project_partition(project_id: str, collection: str) -> str:
    """Every partition key starts with the tenant."""
    return f"P#{project_id}#{collection}"


@dataclass(frozen=True)
class Put:
    item: dict[str, Any]
    condition: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Update:
    key: dict[str, str]
    expression: str
    condition: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delete:
    key: dict[str, str]
    condition: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


Write = Put | Update | Delete


def translate(error: ClientError) -> Exception:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        return Conflict()
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons", [])
        if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
            return Conflict()
        return RepositoryUnavailable(detail="The write was cancelled; retry the request.")
    if code in _THROTTLING:
        return RepositoryUnavailable()
    if code == "ValidationException" and "size" in str(error).lower():
        return InvalidPayload(detail="The resource is too large to store.")
    return error


class Table:
    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self.client = client
        self.name = name

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            response = self.client.get_item(
                TableName=self.name, Key=to_attributes({PK: pk, SK: sk}), ConsistentRead=True
            )
        except ClientError as error:
            raise translate(error) from error
        item = response.get("Item")
        return None if item is None else from_attributes(item)

    def query(
        self,
        pk: str,
        sk_between: tuple[str, str] | None = None,
        index: str | None = None,
        forward: bool = True,
        consistent: bool = False,
        attributes: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """The partition's items, or with `attributes` only those of them."""
        pk_name, sk_name = _INDEX_KEYS.get(index, (PK, SK)) if index is not None else (PK, SK)
        expression = "#pk = :pk"
        names = {"#pk": pk_name}
        values: dict[str, Any] = {":pk": pk}
        if sk_between is not None:
            expression += " AND #sk BETWEEN :lo AND :hi"
            names["#sk"] = sk_name
            values[":lo"], values[":hi"] = sk_between
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_attributes(values),
            "ScanIndexForward": forward,
        }
        if index is not None:
            request["IndexName"] = index
        if attributes:
            projected = {f"#a{n}": name for n, name in enumerate(attributes)}
            request["ProjectionExpression"] = ", ".join(projected)
            names.update(projected)
        if consistent:
            request["ConsistentRead"] = True
        while True:
            try:
                response = self.client.query(**request)
            except ClientError as error:
                raise translate(error) from error
            for item in response.get("Items", []):
                yield from_attributes(item)
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def batch_get(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The items of these keys that exist, by key (BatchGetItem: 100 keys a call, unprocessed
        keys asked again)."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        attempt = 0
        for start in range(0, len(unique), BATCH_GET_KEYS):
            pending: list[Any] = [to_attributes({PK: pk, SK: sk}) for pk, sk in unique[start : start + BATCH_GET_KEYS]]
            while pending:
                try:
                    response = self.client.batch_get_item(
                        RequestItems={self.name: {"Keys": pending, "ConsistentRead": True}}
                    )
                except ClientError as error:
                    raise translate(error) from error
                for attributes in response.get("Responses", {}).get(self.name, []):
                    item = from_attributes(attributes)
                    found[(item[PK], item[SK])] = item
                unprocessed: Any = response.get("UnprocessedKeys", {})
                pending = list(unprocessed.get(self.name, {}).get("Keys", []))
                if pending:
                    attempt += 1
                    time.sleep(min(1.0, 0.05 * 2**attempt))  # DynamoDB's advice: back off, then ask again
        return found

    def write(self, writes: Sequence[Write]) -> None:
        """One write goes alone; several go in one all-or-nothing transaction."""
        try:
            if len(writes) == 1:
                self._write_one(writes[0])
            else:
                items: list[Any] = [self._transact_item(w) for w in writes]
                self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            raise translate(error) from error

    def write_if(self, writes: Sequence[Write]) -> bool:
        """The writes, if their conditions hold; False when one does not (the work was already
        done by a duplicate message or a concurrent consumer)."""
        try:
            self.write(writes)
        except Conflict:
            return False
        return True

    def update(self, update: Update, return_new: bool = False) -> dict[str, Any] | None:
        try:
            response = self.client.update_item(
                **self._update_request(update), ReturnValues="ALL_NEW" if return_new else "NONE"
            )
        except ClientError as error:
            raise translate(error) from error
        attributes = response.get("Attributes")
        return None if attributes is None else from_attributes(attributes)

    def delete(self, pk: str, sk: str) -> None:
        try:
            self.client.delete_item(TableName=self.name, Key=to_attributes({PK: pk, SK: sk}))
        except ClientError as error:
            raise translate(error) from error

    def _write_one(self, write: Write) -> None:
        if isinstance(write, Put):
            self.client.put_item(**self._put_request(write))
        elif isinstance(write, Delete):
            self.client.delete_item(**self._delete_request(write))
        else:
            self.client.update_item(**self._update_request(write))

    def _put_request(self, put: Put) -> dict[str, Any]:
        request: dict[str, Any] = {"TableName": self.name, "Item": to_attributes(put.item)}
        return self._with_condition(request, put.condition, put.names, put.values)

    def _update_request(self, update: Update) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self.name,
            "Key": to_attributes(update.key),
            "UpdateExpression": update.expression,
        }
        return self._with_condition(request, update.condition, update.names, update.values)

    def _delete_request(self, delete: Delete) -> dict[str, Any]:
        request: dict[str, Any] = {"TableName": self.name, "Key": to_attributes(delete.key)}
        return self._with_condition(request, delete.condition, delete.names, delete.values)

    @staticmethod
    def _with_condition(
        request: dict[str, Any], condition: str | None, names: dict[str, str], values: dict[str, Any]
    ) -> dict[str, Any]:
        if condition:
            request["ConditionExpression"] = condition
        if names:
            request["ExpressionAttributeNames"] = names
        if values:
            request["ExpressionAttributeValues"] = to_attributes(values, keep_nulls=True)
        return request

    def _transact_item(self, write: Write) -> dict[str, Any]:
        if isinstance(write, Put):
            return {"Put": self._put_request(write)}
        if isinstance(write, Delete):
            return {"Delete": self._delete_request(write)}
        return {"Update": self._update_request(write)}
