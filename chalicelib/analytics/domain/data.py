"""api.video's /data questions, checked: which metric and aggregation (or breakdown) names map to
which measure, the timeframe rules, the interval rules and `filterBy`. Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from chalicelib.analytics.domain.queries import Dimension, Filters, Interval, Measure
from chalicelib.core.domain.errors import InvalidInput, Problem, UnrecognizedRequestUrl

RETENTION = timedelta(days=30)
DEFAULT_TIMEFRAME = timedelta(days=1)
MAX_MINUTE_TIMEFRAME = timedelta(minutes=60)
MAX_HOURLY_DEFAULT = timedelta(days=2)
VIEW_DURATIONS = {"3s": 3, "5s": 5, "10s": 10, "30s": 30}
MAX_FILTER_VALUE = 2048
MAX_FILTER_VALUES = 100
# A tag filter becomes the list of its videos in the query (Athena takes queries of up to 256 KB:
# about 9,000 ids).
MAX_TAGGED_MEDIA = 5000


class Special(StrEnum):
    """Aggregations that are not one measure over the timeframe."""

    PLAY_TOTAL = "play-total"  # every retained day, from/to ignored
    CCV_LIVE = "ccv-live"  # the last 20 seconds


# (metric, aggregation) → what it computes (api.video's docstrings; compat §2).
AGGREGATIONS: dict[tuple[str, str], Measure | Special] = {
    ("play", "count"): Measure.PLAYS,
    ("play", "rate"): Measure.PLAY_RATE,
    ("play", "total"): Special.PLAY_TOTAL,
    ("start", "count"): Measure.STARTS,
    ("end", "count"): Measure.ENDS,
    ("impression", "count"): Measure.IMPRESSIONS,
    ("impression-time", "average"): Measure.IMPRESSION_TIME_AVERAGE,
    ("impression-time", "sum"): Measure.IMPRESSION_TIME_SUM,
    ("watch-time", "average"): Measure.WATCH_TIME_AVERAGE,
    ("watch-time", "sum"): Measure.WATCH_TIME_SUM,
    ("ccv", "peak"): Measure.CCV_PEAK,
    ("ccv", "average"): Measure.CCV_AVERAGE,
    ("ccv", "live"): Special.CCV_LIVE,
    ("view", "count"): Measure.VIEWS,
    # Quality of experience: Videoplane's extension (Mux Data's definitions; api.video has none).
    ("startup-time", "median"): Measure.STARTUP_TIME_P50,
    ("startup-time", "p95"): Measure.STARTUP_TIME_P95,
    ("rebuffer", "percentage"): Measure.REBUFFER_PERCENTAGE,
    ("rebuffer", "frequency"): Measure.REBUFFER_FREQUENCY,
    ("playback-failure", "rate"): Measure.PLAYBACK_FAILURE_RATE,
    ("exit-before-start", "rate"): Measure.EXITS_BEFORE_START_RATE,
}
# The QoE measures, by the name breakdowns and timeseries take (Videoplane's extension).
QOE_METRICS: dict[str, Measure] = {
    "startup-time-median": Measure.STARTUP_TIME_P50,
    "startup-time-p95": Measure.STARTUP_TIME_P95,
    "rebuffer-percentage": Measure.REBUFFER_PERCENTAGE,
    "rebuffer-frequency": Measure.REBUFFER_FREQUENCY,
    "playback-failure-rate": Measure.PLAYBACK_FAILURE_RATE,
    "exit-before-start-rate": Measure.EXITS_BEFORE_START_RATE,
}
# Breakdown and timeseries metrics.
BUCKET_METRICS: dict[str, Measure | Special] = {
    "play": Measure.PLAYS,
    "play-rate": Measure.PLAY_RATE,
    "play-total": Special.PLAY_TOTAL,
    "start": Measure.STARTS,
    "end": Measure.ENDS,
    "impression": Measure.IMPRESSIONS,
    "ccv-peak": Measure.CCV_PEAK,
    "ccv-average": Measure.CCV_AVERAGE,
    "view": Measure.VIEWS,
    **QOE_METRICS,
}
# The SDK rejects these in a response's context (compat A2), so they are never echoed.
UNECHOED_AGGREGATIONS = frozenset({"peak", "live"})

_LIST_FILTERS = {
    "mediaId": "media_ids",
    "continent": "continents",
    "country": "countries",
    "deviceType": "device_types",
    "operatingSystem": "operating_systems",
    "browser": "browsers",
    "referrer": "referrers",
}
_CONTINENTS = frozenset({"AS", "AF", "NA", "SA", "AN", "EU", "AZ"})


def invalid_query(name: str, detail: str) -> InvalidInput:
    return InvalidInput([Problem("request-invalid-query-parameter", "A query parameter is invalid.", name, detail)])


def aggregation_of(metric: str, aggregation: str) -> Measure | Special:
    found = AGGREGATIONS.get((metric, aggregation))
    if found is None:
        raise UnrecognizedRequestUrl()
    return found


def bucket_metric(metric: str) -> Measure | Special:
    found = BUCKET_METRICS.get(metric)
    if found is None:
        raise UnrecognizedRequestUrl()
    return found


def dimension_of(breakdown: str, metric: Measure | Special) -> Dimension:
    try:
        dimension = Dimension(breakdown)
    except ValueError:
        raise UnrecognizedRequestUrl() from None
    if metric == Special.PLAY_TOTAL and dimension != Dimension.MEDIA_ID:
        raise UnrecognizedRequestUrl()
    return dimension


@dataclass(frozen=True)
class Timeframe:
    start: datetime
    end: datetime

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)


def timeframe(start: datetime | None, end: datetime | None, now: datetime) -> Timeframe:
    """api.video's defaults: `to` now, `from` a day before `to`; `from` at most 30 days ago
    (the raw events' retention); `to` excluded."""
    end = _utc(end) if end else now
    start = _utc(start) if start else end - DEFAULT_TIMEFRAME
    if start < now - RETENTION:
        raise invalid_query("from", "This value must be at most 30 days ago.")
    if start >= end:
        raise invalid_query("from", "This value must be before `to`.")
    return Timeframe(start, end)


def interval_of(value: str | None, frame: Timeframe) -> Interval:
    if value is None:
        return Interval.HOUR if frame.end - frame.start <= MAX_HOURLY_DEFAULT else Interval.DAY
    try:
        interval = Interval(value)
    except ValueError:
        raise invalid_query("interval", 'This interval is invalid. Use one of "minute", "hour", "day".') from None
    if interval == Interval.MINUTE and frame.end - frame.start > MAX_MINUTE_TIMEFRAME:
        raise invalid_query("interval", "This interval cannot be used with a timeframe over 60 minutes.")
    return interval


def view_seconds(value: str | None) -> int:
    if value is None:
        return VIEW_DURATIONS["5s"]
    if value not in VIEW_DURATIONS:
        raise invalid_query("viewDuration", 'This view duration is invalid. Use one of "3s", "5s", "10s", "30s".')
    return VIEW_DURATIONS[value]


def filters_of(query: Mapping[str, Sequence[str]], totals_only: bool = False) -> Filters:
    """`filterBy[k]=v` and `filterBy[k][]=v` (the SDK's deepObject, compat §2.1). `totals_only`:
    play/total and play-total take only mediaId and mediaType."""
    values: dict[str, list[str]] = {}
    media_type: str | None = None
    tag: str | None = None
    for key, given in query.items():
        if not key.startswith("filterBy["):
            continue
        name = key[len("filterBy[") :].removesuffix("[]").removesuffix("]")
        param = f"filterBy[{name}]"
        if name == "mediaType":
            media_type = given[-1]
            if media_type not in ("video", "live-stream"):
                raise invalid_query(param, 'This value must be one of "video", "live-stream".')
            continue
        if name == "tag" and not totals_only:
            # api.video: one value, case sensitive; the videos carrying it now (docs/analytics.md).
            tag = given[-1]
            _check_value(param, name, tag)
            continue
        if name not in _LIST_FILTERS or (totals_only and name != "mediaId"):
            raise invalid_query(param, "This field was not expected.")
        for value in given:
            _check_value(param, name, value)
        values.setdefault(_LIST_FILTERS[name], []).extend(given)
        if len(values[_LIST_FILTERS[name]]) > MAX_FILTER_VALUES:
            raise invalid_query(param, f"This filter takes at most {MAX_FILTER_VALUES} values.")
    return Filters(media_type=media_type, tag=tag, **{k: tuple(v) for k, v in values.items()})


def uniquely(what: Measure | Special, unique: bool | None) -> Measure | Special:
    """api.video's `unique` (ccv and view only): unique views count a session once a day. Concurrent
    viewers are distinct sessions a minute either way."""
    return Measure.UNIQUE_VIEWS if unique and what == Measure.VIEWS else what


def tagged(filters: Filters, media_ids: Sequence[str]) -> Filters:
    """The tag filter as the media carrying the tag (within any mediaId filter)."""
    if len(media_ids) > MAX_TAGGED_MEDIA:
        raise invalid_query("filterBy[tag]", f"This tag is on more than {MAX_TAGGED_MEDIA} videos.")
    chosen = [m for m in media_ids if m in filters.media_ids] if filters.media_ids else list(media_ids)
    return dataclasses.replace(filters, tagged_media=tuple(sorted(chosen)))


def _check_value(param: str, name: str, value: str) -> None:
    if len(value) > MAX_FILTER_VALUE:
        raise invalid_query(param, "This value should not contain more than 2048 characters.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise invalid_query(param, "This value must not contain control characters.")
    if name == "continent" and value not in _CONTINENTS:
        raise invalid_query(param, "This value must be one of AS, AF, NA, SA, AN, EU, AZ.")
    if name == "country" and not (len(value) == 2 and value.isalpha() and value.isupper()):
        raise invalid_query(param, "This value must be an ISO 3166 alpha-2 country code, such as FR.")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
