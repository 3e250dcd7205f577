"""Fixes to moto 5.2.5 that a long-running, concurrent devstack needs: three to DynamoDB's
correctness and memory, the others to the cost of a request as the data grows.

1. moto tracks every model instance for its dashboard, deep copies included.
2. Every TransactWriteItems deep-copies the whole table (items and every stream record ever
   written) so it can roll back, which makes each write slower than the last.
3. Operations run unsynchronised on the server's threads, so a read can see a transaction or an
   UpdateItem half applied (an item holding only its keys). DynamoDB isolates them.

1 and 2 together made 500 video creates take about 4 minutes and 1 GB. Here a transaction
snapshots only the items it touches and the stream's length, and restores exactly those on
failure, which is the same all-or-nothing result; and every table operation holds one lock.

4. The server finds each request's backend by listing moto's package folder (hundreds of stat
   calls) and trying every service's URL regex, under one lock: a third of the emulator's CPU
   under load. `Dispatcher` remembers the answer per host.
5. Each DynamoDB item answer goes through moto's generic, shape-driven serializer, which looks
   every attribute up under several spellings: about half of the emulator's CPU under load. The
   item operations' results are already their wire form (attribute values as `{type: value}`,
   binary as bytes), so they are written as JSON directly, and so are the stream records every
   event-source poller reads; tests/devstack/test_motofixes.py checks that both give the same
   answer.
6. Werkzeug's server closes the connection after every answer (and first waits 10 ms for any
   bytes left on it), so every AWS call of the devstack opened a new TCP connection: about a
   quarter of the devstack process's CPU under load. `keep_alive_handler` keeps connections
   open, reading exactly each request's body so the next request starts where it should.
7. A Query of the table (not of an index) sorts every item of the table, every partition, and
   then keeps one partition's, all under the table lock: each list call cost as much as the
   whole table held. Here it reads only the queried partition, as DynamoDB does.
8. SQS ReceiveMessage checks each message it hands out against the queue's retention period by
   asking GetQueueAttributes for it, which builds every attribute three times, approximate
   message counts included, each a pass over every message in the queue: a batch from a queue
   holding n messages cost O(n) passes, and a backlog of webhook deliveries drained at about 25
   a second. Here the retention check reads the queue's setting, and GetQueueAttributes builds
   the attributes once.
9. SendMessage builds every attribute of the queue, those counts included, to read one setting
   (ContentBasedDeduplication), and the list of visible messages asks the clock twice per
   message. Here a send reads that setting alone, and the list asks the clock once.
10. SQS DeleteMessage rebuilds the queue's message list without the lock SendMessage appends
   under, so a message sent while another is deleted can vanish: the webhook fan-out benchmark
   lost 10 of 3,000 deliveries once. Here deletes hold the queue's lock, and so does a receive
   while it picks its messages (a long poll's wait releases it), so two receivers never take the
   same message, as in SQS.
11. EventBridge builds a new JSONPath parser (a PLY grammar, tables and all) for every input path
   of every matched rule target on every PutEvents: about a sixth of the emulator's samples under
   API load, where each outbox event reaches several rules. An expression is parsed once here
   (the parsed expression is immutable: `find` only reads it).
12. A Query of an index sorts every item of the table (every partition) to find the index key's
   items, then copies each match whole, then projects it by turning the whole item into plain
   JSON and back once per projected attribute: the video listing index (12 attributes) cost about
   as much per row as 12 reads of the video. Here an index Query reads the items whose index key
   matches, and a projecting Query copies only the attributes it answers. Each matched item's
   size (asked twice per item for the 1 MB page limit) is summed once, with the common attribute
   types summed directly; and a BETWEEN on the range key (a video with its media item) reads only
   the partition's items between its bounds instead of sorting the whole partition. An index
   Query's matches are sorted by their string keys' text.
13. (Withdrawn.) Buffering the handler's writes (`wbufsize = -1`) made one send of an answer's
   headers and body, but with it the devstack's MediaLive plane took ~30 s instead of ~5 s to switch
   back to a returning primary input (tests/e2e/test_live_events.py, reproduced three times; the
   mechanism was not found). Headers and body stay two sends.
14. Every request looks its backends up by account (the service's, and IAM's to mark the access
   key as used) under moto's one global lock, which also scans the list of every backend in use
   with a Python-level equality: under load, a fifth of the emulator's threads waited there.
   Once an account's backend exists, it is found without the lock.
"""

