"""/data bodies as SDK 1.4.7 reads them: it rejects `peak` and `live` as a context's aggregation
and `view` or `play-total` as its metric (compat A2), so those are never echoed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chalicelib.analytics.domain.data import UNECHOED_AGGREGATIONS, Timeframe
from chalicelib.analytics.domain.queries import Interval
from chalicelib.analytics.domain.sessions import SessionEvent, SessionRow, metadata_list
from chalicelib.analytics.domain.usage import FEATURES, UsageDay
from chalicelib.core.clock import to_atom
from chalicelib.core.domain.pagination import Page, PageRequest, SortOrder, paginate

if TYPE_CHECKING:
    from chalicelib.analytics.services.usage import Account

Number = int | float


# `unique` changes the context's metric name for these (SDK 1.4.7's enums: unique-ccv,
# unique-ccv-peak, unique-ccv-average, unique-view-<seconds>).
_UNIQUE_METRICS = frozenset({"ccv", "ccv-peak", "ccv-average", "view"})


def _metric(metric: str, view_seconds: int, unique: bool = False) -> str:
    named = f"view-{view_seconds}" if metric == "view" else "play" if metric == "play-total" else metric
    return f"unique-{named}" if unique and metric in _UNIQUE_METRICS else named


def _timeframe(frame: Timeframe) -> dict[str, str]:
    return {"from": to_atom(frame.start), "to": to_atom(frame.end)}


def aggregated(
    metric: str, aggregation: str, view_seconds: int, frame: Timeframe, value: Number | None, unique: bool = False
) -> dict[str, Any]:
    context: dict[str, Any] = {"metric": _metric(metric, view_seconds, unique), "timeframe": _timeframe(frame)}
    if aggregation not in UNECHOED_AGGREGATIONS:
        context["aggregation"] = aggregation
    return {"context": context, "data": value}


def breakdown(
    metric: str,
    dimension: str,
    view_seconds: int,
    frame: Timeframe,
    rows: Sequence[tuple[str, Number | None]],
    query: Any,
    page: PageRequest,
    path: str,
    filters: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    by_dimension = query.sortBy == "dimensionValue"
    descending = (query.sortOrder or (SortOrder.ASC if by_dimension else SortOrder.DESC)) == SortOrder.DESC
    ordered = sorted(rows, key=lambda r: r[0] if by_dimension else (r[1] or 0, r[0]), reverse=descending)
    chosen = paginate(ordered, page)
    items = [{"dimensionValue": value, "metricValue": metric_value} for value, metric_value in chosen.items]
    context = {
        "metric": _metric(metric, view_seconds, bool(query.unique)),
        "breakdown": dimension,
        "timeframe": _timeframe(frame),
    }
    return {"context": context, **chosen.envelope(items, path, filters)}


def over_time(
    metric: str,
    interval: Interval,
    view_seconds: int,
    frame: Timeframe,
    points: Sequence[tuple[int, Number | None]],
    query: Any,
    page: PageRequest,
    path: str,
    filters: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    by_value = query.sortBy == "metricValue"
    descending = (query.sortOrder or SortOrder.ASC) == SortOrder.DESC
    ordered = sorted(points, key=lambda p: (p[1] or 0, p[0]) if by_value else p[0], reverse=descending)
    chosen = paginate(ordered, page)
    items = [
        {"emittedAt": to_atom(datetime.fromtimestamp(at / 1000, tz=UTC)), "metricValue": value}
        for at, value in chosen.items
    ]
    context = {
        "metric": _metric(metric, view_seconds, bool(query.unique)),
        "interval": interval.value,
        "timeframe": _timeframe(frame),
    }
    return {"context": context, **chosen.envelope(items, path, filters)}


def usage(row: UsageDay) -> dict[str, Any]:
    """Videoplane's usage figures (minutes to the millisecond, bytes whole)."""
    return {
        "encodedMinutes": round(row.encoded_seconds / 60, 3),
        "storedBytes": row.stored_bytes,
        "watchedMinutes": round(row.watched_seconds / 60, 3),
        "deliveredBytes": row.delivered_bytes,
        "liveMinutes": round(row.live_seconds / 60, 3),
        "roomParticipantMinutes": round(row.room_seconds / 60, 3),
    }


def account(account: Account) -> dict[str, Any]:
    return {
        "quota": {
            "quotaUsed": account.quota.used,
            "quotaRemaining": account.quota.remaining,
            "quotaTotal": account.quota.total,
        },
        "term": {"startAt": account.term.start.isoformat(), "endAt": account.term.end.isoformat()},
        "features": list(FEATURES),
        "usage": usage(account.usage),
    }


def usage_days(rows: Sequence[UsageDay]) -> dict[str, Any]:
    return {"data": [{"day": row.day, **usage(row)} for row in rows]}


def _atom(ms: int) -> str:
    return to_atom(datetime.fromtimestamp(ms / 1000, tz=UTC))


def session(row: SessionRow) -> dict[str, Any]:
    """api.video's VideoSession / LiveStreamSession (A1). What beacons do not tell (city, device
    vendor and model, OS and browser versions, the referrer's medium and search term) is null."""
    host = urlsplit(row.referrer).hostname if row.referrer else None
    return {
        "session": {
            "sessionId": row.session_id,
            "loadedAt": _atom(row.loaded_ms),
            "endedAt": _atom(row.ended_ms),
            "metadata": metadata_list(row.metadata),
        },
        "location": {"country": row.country or None, "city": None},
        "referrer": {"url": row.referrer or None, "medium": None, "source": host, "searchTerm": None},
        "device": {"type": row.device_type or None, "vendor": None, "model": None},
        "os": {"name": row.operating_system or None, "shortname": None, "version": None},
        "client": {"type": "browser", "name": row.browser or None, "version": None},
    }


def session_event(event: SessionEvent) -> dict[str, Any]:
    """api.video's PlayerSessionEvent: `at` for most, `from` and `to` for seeks."""
    body: dict[str, Any] = {"type": event.type, "emittedAt": _atom(event.emitted_ms)}
    if event.at is not None:
        body["at"] = event.at
    if event.from_ is not None:
        body["from"] = event.from_
        body["to"] = event.to
    return body


def sessions(page: Page[SessionRow], path: str, filters: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return page.envelope([session(row) for row in page.items], path, filters)


def session_events(page: Page[SessionEvent], path: str) -> dict[str, Any]:
    return page.envelope([session_event(event) for event in page.items], path, [])
