"""Three fixes to moto 5.2.5's DynamoDB that a long-running, concurrent devstack needs.

1. moto tracks every model instance for its dashboard, deep copies included.
2. Every TransactWriteItems deep-copies the whole table (items and every stream record ever
   written) so it can roll back, which makes each write slower than the last.
3. Operations run unsynchronised on the server's threads, so a read can see a transaction or an
   UpdateItem half applied (an item holding only its keys). DynamoDB isolates them.

1 and 2 together made 500 video creates take about 4 minutes and 1 GB. Here a transaction
snapshots only the items it touches and the stream's length, and restores exactly those on
failure, which is the same all-or-nothing result; and every table operation holds one lock."""

from __future__ import annotations

import copy
import threading
from functools import cache
from typing import Any

# Reentrant: a transaction applies its writes through the single-item operations. Module-level so
# that persistence can hold it while it forks a snapshot (no write half applied in the image).
DYNAMODB_LOCK = threading.RLock()


@cache
def apply() -> None:
    """Idempotent: patches once per process."""
    _stop_tracking_dynamodb_instances()
    _snapshot_only_touched_items()
    _isolate_operations()


def _stop_tracking_dynamodb_instances() -> None:
    from moto.core import common_models

    tracked_new = common_models.BaseModel.__new__

    def new(cls: type, *args: Any, **kwargs: Any) -> Any:
        if cls.__module__.startswith("moto.dynamodb"):
            return object.__new__(cls)
        return tracked_new(cls, *args, **kwargs)

    common_models.BaseModel.__new__ = staticmethod(new)  # type: ignore[method-assign]


class _CopyTablesByReference:
    """Stands in for the `copy` module inside moto.dynamodb.models: tables are not copied."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _snapshot_only_touched_items() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType

    models.copy = _CopyTablesByReference  # type: ignore[assignment]
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved_items: list[tuple[Any, Any, Any, Any]] = []
        stream_lengths: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            attributes = op.get("Key") or op.get("Item") or {}
            if table.hash_key_attr not in attributes:
                continue
            hash_value = DynamoType(attributes[table.hash_key_attr])
            range_value = DynamoType(attributes[table.range_key_attr]) if table.has_range_key else None
            if table.has_range_key and table.range_key_attr not in attributes:
                continue
            current = table.get_item(hash_value, range_value)
            saved_items.append((table, hash_value, range_value, copy.deepcopy(current)))
            if table.stream_shard is not None:
                stream_lengths[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved_items):
                _restore(table, hash_value, range_value, item)
            for shard, length in stream_lengths.values():
                del shard.items[length:]
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if range_value is not None:
        if item is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item
    elif item is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = item


_OPERATIONS = (
    "get_item", "query", "scan", "put_item", "update_item", "delete_item", "batch_get_item",
    "batch_write_item", "transact_get_items", "transact_write_items",
)  # fmt: skip


def _isolate_operations() -> None:
    from functools import wraps

    from moto.dynamodb.models import DynamoDBBackend

    lock = DYNAMODB_LOCK
    for name in _OPERATIONS:
        operation = getattr(DynamoDBBackend, name, None)
        if operation is None:
            continue

        def isolated(self: Any, *args: Any, _operation: Any = operation, **kwargs: Any) -> Any:
            with lock:
                return _operation(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, wraps(operation)(isolated))