from __future__ import annotations

import base64
import calendar
import copy
import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import IO, Any, cast

# Reentrant: a transaction applies its writes through the single-item operations. Module-level so
# that persistence can hold it while it forks a snapshot (no write half applied in the image).
DYNAMODB_LOCK = threading.RLock()


@cache
def apply() -> None:
    """Idempotent: patches once per process."""
    _stop_tracking_dynamodb_instances()
    _snapshot_only_touched_items()
    _isolate_operations()
    _serialize_item_answers_directly()
    _serialize_stream_records_directly()
    _query_one_partition()
    _project_top_level_attributes_directly()
    _index_matches_sorted_by_text()
    _sqs_attributes_built_once()
    _sqs_send_reads_one_setting()
    _sqs_queue_changes_isolated()
    _event_input_paths_parsed_once()
    _backends_found_without_lock()


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


def dispatcher(create_app: Any) -> Any:
    """moto's request dispatcher, remembering which backend serves each host (fix 4)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    class Dispatcher(DomainDispatcherApplication):
        @lru_cache(maxsize=256)  # noqa: B019 - one dispatcher per process; hosts are few
        def get_backend_for_host(self, host: str | None) -> Any:
            return super().get_backend_for_host(host)

    return Dispatcher(create_app)


# The operations whose answers carry items (moto answers the writes without items with a plain
# ActionResult). Their answers hold no timestamps.
ITEM_OPERATIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
)


def _binary_and_timestamps(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        # The JSON protocol's epoch seconds, to the millisecond, as moto's serializer writes them.
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        seconds = calendar.timegm(aware.utctimetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    raise TypeError(f"{type(value).__name__} is not part of a DynamoDB answer")


def serialize_item_answer(result: Any, members: Iterable[str]) -> tuple[int, dict[str, str], str]:
    """An item operation's answer as DynamoDB's JSON protocol writes it (fix 5): only the
    operation's output members (moto adds a legacy `ConsumedCapacityUnits` to some)."""
    body = json.dumps({name: result[name] for name in members if name in result}, default=_binary_and_timestamps)
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, body


def _serialize_item_answers_directly() -> None:
    from moto.dynamodb.responses import DynamoResult

    generic = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name in ITEM_OPERATIONS:
            return serialize_item_answer(self.result, context.operation_model.output_shape.members)
        return generic(self, context)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


def _serialize_stream_records_directly() -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    class DirectAnswer(ActionResult):
        def execute_result(self, context: Any) -> Any:
            return serialize_item_answer(self.result, context.operation_model.output_shape.members)

    generic = DynamoDBStreamsHandler.get_records

    def get_records(self: Any) -> Any:
        return DirectAnswer(generic(self).result)

    DynamoDBStreamsHandler.get_records = get_records  # type: ignore[method-assign]


class _NoLeftoverReads:
    """Stands in for the `selectors` module inside werkzeug.serving, whose only use is reading
    whatever a client sent after its request before closing: with keep-alive that is the next
    request. `keep_alive_handler` reads each body to its end instead (fix 6)."""

    EVENT_READ = 1

    class DefaultSelector:
        def register(self, *_: Any) -> None:
            return None

        def select(self, timeout: float | None = None) -> list[Any]:
            return []

        def close(self) -> None:
            return None


