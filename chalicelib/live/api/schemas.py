"""Wire shapes of the live responses, for `/openapi.json` only (the presenters build the bodies),
field for field as the api.video SDK 1.4.7 models read them, plus Videoplane's extensions."""

# ruff: noqa: N815 - the attributes are the wire names

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from chalicelib.live.domain.live_event_templates import LiveEventTemplateCreation, LiveProfile


class LiveStreamAssets(BaseModel):
    hls: str
    iframe: str
    player: str
    thumbnail: str


class RestreamsResponseObject(BaseModel):
    name: str
    serverUrl: str
    streamKey: str


class IngestPoint(BaseModel):
    server: str = Field(description="What an encoder asks for as its server (RTMP) or URL without options (SRT)")
    streamKey: str
    url: str = Field(description="The full URL, with the key (SRT: as `streamid`)")


class SrtIngestPoint(IngestPoint):
    passphrase: str | None = Field(
        default=None,
        description="The channel's SRT passphrase (also in `url`); a push without it, or with another, is refused",
    )


class LiveStreamIngest(BaseModel):
    """Videoplane extension: where encoders push, per protocol."""

    rtmps: IngestPoint
    rtmp: IngestPoint
    srt: SrtIngestPoint


class RestreamStatus(BaseModel):
    """Videoplane extension: a restream target's relay (never its stream key)."""

    name: str
    serverUrl: str
    state: Literal["idle", "connecting", "live", "retrying", "failed", "stopped"] = Field(
        description="idle: no broadcast has run its relay yet; connecting; live: media reaches the target; "
        "retrying: the last attempt failed (see reason); failed: the relay gave up; stopped: the target was "
        "removed or the broadcast ended"
    )
    since: datetime | None = Field(default=None, description="When the relay entered this state")
    reason: str | None = Field(default=None, description="The relay's last error (retrying, failed)")


class LiveStreamStatus(BaseModel):
    """Videoplane extension: the live plane's view of the stream's latest push."""

    state: Literal["idle", "connected", "disconnected", "ended"] = Field(
        description="idle: never pushed; connected: a push is on (broadcasting once viewers can watch); "
        "ended: the latest push is over"
    )
    sessionId: str | None = Field(default=None, description="The live plane's id of the latest push (IVS stream id)")
    connectedAt: datetime | None = None
    broadcastStartedAt: datetime | None = Field(default=None, description="When viewers could first watch it")
    endedAt: datetime | None = None
    disconnectedAt: datetime | None = Field(default=None, description="When the encoder dropped (disconnected)")
    restreams: list[RestreamStatus] = Field(
        default=[], description="Each restream target's relay state, in the order of `restreams`"
    )


class LiveStream(BaseModel):
    liveStreamId: str
    name: str
    streamKey: str
    record: bool = Field(description="Videoplane: the broadcast is recorded (live-to-VOD)")
    public: bool
    assets: LiveStreamAssets
    playerId: str | None = None
    broadcasting: bool
    restreams: list[RestreamsResponseObject]
    createdAt: datetime
    updatedAt: datetime
    ingest: LiveStreamIngest
    reconnectWindow: int = Field(
        description="Videoplane: seconds (0-300, default 60) a dropped encoder has to come back and continue "
        "the same broadcast"
    )
    status: LiveStreamStatus


# -- managed live events (Videoplane) -------------------------------------------------------------


class LiveEventTemplate(LiveEventTemplateCreation):
    """A live event template: the profile an event's MediaLive channel is built from."""

    templateId: str
    version: int = Field(description="Bumped by every change; events record the version they applied")
    createdAt: datetime
    updatedAt: datetime


class LiveEventSchedule(BaseModel):
    armAt: datetime = Field(description="When the channel is created and started (default: startAt - 5 min)")
    startAt: datetime
    endAt: datetime


class LiveEventIngestPoint(BaseModel):
    protocol: Literal["rtmp", "srt"]
    url: str = Field(description="Where the encoder pushes (MediaLive's input destination)")


