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
    storedBytes: int | None = Field(
        description="Bytes of media and sources (media and uploads buckets; null: not measured that day)"
    )
    watchedMinutes: float
    deliveredBytes: int = Field(description="Estimated: watch time times the rendition's bitrate")
    liveMinutes: float
    roomParticipantMinutes: float = Field(description="Minutes rooms' participants were connected")


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


class SessionMetadata(BaseModel):
    key: str
    value: str


class SessionDetails(BaseModel):
    sessionId: str
    loadedAt: datetime
    endedAt: datetime = Field(description="The session's last event in the period")
    metadata: list[SessionMetadata]


class SessionLocation(BaseModel):
    country: str | None = Field(description="ISO 3166 alpha-2 (CloudFront-Viewer-Country)")
    city: None = Field(description="Not collected")


class SessionReferrer(BaseModel):
    url: str | None
    medium: None = Field(description="Not collected")
    source: str | None = Field(description="The referrer's host")
    searchTerm: None = Field(description="Not collected")


class SessionDevice(BaseModel):
    type: str | None
    vendor: None = Field(description="Not collected")
    model: None = Field(description="Not collected")


class SessionOs(BaseModel):
    name: str | None
    shortname: None = Field(description="Not collected")
    version: None = Field(description="Not collected")


class SessionClient(BaseModel):
    type: Literal["browser"]
    name: str | None
    version: None = Field(description="Not collected")


class PlaybackSession(BaseModel):
    """api.video's VideoSession and LiveStreamSession (retired 2023; research A1)."""

    session: SessionDetails
    location: SessionLocation
    referrer: SessionReferrer
    device: SessionDevice
    os: SessionOs
    client: SessionClient


class PlayerSessionEvent(BaseModel):
    """api.video's PlayerSessionEvent (SDK 1.4.7 still has the model)."""

    type: Literal["ready", "play", "pause", "resume", "seek.backward", "seek.forward", "end"]
    emittedAt: datetime
    at: int | None = Field(default=None, description="The playhead, whole seconds (not on seeks)")
    from_: int | None = Field(default=None, alias="from", description="Seeks: where the playhead left")
    to: int | None = Field(default=None, description="Seeks: where it landed")