def keep_alive_handler() -> type:
    """moto's request handler with HTTP/1.1 keep-alive (fix 6). A chunked request still closes
    its connection: its end is only known to the parser that reads it."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug import serving
    from werkzeug.wsgi import LimitedStream

    serving.selectors = _NoLeftoverReads  # type: ignore[assignment]

    class KeepAliveRequestHandler(MotoRequestHandler):
        # Headers and body go out in separate writes: on a kept connection, Nagle holds the second
        # until the client's delayed ACK, 40 ms per call.
        disable_nagle_algorithm = True
        _body: LimitedStream | None = None

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            if environ.get("wsgi.input_terminated"):
                self._body = None
            else:
                self._body = LimitedStream(cast(IO[bytes], self.rfile), int(environ.get("CONTENT_LENGTH") or 0))
                environ["wsgi.input"] = self._body
            return environ

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() == "connection" and value == "close" and self._body is not None:
                return
            super().send_header(keyword, value)

        def run_wsgi(self) -> None:
            self._body = None
            super().run_wsgi()
            if self._body is None:
                self.close_connection = True
                return
            try:
                self._body.exhaust()  # what the backend did not read, so the next request line follows
            except Exception:  # noqa: BLE001 - a client gone mid-body: nothing more to serve
                self.close_connection = True

    return KeepAliveRequestHandler


_QUERIED = threading.local()  # the partition a Query reads (of the table or an index), while it runs


def _query_one_partition() -> None:
    import inspect

    from moto.dynamodb.models.table import Table

    every_item = Table.all_items
    query = Table.query
    parameters = inspect.signature(query)

    def all_items(self: Any) -> Any:
        hash_key = getattr(_QUERIED, "hash_key", None)
        index_key = getattr(_QUERIED, "index_key", None)
        if index_key is not None:
            # Query keeps only the items whose index key holds this value, and sorts them itself.
            name, value = index_key
            if value.type != "S":
                return [item for item in every_item(self) if (found := item.attrs.get(name)) and found == value]
            # A string key compares as its text: DynamoType's == casts both values first.
            return [
                item
                for part in self.items.values()
                for item in part.values()
                if (found := item.attrs.get(name)) is not None and found.type == "S" and found.value == value.value
            ]
        if hash_key is None or not self.range_key_attr:
            return every_item(self)
        # The same order all_items gives; Query keeps only this partition's items anyway.
        items = self.items.get(hash_key, {}).values()
        between = getattr(_QUERIED, "between", None)
        if between is not None:
            # Query compares every item's range key with the bounds again; these are the ones it keeps.
            low, high = between
            items = [item for item in items if low <= item.range_key.value <= high]
        return sorted(items, key=lambda item: item.range_key)

    def query_one_partition(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = parameters.bind(self, *args, **kwargs).arguments
        index_name = arguments.get("index_name")
        conditions = arguments.get("hash_key_conditions") or []
        if index_name and (len(conditions) != 1 or not self.range_key_attr):
            return query(self, *args, **kwargs)
        if index_name:
            _QUERIED.index_key = conditions[0]
        else:
            _QUERIED.hash_key = arguments["hash_key"]
            _QUERIED.between = _string_bounds(arguments.get("range_comparison"), arguments.get("range_objs") or [])
        _QUERIED.expression = bool(arguments.get("projection_expressions"))
        _QUERIED.projected = _QUERIED.expression or _projects(self, index_name)
        _QUERIED.sizes = {}
        try:
            return query(self, *args, **kwargs)
        finally:
            _QUERIED.hash_key = _QUERIED.index_key = _QUERIED.sizes = _QUERIED.between = None
            _QUERIED.projected = _QUERIED.expression = False

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query_one_partition  # type: ignore[method-assign]


def _string_bounds(comparison: str | None, bounds: list[Any]) -> tuple[str, str] | None:
    """The bounds of a `BETWEEN` on string range keys (UTF-8 byte order is code point order, which
    is how Python compares strings); None for any other condition."""
    if comparison != "BETWEEN" or len(bounds) != 2 or any(bound.type != "S" for bound in bounds):
        return None
    return bounds[0].value, bounds[1].value


def _projects(table: Any, index_name: str | None) -> bool:
    """Whether a query of this index answers only some attributes (INCLUDE or KEYS_ONLY)."""
    if not index_name:
        return False
    projection = table.get_index(index_name).projection or {}
    return projection.get("ProjectionType", "ALL") != "ALL"


class _CopyOnlyWhatIsAnswered:
    """Stands in for the `copy` module inside moto.dynamodb.models.table (fix 12). A Query copies
    every item it matched, whole, before projecting it: while a projecting Query runs, its items
    are copied without their attributes, and the projection copies the attributes it keeps."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.dynamo_type import Item

        if getattr(_QUERIED, "projected", False) and isinstance(value, list | Item):
            items = value if isinstance(value, list) else [value]
            if all(isinstance(item, Item) for item in items):
                copied = [_item_with(item, item.attrs) for item in items]
                return copied if isinstance(value, list) else copied[0]
        return copy.deepcopy(value, memo)


