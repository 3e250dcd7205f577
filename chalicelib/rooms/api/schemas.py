"""Wire shapes of the rooms responses, for `/openapi.json` only (the presenters build the bodies)."""

# ruff: noqa: N815 - the attributes are the wire names

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class RoomSettings(BaseModel):
    mode: Literal["group", "lecture", "p2p"]
    lifetime: Literal["permanent", "scheduled", "adhoc"]
    startsAt: datetime | None = None
    duration: int | None = Field(description="Minutes: a session's limit, and a scheduled room's window")
    maxModerators: int
    maxParticipants: int
    autoRecording: bool
    quality: Literal["HD", "SD", "LD"]
    waitForModerator: bool


class JoinWindow(BaseModel):
    from_: datetime = Field(alias="from")
    until: datetime


class Room(BaseModel):
    roomId: str
    name: str
    ownerRef: str | None
    settings: RoomSettings
    joinable: JoinWindow | None = Field(default=None, description="Scheduled rooms: when joins are admitted")
    createdAt: datetime
    updatedAt: datetime


class JoinToken(BaseModel):
    tokenId: str
    token: str = Field(description="The JWT to hand to the participant's client; shown once")
    roomId: str
    userRef: str
    name: str
    role: Literal["moderator", "participant", "viewer"]
    singleUse: bool
    expiresAt: datetime


class TokenRevocation(BaseModel):
    revoked: int = Field(description="How many of the user's tokens were revoked")


class MediaCredentials(BaseModel):
    provider: Literal["ivs-realtime"]
    participantToken: str
    whipUrl: str
    eventsUrl: str
    whepUrl: str | None = Field(
        default=None,
        description="Devstack only: its WHEP-style subscribe (GET lists the publishers, POST ?participantId= "
        "an SDP offer). null on AWS, where the IVS Web Broadcast SDK subscribes with the participant token.",
    )
    expiresAt: datetime | None


class StatsCredentials(BaseModel):
    token: str = Field(description="POST /join/stats with it: this participant of this session only")
    intervalSeconds: int = Field(description="One sample per this many seconds (a second one in a slot is a 429)")


class Admission(BaseModel):
    roomId: str
    sessionId: str = Field(description="The room session this join belongs to (GET /sessions/{sessionId})")
    participantId: str
    userRef: str
    name: str
    role: Literal["moderator", "participant", "viewer"]
    capabilities: list[Literal["publish", "subscribe"]]
    media: MediaCredentials
    stats: StatsCredentials


class SessionParticipant(BaseModel):
    participantId: str = Field(description="The IVS participant id (a rejoin is a new one)")
    userRef: str
    name: str
    role: Literal["moderator", "participant", "viewer"]
    joinedAt: datetime = Field(description="When the join token was exchanged")
    connectedAt: datetime | None = Field(description="When the media plane first saw it connected")
    leftAt: datetime | None
    leaveReason: Literal["left", "removed", "disconnected", "session-ended"] | None


class SessionRecording(BaseModel):
    recordingId: str = Field(description="The IVS composition's id")
    sessionId: str
    roomId: str
    status: Literal["recording", "stopping", "ended", "failed"]
    startedAt: datetime
    endedAt: datetime | None
    videoId: str | None = Field(description="The video it became (null until `room.recording.ready`)")


class KindQuality(BaseModel):
    avgBitrate: int = Field(description="Bits per second, the mean of the samples")
    p95Bitrate: int = Field(description="Bits per second, the samples' 95th percentile (nearest rank)")
    minBitrate: int
    maxBitrate: int
    packetLoss: float | None = Field(description="Lost packets in percent of those expected; null without packets")


class FlowQuality(KindQuality):
    audio: KindQuality | None = Field(description="Audio alone, from the samples that told the kinds apart")
    video: KindQuality | None = Field(description="Video alone, likewise")


class CallQuality(BaseModel):
    samples: int = Field(description="How many of the client's getStats() samples this sums up")
    send: FlowQuality | None = Field(description="What it published (RTCP receiver reports)")
    receive: FlowQuality | None = Field(description="What it received")
    avgRoundTripTime: int | None = Field(description="Milliseconds")
    p95RoundTripTime: int | None = Field(description="Milliseconds")
    avgJitter: int | None = Field(description="Milliseconds")


class Session(BaseModel):
    sessionId: str
    roomId: str
    status: Literal["active", "ended"]
    startedAt: datetime = Field(description="The first join")
    endedAt: datetime | None = Field(description="The last leave, or the duration limit")
    endReason: Literal["empty", "duration-limit", "room-deleted"] | None
    participants: list[SessionParticipant]
    participantMinutes: float = Field(description="Connected minutes of every participant so far")
    publishedMinutes: float
    recordings: list[SessionRecording] | None = Field(
        default=None, description="GET /sessions/{sessionId} only: the session's recordings, oldest first"
    )
    quality: CallQuality | None = Field(
        default=None, description="GET /sessions/{sessionId} only: every counted sample of the session together"
    )


