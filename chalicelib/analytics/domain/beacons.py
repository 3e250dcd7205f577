"""Player beacons, as the embed page's script and api.video's players send them, and the event
records they become. Pure: the viewer (device, OS, browser, country) and the media's project are
found by the caller and passed in; nothing here reads the clock or the network."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Beacons carry the client's clock; it is trusted only for order and spacing within a beacon, and
# never beyond this much before the server received it (a tab suspended for hours sends late).
MAX_CLIENT_LAG_MS = 60_000
MAX_EVENTS_PER_BEACON = 50
MAX_REFERRER = 2048
# api.video's v2 players send a beacon every 5 s while playing.
WATCH_BEACON_PERIOD_MS = 5000
# Every player makes ids of 16 characters or more (UUIDs, the embed script's fallback, api.video's
# v2 UUIDs): shorter ones could be guessed, and /analytics/sessions/{id} takes the same pattern.
SessionId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_-]{16,64}$")]
MediaId = Annotated[str, StringConstraints(pattern=r"^(vi|li)[0-9A-Za-z]{22}$")]
PlayerId = Annotated[str, StringConstraints(pattern=r"^pl[0-9A-Za-z]{22}$")]
Referrer = Annotated[str, StringConstraints(max_length=MAX_REFERRER)]
Seconds = Annotated[float, Field(ge=0, le=10 * 24 * 3600)]
MAX_METADATA, MAX_METADATA_KEY, MAX_METADATA_VALUE = 10, 64, 256
MetadataKey = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_METADATA_KEY, pattern=r"^[^\x00-\x1f\x7f]+$")
]
MetadataValue = Annotated[str, StringConstraints(max_length=MAX_METADATA_VALUE, pattern=r"^[^\x00-\x1f\x7f]*$")]


class EventType(StrEnum):
    """A playback session's events (Mux Data's vocabulary where api.video has none)."""

    IMPRESSION = "impression"  # loaded and ready to play
    PLAY = "play"  # play requested (user or autoplay)
    START = "start"  # first frame shown after a play request; carries startup_ms
    PAUSE = "pause"
    RESUME = "resume"
    SEEK = "seek"
    BUFFER_START = "buffer_start"
    BUFFER_END = "buffer_end"
    RENDITION = "rendition"
    ERROR = "error"
    END = "end"
    HEARTBEAT = "heartbeat"


class MediaType(StrEnum):
    VIDEO = "video"
    LIVE_STREAM = "live-stream"


def media_type_of(media_id: str) -> MediaType:
    return MediaType.LIVE_STREAM if media_id.startswith("li") else MediaType.VIDEO


class BeaconEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: EventType
    at: int = Field(ge=0, description="Client time of the event, ms since the epoch")
    playhead: Seconds = 0.0
    watched: Seconds = Field(default=0.0, description="Seconds watched since the session's previous event")
    startupMs: int | None = Field(default=None, ge=0, le=600_000)  # noqa: N815
    seekFrom: Seconds | None = None  # noqa: N815
    rendition: Annotated[str, StringConstraints(max_length=32)] | None = None
    error: Annotated[str, StringConstraints(max_length=256)] | None = None


class Beacon(BaseModel):
    """Videoplane's beacon: what chalicelib/analytics/api/assets/analytics.js sends."""

    model_config = ConfigDict(extra="forbid")

    session: SessionId
    media: MediaId
    player: PlayerId | None = None
    referrer: Referrer = ""
    sentAt: int = Field(ge=0)  # noqa: N815
    events: list[BeaconEvent] = Field(min_length=1, max_length=MAX_EVENTS_PER_BEACON)
    metadata: dict[MetadataKey, MetadataValue] | None = Field(
        default=None,
        max_length=MAX_METADATA,
        description="The session's metadata (api.video's player `metadata`), listed and filtered by /analytics",
    )


class WatchEventType(IntEnum):
    """api.video's player-analytics v2 `typ` codes."""

    LOADED = 1
    PLAY = 2
    PAUSE = 3
    TIME_UPDATE = 4
    ERROR = 5
    ENDED = 6
    SEEKING = 7
    SRC_CHANGE = 8


class WatchEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    eat: int = Field(ge=0)
    typ: WatchEventType
    vti: Seconds = 0.0
    vwi: int | None = Field(default=None, ge=0, le=100_000)
    vhe: int | None = Field(default=None, ge=0, le=100_000)
    pau: bool | None = None
    eco: int | None = Field(default=None, ge=0, le=4)


class WatchBeacon(BaseModel):
    """api.video's player-analytics v2 ("databus") beacon, as its players POST it to `/watch`."""

    model_config = ConfigDict(extra="ignore")

    sat: int = Field(ge=0)
    sid: SessionId
    mid: MediaId
    pid: Annotated[str, StringConstraints(max_length=64)] | None = None
    ref: Referrer = ""
    ver: Annotated[str, StringConstraints(max_length=16)] | None = None
    eve: list[WatchEvent] = Field(min_length=1, max_length=MAX_EVENTS_PER_BEACON)


@dataclass(frozen=True)
class Viewer:
    """Who watches, from the request: device, OS and browser from the User-Agent, country from
    the CDN (CloudFront-Viewer-Country)."""

    device_type: str = "unknown"
    operating_system: str = "unknown"
    browser: str = "unknown"
    country: str = ""
    continent: str = ""