def _item_with(item: Any, attrs: dict[str, Any]) -> Any:
    """A new moto Item with these attribute values (not copied), skipping the size check the item
    passed when it was written (as Item.__deepcopy__ does)."""
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    result: Any = Item.__new__(Item)
    result.hash_key, result.range_key = item.hash_key, item.range_key
    kept = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(kept)
    dict.update(kept, attrs)
    result.attrs = kept
    return result


def _item_size(item: Any) -> int:
    """moto's Item.size, with its common attribute types summed directly: moto asks each value
    which of its eight type checks it passes, and builds a DynamoType per map entry."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.attrs.items())


def _value_size(value: Any) -> int:
    kind = value.type
    if kind == "S":
        text = value.value
        return len(text) if text.isascii() else len(text.encode("utf-8"))
    if kind == "N":
        return len(str(value.value))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return sum(_value_size(member) for member in value.value)
    return int(value.size())


def _project_top_level_attributes_directly() -> None:
    """Item.project turns the whole item into plain JSON once per projected path and back: a
    listing index query with 12 attributes converted each matched item 12 times (fix 12). A
    projection of top-level names (every index projection, and most ProjectionExpressions) copies
    just those attributes."""
    from moto.dynamodb.models import table
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import SecondaryIndex

    table.copy = _CopyOnlyWhatIsAnswered  # type: ignore[assignment]
    generic = Item.project

    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        if any(len(path) != 1 for path in projection_expressions):
            return generic(self, projection_expressions)
        names = dict.fromkeys(path[0] for path in projection_expressions)
        return _item_with(self, {name: copy.deepcopy(self.attrs[name]) for name in names if name in self.attrs})

    Item.project = project  # type: ignore[method-assign]
    index_projection = SecondaryIndex.project

    def project_index(self: Any, item: Any) -> Any:
        projection = self.projection or {}
        kind = projection.get("ProjectionType", "ALL")
        if kind == "ALL" or not getattr(_QUERIED, "expression", False):
            return index_projection(self, item)
        # The query's own ProjectionExpression copies what it keeps of these next.
        names = [*self.table_key_attrs, *(key["AttributeName"] for key in self.schema)]
        if kind == "INCLUDE":
            names += projection.get("NonKeyAttributes", [])
        return _item_with(item, {name: item.attrs[name] for name in names if name in item.attrs})

    SecondaryIndex.project = project_index  # type: ignore[method-assign]

    def size(self: Any) -> int:
        # A Query asks each matched item's size twice (its 1 MB page limit): both from one sum.
        sizes = getattr(_QUERIED, "sizes", None)
        if sizes is None:
            return _item_size(self)
        known = sizes.get(id(self))
        if known is None or known[0] is not self:
            known = sizes[id(self)] = (self, _item_size(self))
        return int(known[1])

    Item.size = size  # type: ignore[method-assign]


def _index_matches_sorted_by_text() -> None:
    """Fix 12: an index Query's matches are sorted by their string keys' text."""
    from moto.dynamodb.models.table import Table

    every_order = Table.sorted_items

    def sorted_items(self: Any, hash_key_attrs: list[str], range_key_attrs: list[Any], items: list[Any]) -> Any:
        # An index Query's matches in key order: string keys compare as their text (DynamoType's
        # < casts both values first, for every comparison of the sort).
        names = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        keys = [tuple(item.attrs.get(name) for name in names) for item in items]
        if not all(value is not None and value.type == "S" for key in keys for value in key):
            return every_order(self, hash_key_attrs, range_key_attrs, items)
        texts = [tuple(value.value for value in key) for key in keys]
        order = sorted(range(len(items)), key=texts.__getitem__)
        items[:] = [items[n] for n in order]
        return items

    Table.sorted_items = sorted_items  # type: ignore[method-assign]


def _sqs_attributes_built_once() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.exceptions import InvalidAttributeName
    from moto.sqs.models import Message, SQSBackend

    every_attribute = SQSBackend.get_queue_attributes

    def get_queue_attributes(self: Any, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        if not attribute_names or "All" in attribute_names:
            return every_attribute(self, queue_name, attribute_names)
        queue = self.get_queue(queue_name)
        valid_names = queue.BASE_ATTRIBUTES + queue.FIFO_ATTRIBUTES + queue.KMS_ATTRIBUTES
        for name in attribute_names:
            if name not in valid_names:
                raise InvalidAttributeName(name)
        attributes = queue.attributes
        return {name: attributes[name] for name in attribute_names if attributes.get(name) is not None}

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Message) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())  # type: ignore[operator]

    SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]


_SENDING = threading.local()  # the queue a SendMessage on this thread is sending to


def _send_settings(queue: Any) -> dict[str, Any]:
    """All of a queue's attributes that send_message reads. As in moto, only a FIFO queue has it."""
    if not queue.fifo_queue:
        return {}
    return {"ContentBasedDeduplication": "true" if queue.content_based_deduplication else "false"}


