"""api.video's /data endpoints (SDK 1.4.7 AnalyticsApi), over the event store."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.analytics import wiring
from chalicelib.analytics.api import presenters
from chalicelib.analytics.domain import data
from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.clock import utc_now
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.pagination import SortOrder
from chalicelib.core.permissions import ANALYTICS_CATALOG_READ, ANALYTICS_OBJECTS_QUERY, ANALYTICS_QUERIES
from chalicelib.platform.api.authorizer import api_key_authorizer

bp = Blueprint(__name__)
TAG = "Analytics"
QUERY_ACCESS = (ANALYTICS_QUERIES, ANALYTICS_CATALOG_READ, ANALYTICS_OBJECTS_QUERY)
_KEPT = ("from", "to", "unique", "viewDuration", "interval", "sortBy", "sortOrder", "filterBy")


class MetricsQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime | None = Field(default=None, alias="from", description="ATOM date-time; default: a day before `to`")
    to: datetime | None = Field(default=None, description="ATOM date-time, excluded; default: now")
    unique: bool | None = Field(
        default=None, description="ccv and view: a viewer is a session; unique views count it once a UTC day"
    )
    viewDuration: str | None = Field(default=None, description="3s, 5s (default), 10s or 30s")  # noqa: N815
    filterBy: dict[str, str | list[str]] | None = Field(  # noqa: N815
        default=None,
        description="mediaId, mediaType, continent, country, deviceType, operatingSystem, browser, referrer, tag",
    )


QueryT = TypeVar("QueryT", bound=MetricsQuery)


class PagedQuery(MetricsQuery):
    currentPage: int | None = Field(default=None, ge=1)  # noqa: N815
    pageSize: int | None = Field(default=None, ge=1, le=100)  # noqa: N815


class BucketsQuery(PagedQuery):
    sortBy: Literal["metricValue", "dimensionValue"] | None = None  # noqa: N815
    sortOrder: SortOrder | None = None  # noqa: N815


class TimeseriesQuery(PagedQuery):
    interval: str | None = Field(default=None, description="minute, hour or day; default: hour up to 2 days, else day")
    sortBy: Literal["metricValue", "emittedAt"] | None = None  # noqa: N815
    sortOrder: SortOrder | None = None  # noqa: N815


@endpoint(
    bp,
    "/data/metrics/{metric}/{aggregation}",
    "GET",
    permission=Permission.READ,
    authorizer=api_key_authorizer,
    uses=QUERY_ACCESS,
    query=MetricsQuery,
    response="AnalyticsAggregatedMetricsResponse",
    operation_id="GET_aggregated-metrics",
    errors=(404,),
    tag=TAG,
)
def get_aggregated_metrics(call: Call, metric: str, aggregation: str) -> Any:
    """Retrieve aggregated metrics"""
    query = _query(call, MetricsQuery)
    what = data.uniquely(data.aggregation_of(metric, aggregation), query.unique)
    frame = data.timeframe(query.from_, query.to, utc_now())
    filters = data.filters_of(call.query_values(), totals_only=what == data.Special.PLAY_TOTAL)
    seconds = data.view_seconds(query.viewDuration)
    value = wiring.metrics_service().aggregate(call.actor.project_id, what, frame, filters, seconds)
    return presenters.aggregated(metric, aggregation, seconds, frame, value, bool(query.unique))


@endpoint(
    bp,
    "/data/buckets/{metric}/{breakdown}",
    "GET",
    permission=Permission.READ,
    authorizer=api_key_authorizer,
    uses=QUERY_ACCESS,
    query=BucketsQuery,
    response="AnalyticsMetricsBreakdownResponse",
    operation_id="GET_metrics-breakdown",
    errors=(404,),
    tag=TAG,
)
def get_metrics_breakdown(call: Call, metric: str, breakdown: str) -> Any:
    """Retrieve metrics in a breakdown of dimensions"""
    query = _query(call, BucketsQuery)
    what = data.uniquely(data.bucket_metric(metric), query.unique)
    dimension = data.dimension_of(breakdown, what)
    frame = data.timeframe(query.from_, query.to, utc_now())
    filters = data.filters_of(call.query_values(), totals_only=what == data.Special.PLAY_TOTAL)
    seconds = data.view_seconds(query.viewDuration)
    rows = wiring.metrics_service().breakdown(call.actor.project_id, what, dimension, frame, filters, seconds)
    return presenters.breakdown(
        metric, breakdown, seconds, frame, rows, query, call.page(), call.path, call.filters(*_KEPT)
    )


@endpoint(
    bp,
    "/data/timeseries/{metric}",
    "GET",
    permission=Permission.READ,
    authorizer=api_key_authorizer,
    uses=QUERY_ACCESS,
    query=TimeseriesQuery,
    response="AnalyticsMetricsOverTimeResponse",
    operation_id="GET_metrics-over-time",
    errors=(404,),
    tag=TAG,
)
def get_metrics_over_time(call: Call, metric: str) -> Any:
    """Retrieve metrics over time"""
    query = _query(call, TimeseriesQuery)
    what = data.uniquely(data.bucket_metric(metric), query.unique)
    frame = data.timeframe(query.from_, query.to, utc_now())
    interval = data.interval_of(query.interval, frame)
    filters = data.filters_of(call.query_values())
    seconds = data.view_seconds(query.viewDuration)
    points = wiring.metrics_service().timeseries(call.actor.project_id, what, interval, frame, filters, seconds)
    return presenters.over_time(
        metric, interval, seconds, frame, points, query, call.page(), call.path, call.filters(*_KEPT)
    )


def _query(call: Call, model: type[QueryT]) -> QueryT:
    names = {field.alias or name for name, field in model.model_fields.items()} - {"filterBy"}
    return call.query(model, {name: value for name in names if (value := call.single(name)) is not None})
