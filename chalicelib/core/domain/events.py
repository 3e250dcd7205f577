"""The event catalogue: every domain event type, its payload model and its JSON Schema.

Payloads are what webhooks POST and what EventBridge carries as `detail`. api.video's six
webhook events keep exactly api.video's fields; every event also carries `eventId` and
`projectId`, which api.video's SDK and receivers ignore as unknown keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core import ids
from chalicelib.core.clock import to_atom

EVENT_ID_PREFIX = "ev"


class DomainEvent(BaseModel):
    """Common envelope. Subclasses fix `type` and add the resource ids."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    api_video: ClassVar[bool] = False
    description: ClassVar[str] = ""
    # In the catalogue before the feature that emits it is built (subscribing to it is allowed).
    planned: ClassVar[bool] = False

    type: str
    emitted_at: str = Field(alias="emittedAt", description="ISO 8601 date-time, UTC")
    event_id: str = Field(alias="eventId", description="Stable across redeliveries")
    project_id: str = Field(alias="projectId")

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class VideoEvent(DomainEvent):
    video_id: str = Field(alias="videoId")


class VideoEncodingQualityCompleted(VideoEvent):
    api_video = True
    description = "One HLS rendition, or the MP4, finished encoding."
    type: Literal["video.encoding.quality.completed"] = "video.encoding.quality.completed"
    live_stream_id: str | None = Field(default=None, alias="liveStreamId")
    encoding: Literal["hls", "mp4"]
    quality: Literal["240p", "360p", "480p", "720p", "1080p", "2160p"]


class LiveStreamBroadcastStarted(DomainEvent):
    api_video = True
    description = "A live stream started receiving its broadcast."
    type: Literal["live-stream.broadcast.started"] = "live-stream.broadcast.started"
    live_stream_id: str = Field(alias="liveStreamId")


class LiveStreamBroadcastEnded(DomainEvent):
    api_video = True
    description = "A live stream's broadcast ended."
    type: Literal["live-stream.broadcast.ended"] = "live-stream.broadcast.ended"
    live_stream_id: str = Field(alias="liveStreamId")


class VideoSourceRecorded(VideoEvent):
    api_video = True
    description = "A live stream's recording became a video, now queued for encoding."
    type: Literal["video.source.recorded"] = "video.source.recorded"
    live_stream_id: str = Field(alias="liveStreamId")


class VideoCaptionGenerated(VideoEvent):
    api_video = True
    planned = True
    description = "A caption was generated from the video's transcript."
    type: Literal["video.caption.generated"] = "video.caption.generated"
    caption_id: str = Field(alias="captionId")
    generation_mode: Literal["transcript"] = Field(default="transcript", alias="generationMode")
    language: str


class VideoSummaryGenerated(VideoEvent):
    api_video = True
    planned = True
    description = "A summary was generated for the video."
    type: Literal["video.summary.generated"] = "video.summary.generated"
    summary_id: str = Field(alias="summaryId")


class VideoCreated(VideoEvent):
    description = "A video container was created."
    type: Literal["video.created"] = "video.created"
    title: str


class VideoSourceUploaded(VideoEvent):
    description = "The video's source file arrived completely."
    type: Literal["video.source.uploaded"] = "video.source.uploaded"


class VideoPlayable(VideoEvent):
    description = "The video can be played (a first rendition is ready)."
    type: Literal["video.playable"] = "video.playable"


class VideoReady(VideoEvent):
    description = "Every rendition of the video is encoded."
    type: Literal["video.ready"] = "video.ready"
    encoded_seconds: float | None = Field(
        default=None,
        alias="encodedSeconds",
        description="Seconds of output encoded: the source's duration times the renditions (and MP4) encoded;"
        " the usage counters' minutes encoded",
    )


class VideoEncodingFailed(VideoEvent):
    description = "Encoding the video failed."
    type: Literal["video.encoding.failed"] = "video.encoding.failed"
    reason: str


