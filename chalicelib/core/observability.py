"""One structured logger for the whole app (Powertools JSON lines), and the invocation each line
belongs to.

The invocation's keys (request id, method, path) live in a ContextVar, not in the logger: the
logger is one object shared by every invocation a process runs at the same time (the devstack's
threads, a consumer's worker pool), so keys appended to it would land on other invocations'
lines. A logging filter copies the current invocation's keys onto each record as it is made, in
the thread that makes it.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

from aws_lambda_powertools import Logger

# Not the Chalice app name: Logger(service=X) reuses the stdlib logger X, which Chalice also
# configures, and every line would be printed twice.
logger = Logger(service="videoplane-api")

# An immutable mapping per invocation (never mutated in place, so no context sees another's).
_INVOCATION: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "videoplane_invocation", default=MappingProxyType({})
)


class _InvocationKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _INVOCATION.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


logging.getLogger(logger.name).addFilter(_InvocationKeys())


@contextmanager
def invocation(request_id: str, **keys: str) -> Iterator[None]:
    """Every line logged inside (in this thread, or in work started with `copy_context()`)
    carries `request_id` and `keys`; nothing outside does."""
    token = _INVOCATION.set(MappingProxyType({"request_id": request_id, **keys}))
    try:
        yield
    finally:
        _INVOCATION.reset(token)


def pipeline_stage(video_id: str, name: str, **fields: object) -> None:
    """One structured line per VOD pipeline step (benchmarks/time_to_playable.py reads them)."""
    logger.info("pipeline stage", extra={"videoId": video_id, "stage": name, **fields})
