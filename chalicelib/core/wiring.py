"""The shared kernel's composition root, and the registry every context's root builds on.

Each factory is a `component`: built once per process on first use, and forgotten by `reset()`.
Imports happen inside the factories so that importing a view module stays cheap: a function
pays for boto3 and the adapters only when its first request needs them (cold-start budget).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import _lru_cache_wrapper, cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from chalicelib.core.adapters.audit import DynamoAuditLog
    from chalicelib.core.adapters.dynamodb import Table
    from chalicelib.core.adapters.storage import S3Bucket
    from chalicelib.core.config import Settings
    from chalicelib.core.services.ratelimit import RateLimiter

T = TypeVar("T")
_COMPONENTS: list[_lru_cache_wrapper[Any]] = []


def component(factory: Callable[..., T]) -> _lru_cache_wrapper[T]:
    """Caches a factory for the life of the process and registers it for `reset()`."""
    cached = cache(factory)
    _COMPONENTS.append(cached)
    return cached


def reset() -> None:
    """For tests: forget settings, clients and every component, so a new environment takes effect."""
    from chalicelib.core import config
    from chalicelib.core.adapters import idempotency

    config.reset_caches()
    idempotency.reset()
    for cached in _COMPONENTS:
        cached.cache_clear()


def settings() -> Settings:
    from chalicelib.core import config

    return config.get_settings()


@component
def table() -> Table:
    from chalicelib.core import config
    from chalicelib.core.adapters.dynamodb import Table

    return Table(config.dynamodb(), settings().table_name)


@component
def audit_log() -> DynamoAuditLog:
    from chalicelib.core.adapters.audit import DynamoAuditLog

    return DynamoAuditLog(table())


@component
def rate_limiter() -> RateLimiter:
    import time

    from chalicelib.core.adapters.ratelimit import DynamoRateCounter
    from chalicelib.core.services.ratelimit import RateLimiter

    return RateLimiter(DynamoRateCounter(table()), settings().rate_limits, clock=time.time)


@component
def bucket(name: str) -> S3Bucket:
    from chalicelib.core import config
    from chalicelib.core.adapters.storage import S3Bucket

    return S3Bucket(config.s3(), name)


def uploads_bucket() -> S3Bucket:
    return bucket(settings().uploads_bucket)


def media_bucket() -> S3Bucket:
    return bucket(settings().media_bucket)


def media_base_url() -> str:
    """Where players fetch media-bucket objects (CloudFront); api.video's equivalent is cdn.api.video."""
    return settings().media_base_url.rstrip("/")