class VideoUpdated(VideoEvent):
    description = "The video's metadata changed."
    type: Literal["video.updated"] = "video.updated"
    changed: list[str] = Field(description="Names of the attributes that changed")


class VideoDeleted(VideoEvent):
    description = "The video was deleted (moved to the discarded videos until `deletesAt`)."
    type: Literal["video.deleted"] = "video.deleted"
    deletes_at: str | None = Field(default=None, alias="deletesAt")


class VideoRestored(VideoEvent):
    description = "A discarded video was restored."
    type: Literal["video.restored"] = "video.restored"


class WebhookDisabled(DomainEvent):
    description = "A webhook endpoint was disabled (410 Gone, or failing for 5 days straight)."
    type: Literal["webhook.disabled"] = "webhook.disabled"
    webhook_id: str = Field(alias="webhookId")
    reason: str


class WebhookDeliveryExhausted(DomainEvent):
    description = (
        "A webhook delivery failed every attempt of its retry schedule and gave up; it stays listed"
        " and can be redelivered or recovered for 30 days."
    )
    type: Literal["webhook.delivery.exhausted"] = "webhook.delivery.exhausted"
    webhook_id: str = Field(alias="webhookId")
    delivery_id: str = Field(alias="deliveryId")
    failed_event_id: str = Field(alias="failedEventId", description="The event that could not be delivered")
    failed_event_type: str = Field(alias="failedEventType")
    attempts: int = Field(description="Attempts made in the round that gave up")
    last_error: str | None = Field(default=None, alias="lastError")


# -- live streams (chalicelib.live) ------------------------------------------------------------


class LiveStreamEvent(DomainEvent):
    live_stream_id: str = Field(alias="liveStreamId")


class LiveStreamCreated(LiveStreamEvent):
    description = "A live stream was created; its ingest URLs and stream key are ready."
    type: Literal["live-stream.created"] = "live-stream.created"
    name: str


class LiveStreamUpdated(LiveStreamEvent):
    description = "A live stream's attributes or stream key changed."
    type: Literal["live-stream.updated"] = "live-stream.updated"
    changed: list[str] = Field(description="Names of the attributes that changed (streamKey after a reset)")


class LiveStreamDeleted(LiveStreamEvent):
    description = "A live stream was deleted; its channel and stream key no longer accept pushes."
    type: Literal["live-stream.deleted"] = "live-stream.deleted"


class LiveStreamDisconnected(LiveStreamEvent):
    description = "A live stream's encoder dropped; the broadcast waits for it within the stream's reconnect window."
    type: Literal["live-stream.disconnected"] = "live-stream.disconnected"


class LiveStreamReconnected(LiveStreamEvent):
    description = "A live stream's encoder came back within the reconnect window; the broadcast goes on."
    type: Literal["live-stream.reconnected"] = "live-stream.reconnected"


class LiveStreamRecordingEnded(LiveStreamEvent):
    description = (
        "A recorded live stream's broadcast ended and every recording of its pushes is stored; it"
        " becomes one video (more past 12 h) with `video.source.recorded`."
    )
    type: Literal["live-stream.recording.ended"] = "live-stream.recording.ended"
    name: str = Field(description="The live stream's name when the broadcast ended (the video's title)")
    broadcast_started_at: str = Field(alias="broadcastStartedAt")
    recordings: list[str] = Field(
        description="Where the recordings of the broadcast's pushes are, in order: IVS's S3 key prefixes in the"
        " media bucket"
    )


# -- end of live streams -----------------------------------------------------------------------

# -- managed live events (chalicelib.live) ---------------------------------------------------------


class LiveEventEvent(DomainEvent):
    live_event_id: str = Field(alias="liveEventId")


class LiveEventArmed(LiveEventEvent):
    description = (
        "A managed live event was armed: its MediaLive channel and inputs exist and the channel is starting;"
        " encoders may push to its routes."
    )
    type: Literal["live-event.armed"] = "live-event.armed"
    template_id: str = Field(alias="templateId")
    template_version: int = Field(alias="templateVersion", description="The template version the channel applies")


