"""The analytics context's errors (api.video's slugs where it has them)."""

from __future__ import annotations

from chalicelib.core.domain.errors import DomainError


class EventStoreUnavailable(DomainError):
    """Firehose or Athena failed; the caller may retry."""

    status = 503
    slug = "service-unavailable"
    title = "The analytics store is unavailable; retry later."


class QueryFailed(DomainError):
    status = 503
    slug = "service-unavailable"
    title = "The analytics query failed; retry later."
