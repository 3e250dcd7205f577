"""The live stream aggregate: payloads, entity and the pure rules that change it.

One live stream is one IVS low-latency channel and its stream key. A stream is first stored
`provisioning` (with the deterministic name of the channel it is about to get and an expiry), then
`ready` once the channel exists; a provisioning item that never becomes ready expires, and the
channel carrying its name is deleted (docs/live.md, "Creating a channel without leaking one").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, StringConstraints, field_validator

from chalicelib.core import ids
from chalicelib.core.domain.images import ImageFormat, ImageInfo

LIVE_STREAM_ID_PREFIX = "li"
MAX_RESTREAMS = 5
# A provisioning item outlives any request that could still be creating its channel.
PROVISIONING_TTL = timedelta(hours=1)
CHANNEL_NAME_PREFIX = "videoplane"
RESTREAM_SCHEMES = ("rtmp", "rtmps", "srt")
# How long a dropped encoder may take to come back and continue the same broadcast (api.video: 60 s).
DEFAULT_RECONNECT_WINDOW_SECONDS = 60
MAX_RECONNECT_WINDOW_SECONDS = 300
ReconnectWindow = Annotated[int, Field(strict=True, ge=0, le=MAX_RECONNECT_WINDOW_SECONDS)]

Name = Annotated[StrictStr, StringConstraints(min_length=1, max_length=256)]
PlayerId = Annotated[StrictStr, StringConstraints(pattern=r"^pl[0-9A-Za-z]{22}$")]
NonBlank = Annotated[StrictStr, StringConstraints(min_length=1, max_length=1024, pattern=r"\S")]


class Restream(BaseModel):
    """A restream destination (api.video RestreamsRequestObject)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    name: Annotated[StrictStr, StringConstraints(min_length=1, max_length=256, pattern=r"\S")]
    server_url: NonBlank = Field(alias="serverUrl")
    stream_key: NonBlank = Field(alias="streamKey")

    @field_validator("server_url")
    @classmethod
    def _server_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in RESTREAM_SCHEMES or not parts.hostname:
            raise ValueError("RTMP URL should have the following format: [rtmp|rtmps|srt]://[host]/[app name].")
        if parts.scheme != "srt" and not parts.path.strip("/"):
            raise ValueError("Missing app name: [rtmp|rtmps]://[host]/[app name].")
        return value


Restreams = Annotated[list[Restream], Field(max_length=MAX_RESTREAMS)]


class LiveStreamCreation(BaseModel):
    """`POST /live-streams` body (api.video LiveStreamCreationPayload, plus `record`)."""

    model_config = ConfigDict(populate_by_name=True)
    name: Name
    record: StrictBool = False
    public: StrictBool = True
    player_id: PlayerId | None = Field(default=None, alias="playerId")
    restreams: Restreams = []
    reconnect_window_seconds: ReconnectWindow = Field(default=DEFAULT_RECONNECT_WINDOW_SECONDS, alias="reconnectWindow")


class LiveStreamUpdate(BaseModel):
    """`PATCH /live-streams/{id}` body: absent keys are left; `restreams` is replaced wholesale."""

    model_config = ConfigDict(populate_by_name=True)
    name: Name | None = None
    public: StrictBool | None = None
    player_id: PlayerId | None = Field(default=None, alias="playerId")
    restreams: Restreams | None = None
    reconnect_window_seconds: ReconnectWindow | None = Field(default=None, alias="reconnectWindow")

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}

    def null_violations(self) -> list[str]:
        """api.video declares none of these nullable (the SDK cannot even send a null playerId)."""
        return [name for name in self.model_fields_set if getattr(self, name) is None]


class LiveStreamState(StrEnum):
    PROVISIONING = "provisioning"
    READY = "ready"


class Channel(BaseModel):
    """The IVS channel behind a stream, as the adapter reads it."""

    model_config = ConfigDict(frozen=True)
    arn: str
    ingest_endpoint: str
    playback_url: str
    srt_endpoint: str | None = None
    srt_passphrase: str | None = None


class StreamKey(BaseModel):
    model_config = ConfigDict(frozen=True)
    arn: str
    value: str


class LiveSession(BaseModel):
    """The latest push to a stream, as the live plane reported it (domain/broadcasts.py)."""

    model_config = ConfigDict(frozen=True)
    session_id: str  # IVS's stream id
    connected_at: datetime
    live: bool = False  # delivered to viewers (Stream Start), until the session ends
    started_at: datetime | None = None
    ended_at: datetime | None = None


class RecordingPart(BaseModel):
    """One IVS recording (of one push, the recording configuration having no reconnect window), as
    its "IVS Recording State Change" events told it (domain/recordings.py)."""

    model_config = ConfigDict(frozen=True)
    key_prefix: str  # where IVS writes it (ivs/v1/<account>/<channel>/<y>/<m>/<d>/<h>/<mm>/<id>)
    stream_ids: tuple[str, ...]  # the pushes (IVS streams) it holds
    started_at: datetime
    ended_at: datetime | None = None
    failed: bool = False