class LiveEventStarted(LiveEventEvent):
    description = "A managed live event went live: its MediaLive channel runs and writes its output."
    type: Literal["live-event.started"] = "live-event.started"


class LiveEventEnded(LiveEventEvent):
    description = "A managed live event ended; its MediaLive channel and inputs are stopped and deleted."
    type: Literal["live-event.ended"] = "live-event.ended"


class LiveEventFailed(LiveEventEvent):
    description = "A managed live event failed (its channel could not be created, started or kept running)."
    type: Literal["live-event.failed"] = "live-event.failed"
    reason: str


class LiveEventFailover(LiveEventEvent):
    description = (
        "A managed live event's channel switched contribution routes (MediaLive's automatic input failover,"
        " or an operator's switch)."
    )
    type: Literal["live-event.failover"] = "live-event.failover"
    from_route: Literal["primary", "backup"] | None = Field(alias="from", description="The route active before")
    to_route: Literal["primary", "backup"] = Field(alias="to")


class LiveEventHealthChanged(LiveEventEvent):
    description = (
        "A managed live event's health changed (GET /live-events/{id}/health): its state, route mode,"
        " active route, MediaLive channel state or open alerts. Its push channel sends the new document."
    )
    type: Literal["live-event.health.changed"] = "live-event.health.changed"
    state: str
    active_route: Literal["primary", "backup"] | None = Field(alias="activeRoute")
    open_alerts: int = Field(alias="openAlerts", description="How many MediaLive alerts are set")


class LiveEventIncidentOpened(LiveEventEvent):
    description = (
        "Incident automation found a managed live event's channel degraded for the template's sustain time"
        " (CloudWatch alarms on MediaLive's metrics) and acted: the backup route and/or a ladder cap."
    )
    type: Literal["live-event.incident.opened"] = "live-event.incident.opened"
    incident_id: str = Field(alias="incidentId")
    metrics: list[str] = Field(description="The AWS/MediaLive metrics whose alarms are in ALARM")
    switched_to: Literal["primary", "backup"] | None = Field(
        alias="switchedTo", description="The route automation activated (null: it did not switch)"
    )
    ladder_cap: int | None = Field(alias="ladderCap", description="The highest rendition height while it lasts")


class LiveEventIncidentResolved(LiveEventEvent):
    description = (
        "A managed live event's incident is over: every alarm stayed OK for the stabilization window, and"
        " automation reverted what it did (unless an operator forces a route); or the event ended or failed"
        " with the incident open, and its channel went with it."
    )
    type: Literal["live-event.incident.resolved"] = "live-event.incident.resolved"
    incident_id: str = Field(alias="incidentId")
    switched_to: Literal["primary", "backup"] | None = Field(
        alias="switchedTo", description="The route automation switched back to (null: it did not switch)"
    )
    reason: Literal["stabilized", "ended"] = Field(
        default="stabilized", description="`ended`: the event ended or failed while the incident was open"
    )


# -- end of managed live events ------------------------------------------------------------------


# -- rooms (chalicelib.rooms) ---------------------------------------------------------------------


class RoomEvent(DomainEvent):
    room_id: str = Field(alias="roomId")


class RoomCreated(RoomEvent):
    description = "A room was created; its real-time stage is ready and join tokens can be minted."
    type: Literal["room.created"] = "room.created"
    name: str
    mode: Literal["group", "lecture", "p2p"]


class RoomUpdated(RoomEvent):
    description = "A room's name, owner or settings changed."
    type: Literal["room.updated"] = "room.updated"
    changed: list[str] = Field(description="Names of the attributes that changed (`settings.<name>` for settings)")


class RoomDeleted(RoomEvent):
    description = "A room was deleted; its stage is released and its join tokens no longer admit anyone."
    type: Literal["room.deleted"] = "room.deleted"


