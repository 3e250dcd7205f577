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
    expiresAt: datetime | None


class Admission(BaseModel):
    roomId: str
    sessionId: str = Field(description="The room session this join belongs to (GET /sessions/{sessionId})")
    participantId: str
    userRef: str
    name: str
    role: Literal["moderator", "participant", "viewer"]
    capabilities: list[Literal["publish", "subscribe"]]
    media: MediaCredentials


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