class RelayState(StrEnum):
    """A restream relay's state (domain/restreams.py): `connecting` until media reaches the target,
    `live` while it does, `retrying` after a failure (with its reason), `failed` once it gave up,
    `stopped` when the target was removed or the broadcast ended."""

    CONNECTING = "connecting"
    LIVE = "live"
    RETRYING = "retrying"
    FAILED = "failed"
    STOPPED = "stopped"


class Relay(BaseModel):
    """The relay of one restream target in the current (or last) broadcast."""

    model_config = ConfigDict(frozen=True)
    relay_id: str
    target_id: str  # domain/restreams.target_id of the target it pushes to
    state: RelayState = RelayState.CONNECTING
    reason: str | None = None
    changed_at: datetime
    sequence: int = 0  # of the latest report applied (0: none yet)


class ClosedBroadcast(BaseModel):
    """A recorded stream's broadcast that ended, waiting for the recordings of its pushes."""

    model_config = ConfigDict(frozen=True)
    started_at: datetime
    stream_ids: tuple[str, ...]


class LiveThumbnail(BaseModel):
    """An uploaded thumbnail: the media-bucket object `assets.thumbnail` names."""

    model_config = ConfigDict(frozen=True)
    key: str
    content_type: str
    width: int
    height: int


# api.video: "Only [jpeg, jpg, JPG, JPEG] extensions are supported." for live thumbnails, yet its
# schema text names PNG too; PNG is taken, as for a video's thumbnail (issue 11).
THUMBNAIL_FORMATS = (ImageFormat.JPEG, ImageFormat.PNG)
THUMBNAIL_EXTENSIONS = "jpeg, jpg, JPG, JPEG, png, PNG"