class RoomSessionStarted(RoomEvent):
    description = "A room's session started: the first participant joined."
    type: Literal["room.session.started"] = "room.session.started"
    session_id: str = Field(alias="sessionId")


class RoomSessionEnded(RoomEvent):
    description = "A room's session ended: the last participant left, or the duration limit was reached."
    type: Literal["room.session.ended"] = "room.session.ended"
    session_id: str = Field(alias="sessionId")
    reason: Literal["empty", "duration-limit", "room-deleted"]


class RoomParticipantJoined(RoomEvent):
    description = "A participant exchanged a join token for the room's media credentials."
    type: Literal["room.participant.joined"] = "room.participant.joined"
    session_id: str = Field(alias="sessionId", description="The session joined (GET /sessions/{sessionId})")
    participant_id: str = Field(alias="participantId", description="The IVS participant id")
    token_id: str = Field(alias="tokenId")
    user_ref: str = Field(alias="userRef")
    role: Literal["moderator", "participant", "viewer"]


class RoomParticipantLeft(RoomEvent):
    description = (
        "A participant left the room's session (or was removed, or its connection was lost); known within"
        " about 10 s of the media plane noticing."
    )
    type: Literal["room.participant.left"] = "room.participant.left"
    session_id: str = Field(alias="sessionId")
    participant_id: str = Field(alias="participantId")
    user_ref: str = Field(alias="userRef")
    reason: Literal["left", "removed", "disconnected", "session-ended"]


class RoomRecordingEnded(RoomEvent):
    description = (
        "A recording of a room's session (an IVS composition of its publishers) ended and is stored; it"
        " becomes a video, announced by `room.recording.ready`."
    )
    type: Literal["room.recording.ended"] = "room.recording.ended"
    session_id: str = Field(alias="sessionId")
    recording_id: str = Field(alias="recordingId")
    name: str = Field(description="The room's name (the video's title)")
    started_at: str = Field(alias="startedAt")
    recordings: list[str] = Field(description="Where the recording is: its S3 key prefix in the media bucket")


class RoomRecordingReady(RoomEvent):
    description = (
        "A recording of a room's session became a video in the VOD pipeline (`video.created`; it plays once encoded)."
    )
    type: Literal["room.recording.ready"] = "room.recording.ready"
    session_id: str = Field(alias="sessionId")
    recording_id: str = Field(alias="recordingId")
    video_id: str = Field(alias="videoId")


class RoomCdrReady(RoomEvent):
    description = "A session's call detail records are complete (GET /sessions/{sessionId}/cdr)."
    type: Literal["room.cdr.ready"] = "room.cdr.ready"
    session_id: str = Field(alias="sessionId")
    participants: int = Field(description="Rows in the session's call detail records")


# -- end of rooms ----------------------------------------------------------------------------------
# -- players (chalicelib.playback) -------------------------------------------------------------


class PlayerEvent(DomainEvent):
    player_id: str = Field(alias="playerId")


class PlayerCreated(PlayerEvent):
    description = "A player (theme of the embed page) was created."
    type: Literal["player.created"] = "player.created"
    name: str | None = None


class PlayerUpdated(PlayerEvent):
    description = "A player's theme or logo changed; embed pages that use it show the change."
    type: Literal["player.updated"] = "player.updated"
    changed: list[str] = Field(description="Names of the attributes that changed (`assets` for the logo)")


class PlayerDeleted(PlayerEvent):
    description = "A player was deleted; videos that named it play with the default theme."
    type: Literal["player.deleted"] = "player.deleted"


class PlaybackGeoUpdated(DomainEvent):
    description = "A project's geo restriction (PUT /playback-geo) changed; the edge applies it to media."
    type: Literal["playback-geo.updated"] = "playback-geo.updated"
    mode: Literal["allow", "deny", "off"]
    countries: list[str] = Field(description="ISO 3166-1 alpha-2 codes, sorted")


