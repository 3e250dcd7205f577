"""The emulator's state on disk, so a devstack keeps its data across restarts.

moto keeps everything in memory. Here the emulator process writes its backends (DynamoDB, S3,
SQS, Secrets Manager, EventBridge) to one pickle, the way Redis's BGSAVE does: a forked child
holds a copy-on-write image of the process taken at one instant, pickles it and renames it into
place, so requests are paused only for the fork (milliseconds), not for the pickling (about
50 ms per 1,000 items). A snapshot is taken at most every `interval` seconds and only after a
request that can change state; the last one on a clean stop. After a kill -9 the writes of the
last interval are lost, nothing else.

S3 object bodies go to content-addressed files beside the pickle (`blobs/<sha256>`), written
once, so media files are not copied into every snapshot.

On restore, the DynamoDB stream records are dropped (their sequence numbers keep counting): the
stream pollers start from the stream's beginning, and replaying them would publish every event
and webhook again. Events written in the last moments before a stop are therefore not published.
"""

from __future__ import annotations

import contextlib
import copyreg
import gc
import hashlib
import io
import logging
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "aws-state.pickle"
BLOB_DIR = "blobs"
SERVICES = ("dynamodb", "s3", "sqs", "secretsmanager", "events")
SNAPSHOT_INTERVAL_SECONDS = 1.0
# Seconds between snapshots; 0 keeps only the one written on a clean stop.
SNAPSHOT_INTERVAL_ENV = "VIDEOPLANE_DEVSTACK_SNAPSHOT_SECONDS"
# A child that has not finished by then is stuck (a lock copied held by the fork): killed, retried.
CHILD_TIMEOUT_SECONDS = 60.0
BLOB_MIN_BYTES = 64 * 1024
# Requests that only read: everything else marks the state as changed. S3 reads are GET/HEAD.
_READ_TARGETS = frozenset(
    {
        "GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables", "DescribeTimeToLive",
        "TransactGetItems", "DescribeStream", "GetShardIterator", "GetRecords", "ListStreams",
        "GetQueueUrl", "GetQueueAttributes", "ListQueues", "GetSecretValue", "DescribeSecret",
        "ListSecrets", "DescribeEventBus", "ListRules", "ListTargetsByRule", "DescribeRule",
    }
)  # fmt: skip


def _rlock() -> Any:
    return threading.RLock()


def _lock() -> Any:
    return threading.Lock()


# moto's SQS queues hold locks: a restored queue gets fresh ones.
copyreg.pickle(type(threading.RLock()), lambda _: (_rlock, ()))
copyreg.pickle(type(threading.Lock()), lambda _: (_lock, ()))


def interval() -> float:
    return float(os.environ.get(SNAPSHOT_INTERVAL_ENV, SNAPSHOT_INTERVAL_SECONDS))


def is_change(method: str, target: str | None) -> bool:
    """Whether a request may change the emulator's state (`target` is the X-Amz-Target header)."""
    if target:
        return target.rsplit(".", 1)[-1] not in _READ_TARGETS
    return method not in ("GET", "HEAD")


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BufferedWriter, blobs: Path, written: set[str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.blobs = blobs
        self.written = written

    def persistent_id(self, obj: Any) -> str | None:
        if type(obj) is not bytes or len(obj) < BLOB_MIN_BYTES:
            return None
        digest = hashlib.sha256(obj).hexdigest()
        path = self.blobs / digest
        if digest not in self.written and not path.exists():
            _write_atomically(path, obj)
        self.written.add(digest)
        return digest


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedReader, blobs: Path) -> None:
        super().__init__(file)
        self.blobs = blobs

    def persistent_load(self, pid: Any) -> bytes:
        return (self.blobs / str(pid)).read_bytes()


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)


def _backends() -> dict[str, Any]:
    from moto.backends import get_backend

    return {name: get_backend(name) for name in SERVICES}  # type: ignore[call-overload]