class LiveEventRoute(BaseModel):
    protocol: Literal["rtmp", "srt"]


class LiveEventRoutes(BaseModel):
    primary: LiveEventRoute
    backup: LiveEventRoute | None = None


class LiveEvent(BaseModel):
    """A managed live event (Videoplane): a MediaLive channel per event while armed or live."""

    liveEventId: str
    name: str
    liveStreamId: str | None = None
    videoId: str | None = Field(default=None, description="A premiere: the video whose source plays")
    state: Literal["draft", "armed", "live", "ended", "failed"]
    stateChangedAt: datetime
    failure: str | None = None
    templateId: str
    templateVersion: int = Field(description="The template version applied (compare with a release)")
    overrides: dict[str, Any]
    profile: LiveProfile = Field(description="The settings applied: the template's with the overrides")
    schedule: LiveEventSchedule
    routes: LiveEventRoutes | None = Field(description="None for a premiere (a file plays)")
    routeMode: Literal["automatic", "primary", "backup"]
    activeRoute: Literal["primary", "backup"] | None = None
    ingest: dict[str, LiveEventIngestPoint] = Field(description="Per route, once armed")
    playbackUrl: str | None = Field(default=None, description="The HLS manifest, once armed")
    createdAt: datetime
    updatedAt: datetime


class LiveEventTimelineEntry(BaseModel):
    at: datetime
    kind: Literal["request", "transition", "health", "failover", "route", "automation"]
    summary: str
    requestId: str | None = Field(default=None, description="The API request (kind: request)")
    actorKeyId: str | None = Field(default=None, description="The API key that made it (kind: request)")
    detail: dict[str, Any] | None = None


class LiveEventInputHealth(BaseModel):
    route: Literal["primary", "backup"]
    protocol: Literal["rtmp", "srt"]
    active: bool


class LiveEventAlert(BaseModel):
    alarmId: str
    alertType: str = Field(description="MediaLive's alert wording, e.g. RTMP Has No Audio/Video")
    pipeline: str
    message: str
    since: datetime


class LiveEventIncident(BaseModel):
    incidentId: str
    openedAt: datetime
    resolvedAt: datetime | None = None
    metrics: list[str] = Field(description="The AWS/MediaLive metrics whose alarms went to ALARM")
    switchedFrom: Literal["primary", "backup"] | None = Field(default=None, description="The route automation left")
    stabilizingSince: datetime | None = Field(default=None, description="Every alarm OK since; the revert follows")


class LiveEventHealth(BaseModel):
    liveEventId: str
    state: Literal["draft", "armed", "live", "ended", "failed"]
    routeMode: Literal["automatic", "primary", "backup"]
    activeRoute: Literal["primary", "backup"] | None = None
    activeRouteSince: datetime | None = None
    channelState: str | None = Field(default=None, description="MediaLive's latest reported channel state")
    inputs: list[LiveEventInputHealth]
    alerts: list[LiveEventAlert] = Field(description="Alerts MediaLive set and has not cleared")
    incident: LiveEventIncident | None = Field(default=None, description="The latest incident (automation)")
    ladderCap: int | None = Field(
        default=None,
        description="While an incident is open (action cap-ladder): the highest rendition height players should"
        " select; the channel keeps encoding its whole ladder (MediaLive cannot change a running channel's encodes)",
    )
    version: int = Field(
        description="Grows with every change of the event. Pushed documents can arrive out of order (two changes"
        " a few milliseconds apart): keep the one with the highest version"
    )


class LiveEventHealthSubscription(BaseModel):
    url: str = Field(
        description="The WebSocket URL to open as is (the token is in its query): each message is the event's"
        " health document, sent on every change"
    )
    token: str = Field(description="Opens connections to this event's health until expiresAt")
    expiresAt: datetime
    streamUrl: str | None = Field(
        default=None,
        description="Server-sent events of the same documents (`event: health`), where the stack offers them"
        " (the devstack)",
    )