# -- end of players ----------------------------------------------------------------------------


# -- usage (chalicelib.analytics) --------------------------------------------------------------


class UsageDailyReady(DomainEvent):
    description = (
        "A project's usage of one UTC day, for billing systems: emitted once per project and day, after the"
        " day ended (chalicelib.analytics, docs/analytics.md)."
    )
    type: Literal["usage.daily.ready"] = "usage.daily.ready"
    day: str = Field(description="The UTC day, YYYY-MM-DD")
    encoded_minutes: float = Field(alias="encodedMinutes", description="Minutes of VOD output encoded")
    stored_bytes: int = Field(alias="storedBytes", description="Bytes of media and sources when the day was reported")
    watched_minutes: float = Field(alias="watchedMinutes", description="Minutes watched (player beacons)")
    delivered_bytes: int = Field(
        alias="deliveredBytes", description="Estimated bytes delivered: watch time times the rendition's bitrate"
    )
    live_minutes: float = Field(alias="liveMinutes", description="Minutes of live broadcast ingested")
    room_participant_minutes: float = Field(
        default=0.0,
        alias="roomParticipantMinutes",
        description="Minutes rooms' participants were connected (their sessions' call detail records)",
    )


# -- end of usage ------------------------------------------------------------------------------


CATALOGUE: dict[str, type[DomainEvent]] = {
    model.model_fields["type"].default: model
    for model in (
        VideoEncodingQualityCompleted,
        LiveStreamBroadcastStarted,
        LiveStreamBroadcastEnded,
        VideoSourceRecorded,
        VideoCaptionGenerated,
        VideoSummaryGenerated,
        VideoCreated,
        VideoSourceUploaded,
        VideoPlayable,
        VideoReady,
        VideoEncodingFailed,
        VideoUpdated,
        VideoDeleted,
        VideoRestored,
        WebhookDisabled,
        WebhookDeliveryExhausted,
        LiveStreamCreated,
        LiveStreamUpdated,
        LiveStreamDeleted,
        RoomCreated,
        RoomUpdated,
        RoomDeleted,
        RoomSessionStarted,
        RoomSessionEnded,
        RoomParticipantJoined,
        RoomParticipantLeft,
        RoomRecordingEnded,
        RoomRecordingReady,
        RoomCdrReady,
        PlayerCreated,
        PlayerUpdated,
        PlayerDeleted,
        PlaybackGeoUpdated,
        LiveStreamDisconnected,
        LiveStreamReconnected,
        LiveStreamRecordingEnded,
        UsageDailyReady,
        LiveEventArmed,
        LiveEventStarted,
        LiveEventEnded,
        LiveEventFailed,
        LiveEventFailover,
        LiveEventHealthChanged,
        LiveEventIncidentOpened,
        LiveEventIncidentResolved,
    )
}
API_VIDEO_EVENTS = tuple(name for name, model in CATALOGUE.items() if model.api_video)


def envelope(project_id: str, now: datetime) -> dict[str, str]:
    """The common fields of a new event: a fresh, time-sortable id and the emission time."""
    return {"projectId": project_id, "eventId": ids.new_sortable_id(EVENT_ID_PREFIX), "emittedAt": to_atom(now)}


def parse(payload: dict[str, Any]) -> DomainEvent:
    return CATALOGUE[payload["type"]].model_validate(payload)


def json_schema(event_type: str) -> dict[str, Any]:
    model = CATALOGUE[event_type]
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    schema["$id"] = f"https://videoplane.dev/events/{event_type}.json"
    schema["title"] = event_type
    schema["description"] = ("Planned: not emitted yet. " if model.planned else "") + model.description
    return schema


def catalogue_schemas() -> list[dict[str, Any]]:
    return [
        {
            "type": name,
            "apiVideo": model.api_video,
            "planned": model.planned,
            "description": model.description,
            "schema": json_schema(name),
        }
        for name, model in CATALOGUE.items()
    ]