def save(directory: Path) -> None:
    """Every account's backends of SERVICES into directory/SNAPSHOT_FILE (atomically)."""
    blobs = directory / BLOB_DIR
    blobs.mkdir(parents=True, exist_ok=True)
    state = {
        name: {account: dict(regions) for account, regions in backend.items()} for name, backend in _backends().items()
    }
    written: set[str] = set()
    buffer = io.BytesIO()
    _Pickler(buffer, blobs, written).dump(state)  # type: ignore[arg-type]
    _write_atomically(directory / SNAPSHOT_FILE, buffer.getvalue())
    for blob in blobs.iterdir():
        if blob.name not in written and not blob.name.startswith("."):
            blob.unlink(missing_ok=True)  # no longer referenced by the snapshot just written


def restore(directory: Path) -> bool:
    """Installs the saved backends into moto; False when there is nothing to restore."""
    path = directory / SNAPSHOT_FILE
    if not path.exists():
        return False
    with path.open("rb") as file:
        state: dict[str, dict[str, dict[str, Any]]] = _Unpickler(file, directory / BLOB_DIR).load()
    backends = _backends()
    for name, accounts in state.items():
        for account, regions in accounts.items():
            for region, backend in regions.items():
                backends[name][account][region] = backend
    for regions in state.get("dynamodb", {}).values():
        for dynamodb in regions.values():
            _drop_stream_records(dynamodb.tables.values())
    return True


def _drop_stream_records(tables: Iterable[Any]) -> list[list[Any]]:
    """Empties the tables' streams; answers the records, which a forked child keeps referenced:
    freeing them would write to (and so copy) every page they sit on."""
    dropped = []
    for table in tables:
        shard = getattr(table, "stream_shard", None)
        if shard is not None:
            shard.starting_sequence_number += len(shard.items)
            dropped.append(shard.items)
            shard.items = []
    return dropped


class Snapshotter:
    """Writes a snapshot at most every `interval` seconds after a change, from a forked child."""

    def __init__(
        self, directory: Path, pause: Callable[[], contextlib.AbstractContextManager[Any]], interval: float
    ) -> None:
        self.directory = directory
        self.interval = interval
        self._pause = pause  # held while forking, so no write is half applied in the image
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)
        self.failures = 0

    def changed(self) -> None:
        self._changed.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stops the periodic snapshots; the caller writes the last one with `save`."""
        self._stop.set()
        self._changed.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._changed.wait()
            if self._stop.is_set():
                return
            self._changed.clear()
            self._snapshot()
            self._stop.wait(self.interval)

    def _snapshot(self) -> None:
        with self._pause():
            # Every object a collector visits while the child lives is a page copied (its header is
            # written): the parent's collector skips the image's objects until the child is gone,
            # and the child, which leaves at once, never collects.
            gc.freeze()
            pid = os.fork()
        if pid == 0:  # the child: a frozen image of the emulator; pickle it and leave at once
            gc.disable()
            code = 0
            try:
                # Restore drops them anyway, and they are every write the stack ever made: pickled,
                # they made each snapshot cost more than the last (the child's copy, so the running
                # emulator keeps them).
                _dropped = [  # referenced until os._exit, which frees nothing
                    _drop_stream_records(dynamodb.tables.values())
                    for regions in _backends()["dynamodb"].values()
                    for dynamodb in regions.values()
                ]
                save(self.directory)
            except BaseException:  # noqa: BLE001 - reported through the exit code
                code = 1
            os._exit(code)
        try:
            self._wait_for(pid)
        finally:
            gc.unfreeze()

    def _wait_for(self, pid: int) -> None:
        deadline = time.monotonic() + CHILD_TIMEOUT_SECONDS
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                if os.waitstatus_to_exitcode(status) != 0:
                    self.failures += 1
                    self._changed.set()  # try again at the next interval
                return
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                self.failures += 1
                self._changed.set()
                return
            time.sleep(0.02)