@dataclass(frozen=True)
class EventRecord:
    """One row of the event store (resources.ANALYTICS_COLUMNS plus the partition columns)."""

    project: str
    dt: str
    ts: int
    received: int
    session_id: str
    media_id: str
    media_type: str
    event: str
    playhead: float
    watched: float
    startup_ms: int | None
    seek_from: float | None
    rendition: str | None
    error: str | None
    player_id: str | None
    referrer: str
    device_type: str
    operating_system: str
    browser: str
    country: str
    continent: str
    source: Literal["videoplane", "api.video-v2"]
    # sessions.stored_metadata of the beacon's pairs (None: none).
    metadata: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def stored_metadata(pairs: dict[str, str]) -> str | None:
    """The event store's `metadata` column: one JSON object, keys sorted, ASCII only, so a pair
    always reads the same (sessions.metadata_fragment); None: no pairs."""
    if not pairs:
        return None
    return json.dumps(dict(sorted(pairs.items())), separators=(",", ":"), ensure_ascii=True)


def event_time(client_at: int, client_sent: int, received_ms: int) -> int:
    """The server's time of an event: the client's spacing before sending, applied to the
    server's receipt, clamped so no client clock moves events into the future or far past."""
    lag = min(max(client_sent - client_at, 0), MAX_CLIENT_LAG_MS)
    return received_ms - lag


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def records_from_beacon(beacon: Beacon, project_id: str, viewer: Viewer, received_ms: int) -> list[EventRecord]:
    return [
        _record(
            project_id,
            viewer,
            received_ms,
            ts=event_time(event.at, beacon.sentAt, received_ms),
            session_id=beacon.session,
            media_id=beacon.media,
            player_id=beacon.player,
            referrer=beacon.referrer,
            event=event.type.value,
            playhead=event.playhead,
            watched=event.watched,
            startup_ms=event.startupMs,
            seek_from=event.seekFrom,
            rendition=event.rendition,
            error=event.error,
            source="videoplane",
            metadata=stored_metadata(beacon.metadata or {}),
        )
        for event in beacon.events
    ]


def records_from_watch(beacon: WatchBeacon, project_id: str, viewer: Viewer, received_ms: int) -> list[EventRecord]:
    """api.video's v2 events become ours: loadeddata → impression, play → play (resume after a
    pause), the first time update after a play → start (with the startup time), ended → end,
    seeking → seek, error → error, time updates → heartbeats.

    The v2 beacon has no watch time, and its queue keeps only the last of consecutive time
    updates, so watch time is the client time spent playing: from a play (or, when the beacon
    opens already playing, from one beacon period before it was sent) to each later event."""
    records: list[EventRecord] = []
    play_at: int | None = None
    first = beacon.eve[0]
    playing_since: int | None = (
        beacon.sat - WATCH_BEACON_PERIOD_MS if first.typ == WatchEventType.TIME_UPDATE and first.pau is False else None
    )
    for event in beacon.eve:
        watched = 0.0
        if playing_since is not None:
            watched = min(max(event.eat - playing_since, 0), WATCH_BEACON_PERIOD_MS) / 1000
            playing_since = event.eat
        after_pause = bool(records) and records[-1].event == EventType.PAUSE.value
        kind, startup_ms = _watch_kind(event, play_at, after_pause)
        if event.typ == WatchEventType.PLAY:
            playing_since = event.eat
            play_at = event.eat if kind == EventType.PLAY else play_at
        elif event.typ in (WatchEventType.PAUSE, WatchEventType.ENDED, WatchEventType.ERROR):
            playing_since = None
        if kind == EventType.START:
            play_at = None
        records.append(
            _record(
                project_id,
                viewer,
                received_ms,
                ts=event_time(event.eat, beacon.sat, received_ms),
                session_id=beacon.sid,
                media_id=beacon.mid,
                player_id=None,
                referrer=beacon.ref,
                event=kind.value,
                playhead=event.vti,
                watched=round(watched, 3),
                startup_ms=startup_ms,
                seek_from=None,
                rendition=f"{event.vhe}p" if event.vhe else None,
                error=f"MediaError {event.eco}" if kind == EventType.ERROR and event.eco else None,
                source="api.video-v2",
            )
        )
    return records


def _watch_kind(event: WatchEvent, play_at: int | None, after_pause: bool) -> tuple[EventType, int | None]:
    """Our event for a v2 event; `play_at` is the pending play request's time, if any."""
    if event.typ == WatchEventType.TIME_UPDATE and play_at is not None:
        return EventType.START, max(0, event.eat - play_at)
    if event.typ == WatchEventType.PLAY and after_pause:
        return EventType.RESUME, None
    return _WATCH_KINDS[event.typ], None


_WATCH_KINDS = {
    WatchEventType.LOADED: EventType.IMPRESSION,
    WatchEventType.PLAY: EventType.PLAY,
    WatchEventType.PAUSE: EventType.PAUSE,
    WatchEventType.TIME_UPDATE: EventType.HEARTBEAT,
    WatchEventType.ERROR: EventType.ERROR,
    WatchEventType.ENDED: EventType.END,
    WatchEventType.SEEKING: EventType.SEEK,
    WatchEventType.SRC_CHANGE: EventType.RENDITION,
}


def _record(project_id: str, viewer: Viewer, received_ms: int, *, ts: int, media_id: str, **fields: Any) -> EventRecord:
    return EventRecord(
        project=project_id,
        dt=day_of(ts),
        ts=ts,
        received=received_ms,
        media_id=media_id,
        media_type=media_type_of(media_id).value,
        device_type=viewer.device_type,
        operating_system=viewer.operating_system,
        browser=viewer.browser,
        country=viewer.country,
        continent=viewer.continent,
        **fields,
    )
