"""Wire shapes of the analytics routes, for `/openapi.json` (the views build the bodies): api.video
SDK 1.4.7's AnalyticsApi models field for field, and Videoplane's beacon receipt."""

# ruff: noqa: N815 - the attributes are the wire names

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chalicelib.core.api.openapi import Pagination


class BeaconReceipt(BaseModel):
    """Videoplane: how many events of the beacon were stored."""

    accepted: int


class WatchReceipt(BaseModel):
    """api.video's collector answer: the session id the player keeps."""

    session: str


class Timeframe(BaseModel):
    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None


class AggregatedContext(BaseModel):
    metric: str
    aggregation: str | None = Field(default=None, description="Left out for `peak` and `live` (SDK 1.4.7 rejects them)")
    timeframe: Timeframe


class AnalyticsAggregatedMetricsResponse(BaseModel):
    context: AggregatedContext
    data: float | None


class BreakdownContext(BaseModel):
    metric: str
    breakdown: str
    timeframe: Timeframe


class BreakdownData(BaseModel):
    dimensionValue: str
    metricValue: float | None


class AnalyticsMetricsBreakdownResponse(BaseModel):
    context: BreakdownContext
    data: list[BreakdownData]
    pagination: Pagination


class OverTimeContext(BaseModel):
    metric: str
    interval: Literal["minute", "hour", "day"]
    timeframe: Timeframe


class OverTimeData(BaseModel):
    emittedAt: datetime
    metricValue: float | None


class AnalyticsMetricsOverTimeResponse(BaseModel):
    context: OverTimeContext
    data: list[OverTimeData]
    pagination: Pagination


class AccountQuota(BaseModel):
    """Minutes encoded in the term; quotaTotal 0: no quota (VIDEOPLANE_USAGE_QUOTA_MINUTES)."""

    quotaUsed: int
    quotaRemaining: int
    quotaTotal: int


class AccountTerm(BaseModel):
    """The calendar month (UTC)."""

    startAt: str
    endAt: str


class Usage(BaseModel):
    """Videoplane extension: usage figures (docs/analytics.md, "Usage")."""

    encodedMinutes: float
    storedBytes: int | None = Field(description="Bytes in the media bucket (null: not measured that day)")
    watchedMinutes: float
    deliveredBytes: int = Field(description="Estimated: watch time times the rendition's bitrate")
    liveMinutes: float


class Account(BaseModel):
    """api.video's account resource, with the term's usage so far."""

    quota: AccountQuota
    term: AccountTerm
    features: list[str]
    usage: Usage


class UsageDay(Usage):
    day: str = Field(description="UTC day, YYYY-MM-DD")


class UsageDays(BaseModel):
    data: list[UsageDay]
