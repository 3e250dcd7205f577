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


class InvalidUsageRange(DomainError):
    status = 400
    slug = "invalid-attribute"
    title = "The usage range is invalid."


class BroadcastNotOpen(DomainError):
    """A broadcast's end arrived before its start (events are not ordered): the message is
    retried until the start has been counted."""

    status = 409
    slug = "conflict"
    title = "The broadcast's start has not been counted yet."