class CallDetailRecord(BaseModel):
    sessionId: str
    roomId: str
    participantId: str
    userRef: str
    name: str
    role: Literal["moderator", "participant", "viewer"]
    joinedAt: datetime
    connectedAt: datetime | None = Field(description="Null: the participant never connected")
    leftAt: datetime | None = Field(description="Null while the participant is still in the session")
    leaveReason: Literal["left", "removed", "disconnected", "session-ended"] | None
    duration: int = Field(description="Seconds connected: from connectedAt to leftAt")
    publishedDuration: int = Field(description="Seconds publishing media")
    quality: CallQuality | None = Field(description="What the participant's client reported; null without samples")


# -- the EnableX facade (/enablex/v2/…): EnableX's snake_case shapes ------------------------------


class EnableXResult(BaseModel):
    result: int = Field(description="0: done")


class EnableXError(BaseModel):
    result: int = Field(description="EnableX's code where it documents one (100xx), else the HTTP status")
    error: str
    desc: str


class EnableXRoomSettings(BaseModel):
    mode: Literal["group", "lecture", "p2p"]
    scheduled: bool
    adhoc: bool
    scheduled_time: str | None = Field(default=None, description="YYYY-MM-DD HH:MM:SS, UTC")
    duration: str = Field(description="Minutes, as a string; 0: no limit")
    moderators: str
    participants: str
    auto_recording: bool
    quality: Literal["HD", "SD", "LD"]
    wait_for_moderator: bool


class EnableXSip(BaseModel):
    enabled: bool


class EnableXJoinWindow(BaseModel):
    from_: str = Field(alias="from")
    until: str


class EnableXRoomInfo(BaseModel):
    room_id: str
    name: str
    owner_ref: str
    settings: EnableXRoomSettings
    sip: EnableXSip
    created: str
    updated: str
    joinable: EnableXJoinWindow | None = None


class EnableXRoomResult(BaseModel):
    result: int
    room: EnableXRoomInfo


class EnableXRoomList(BaseModel):
    result: int
    total: str = Field(description="How many rooms the project has (Videoplane's addition)")
    rooms: list[EnableXRoomInfo]


class EnableXTokenResult(BaseModel):
    result: int
    token: str = Field(description="The join token (a JWT) for POST /join")


class EnableXCdrRoomDetails(BaseModel):
    name: str | None = None
    owner_ref: str | None = None


class EnableXCdrRoom(BaseModel):
    room_id: str
    connect_dt: str
    disconnect_dt: str
    duration: str = Field(description="Minutes connected")
    room_details: EnableXCdrRoomDetails


class EnableXCdrUser(BaseModel):
    role: Literal["moderator", "participant", "viewer"]
    name: str
    ref: str
    ip: str
    agent: str


class EnableXCdrSignalling(BaseModel):
    connect_dt: str
    disconnect_dt: str
    duration: str
    hold_duration: str


class EnableXCdrTracks(BaseModel):
    audio: bool
    video: bool
    data: bool
    screen: bool
    url: str


class EnableXCdrUsage(BaseModel):
    connect_minutes: str
    room_connect_minutes: str
    published_minutes: str
    subscribed_minutes: str
    screen_minutes: str


class EnableXCdr(BaseModel):
    cdr_id: str
    trans_date: str
    app_id: str = Field(description="The project id")
    conf_num: str = Field(description="The session id")
    call_num: str = Field(description="The participant id")
    call_log_id: str
    sip: bool
    room: EnableXCdrRoom
    user: EnableXCdrUser
    sigserver: EnableXCdrSignalling
    published_track: EnableXCdrTracks
    usage: EnableXCdrUsage
    stats_quality: dict[str, object] = Field(
        description="send, receive (avg/p95/min/max bitrate in bits per second, avg_bitrate_quality, packet_loss %; "
        "audio and video together, and each under `audio` and `video`), rtt and jitter (ms), samples; "
        "empty without samples"
    )


class EnableXReport(BaseModel):
    result: str = Field(description='"0": done (EnableX sends it as a string here)')
    cdr: list[EnableXCdr]


class EnableXArchiveFile(BaseModel):
    url: str


class EnableXArchiveMetadata(BaseModel):
    video_id: str = Field(description="The Videoplane video the recording became (GET /videos/{videoId})")


class EnableXArchiveItem(BaseModel):
    id: str = Field(alias="_id", description="The recording's id (the IVS composition's)")
    trans_date: str = Field(description="When the recording ended, YYYY-MM-DD HH:MM:SS UTC")
    conf_num: str = Field(description="The session id")
    app_id: str = Field(description="The project id")
    room_id: str
    recording: list[EnableXArchiveFile] = Field(
        description="The recording's HLS manifest once playable; empty for a private video"
    )
    transcoded: list[EnableXArchiveFile] = Field(description="Its MP4 once encoded; empty for a private video")
    metadata: EnableXArchiveMetadata


class EnableXArchive(BaseModel):
    result: str
    archive: list[EnableXArchiveItem] = Field(description="The recordings that became videos, oldest first")