class LiveStream(BaseModel):
    """The stored live stream. Only the API layer decides its wire shape."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    live_stream_id: str
    name: str
    record: bool = False
    public: bool = True
    player_id: str | None = None
    restreams: tuple[Restream, ...] = ()
    thumbnail: LiveThumbnail | None = None
    state: LiveStreamState = LiveStreamState.PROVISIONING
    channel_name: str
    channel: Channel | None = None
    stream_key: StreamKey | None = None
    broadcasting: bool = False
    reconnect_window_seconds: int = DEFAULT_RECONNECT_WINDOW_SECONDS
    session: LiveSession | None = None
    # The broadcast (one or more sessions, joined by reconnects within the window): when it began,
    # and when its encoder dropped if it is waiting for a reconnect.
    broadcast_started_at: datetime | None = None
    disconnected_at: datetime | None = None
    # `complete` was asked for: the push connected before this ends its broadcast without a window.
    completed_at: datetime | None = None
    # Stream ids of ended sessions (the latest ones): their late events change nothing.
    ended_sessions: tuple[str, ...] = ()
    # Recordings (domain/recordings.py): the pushes that went live in the current broadcast, ended
    # broadcasts waiting for their recordings, recordings not yet made a video, and the key
    # prefixes of the latest ones that were (their late events change nothing).
    broadcast_sessions: tuple[str, ...] = ()
    unrecorded: tuple[ClosedBroadcast, ...] = ()
    recordings: tuple[RecordingPart, ...] = ()
    recorded: tuple[str, ...] = ()
    # One relay per restream target while a broadcast is on (domain/restreams.py).
    relays: tuple[Relay, ...] = ()
    created_at: datetime
    updated_at: datetime
    # Set while provisioning: when the item (and so the channel named after it) is given up.
    expires_at: datetime | None = None
    version: int = 1

    @property
    def ready(self) -> bool:
        return self.state is LiveStreamState.READY and self.channel is not None and self.stream_key is not None


def channel_name(project_id: str, live_stream_id: str) -> str:
    """Deterministic, so the channel of a stream can be found (and deleted) from the stream alone.
    IVS names allow [a-zA-Z0-9-_]{0,128}; ids are base62."""
    return f"{CHANNEL_NAME_PREFIX}-{project_id}-{live_stream_id}"


def new_live_stream(project_id: str, payload: LiveStreamCreation, now: datetime) -> LiveStream:
    live_stream_id = ids.new_id(LIVE_STREAM_ID_PREFIX)
    return LiveStream(
        project_id=project_id,
        live_stream_id=live_stream_id,
        name=payload.name,
        record=payload.record,
        public=payload.public,
        player_id=payload.player_id,
        restreams=tuple(payload.restreams),
        reconnect_window_seconds=payload.reconnect_window_seconds,
        channel_name=channel_name(project_id, live_stream_id),
        created_at=now,
        updated_at=now,
        expires_at=now + PROVISIONING_TTL,
    )


def provisioned(stream: LiveStream, channel: Channel, key: StreamKey) -> LiveStream:
    """The stream with its channel: ready, and no longer expiring."""
    return stream.model_copy(
        update={
            "state": LiveStreamState.READY,
            "channel": channel,
            "stream_key": key,
            "expires_at": None,
            "version": stream.version + 1,
        }
    )


def apply_update(stream: LiveStream, changes: dict[str, Any], now: datetime) -> LiveStream:
    fields = dict(changes)
    if "restreams" in fields:
        fields["restreams"] = tuple(fields["restreams"])
    return stream.model_copy(update={**fields, "updated_at": now, "version": stream.version + 1})


def thumbnail_key(live_stream_id: str, image: ImageInfo, upload_id: str) -> str:
    """A new object name per upload, so a CDN never serves a replaced thumbnail from its cache."""
    return f"live/{live_stream_id}/thumbnail-{upload_id}.{image.format.extension}"


def with_thumbnail(stream: LiveStream, thumbnail: LiveThumbnail | None, now: datetime) -> LiveStream:
    return stream.model_copy(update={"thumbnail": thumbnail, "updated_at": now, "version": stream.version + 1})


def with_stream_key(stream: LiveStream, key: StreamKey, now: datetime) -> LiveStream:
    return stream.model_copy(update={"stream_key": key, "updated_at": now, "version": stream.version + 1})


_WIRE_NAMES = {
    "player_id": "playerId",
    "stream_key": "streamKey",
    "reconnect_window_seconds": "reconnectWindow",
    "thumbnail": "assets",  # as a player's logo change: `assets.thumbnail` changed
}
_COMPARED = (
    "name", "record", "public", "player_id", "restreams", "stream_key", "reconnect_window_seconds", "thumbnail",
)  # fmt: skip


def changed_fields(before: LiveStream, after: LiveStream) -> list[str]:
    """The api.video names of the attributes a change really changed."""
    return [_WIRE_NAMES.get(n, n) for n in _COMPARED if getattr(before, n) != getattr(after, n)]


def snapshot(stream: LiveStream) -> dict[str, Any]:
    """The stream for the audit log: secrets (the stream key, the SRT passphrase, restream keys)
    are left out, so reading the audit log never reveals how to push to a stream."""
    body = stream.model_dump(
        mode="json", exclude={"project_id": True, "stream_key": {"value"}, "channel": {"srt_passphrase"}}
    )
    body["restreams"] = [{"name": r.name, "serverUrl": r.server_url} for r in stream.restreams]
    return body


# -- listing ------------------------------------------------------------------------------------


class SortField(StrEnum):
    NAME = "name"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class LiveStreamQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    stream_key: Annotated[str, StringConstraints(max_length=256)] | None = Field(default=None, alias="streamKey")
    sort_by: SortField = Field(default=SortField.CREATED_AT, alias="sortBy")
    sort_order: SortOrder = Field(default=SortOrder.ASC, alias="sortOrder")


def matches(stream: LiveStream, query: LiveStreamQuery) -> bool:
    if not stream.ready:
        return False
    if query.name is not None and query.name.casefold() not in stream.name.casefold():
        return False
    key = stream.stream_key.value if stream.stream_key else None
    return query.stream_key is None or key == query.stream_key


def select(streams: Iterable[LiveStream], query: LiveStreamQuery) -> list[LiveStream]:
    chosen = [s for s in streams if matches(s, query)]
    key = {
        SortField.NAME: lambda s: (s.name.casefold(), s.live_stream_id),
        SortField.CREATED_AT: lambda s: (s.created_at, s.live_stream_id),
        SortField.UPDATED_AT: lambda s: (s.updated_at, s.live_stream_id),
    }[query.sort_by]
    return sorted(chosen, key=key, reverse=query.sort_order is SortOrder.DESC)


# -- ingest (a Videoplane extension) ------------------------------------------------------------


class IngestTemplates(BaseModel):
    """Where encoders push, per protocol. `{endpoint}` is the channel's ingest endpoint (RTMP) or
    SRT endpoint; IVS's own ports are the defaults, the devstack sets its loopback ones."""

    model_config = ConfigDict(frozen=True)
    rtmps: str = "rtmps://{endpoint}:443/app/"
    rtmp: str = "rtmp://{endpoint}:1935/app/"
    srt: str = "srt://{endpoint}:9000"


def ingest_points(stream: LiveStream, templates: IngestTemplates) -> dict[str, dict[str, str]]:
    """Per protocol, the server to enter in an encoder and the full URL with the key. SRT carries
    the key as `streamid` and IVS's passphrase, which is also given alone (encoders such as OBS
    ask for it in a field of its own)."""
    if stream.channel is None or stream.stream_key is None:
        return {}
    channel, key = stream.channel, stream.stream_key.value
    points: dict[str, dict[str, str]] = {}
    for protocol in ("rtmps", "rtmp"):
        server = getattr(templates, protocol).format(endpoint=channel.ingest_endpoint)
        points[protocol] = {"server": server, "streamKey": key, "url": f"{server}{key}"}
    srt_server = templates.srt.format(endpoint=channel.srt_endpoint or channel.ingest_endpoint)
    query = f"streamid={key}" + (f"&passphrase={channel.srt_passphrase}" if channel.srt_passphrase else "")
    points["srt"] = {"server": srt_server, "streamKey": key, "url": f"{srt_server}?{query}"}
    if channel.srt_passphrase:
        points["srt"]["passphrase"] = channel.srt_passphrase
    return points