def _sqs_send_reads_one_setting() -> None:
    from moto.core.utils import unix_time_millis
    from moto.sqs.models import Queue, SQSBackend

    every_attribute = Queue.attributes.fget  # type: ignore[attr-defined]
    send = SQSBackend.send_message

    def attributes(self: Any) -> dict[str, Any]:
        sending = getattr(_SENDING, "queue", None) is self
        return _send_settings(self) if sending else cast(dict[str, Any], every_attribute(self))

    def send_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        _SENDING.queue = self.get_queue(queue_name)
        try:
            return send(self, queue_name, *args, **kwargs)
        finally:
            _SENDING.queue = None

    def messages(self: Any) -> list[Any]:
        now = unix_time_millis()  # Message.visible and Message.delayed ask the clock each
        return [message for message in self._messages if now > message.visible_at and now >= message.delayed_until]

    Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]
    Queue.messages = property(messages)  # type: ignore[method-assign,assignment]
    SQSBackend.send_message = send_message  # type: ignore[method-assign]


def _sqs_queue_changes_isolated() -> None:
    from moto.sqs.models import Queue, SQSBackend

    delete = Queue.delete_message
    receive = SQSBackend.receive_message

    def delete_message(self: Any, receipt_handle: str) -> None:
        with self._messages_lock:
            delete(self, receipt_handle)

    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        # A Condition over an RLock: the long poll's wait inside releases it entirely.
        with self.get_queue(queue_name)._messages_lock:
            return receive(self, queue_name, *args, **kwargs)

    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


def _event_input_paths_parsed_once() -> None:
    # moto's EventTemplateParser does `from jsonpath_ng.ext import parse` inside the call, so the
    # module attribute is what it reaches.
    import jsonpath_ng.ext

    jsonpath_ng.ext.parse = lru_cache(maxsize=1024)(jsonpath_ng.ext.parse)


def _backends_found_without_lock() -> None:
    from moto.core.base_backend import BackendDict

    find_or_create = BackendDict._create_account_specific_backend
    listed: set[int] = set()  # the BackendDicts moto has put in its list of backends in use

    def create_once(self: Any, account_id: str) -> None:
        # A reset empties the dicts (not the list), so a present account means a listed dict.
        if id(self) in listed and dict.__contains__(self, account_id):
            return
        find_or_create(self, account_id)
        listed.add(id(self))

    BackendDict._create_account_specific_backend = create_once  # type: ignore[method-assign]
