"""Recordings of room sessions: pure rules (docs/rooms.md, "Recordings").

A recording is one IVS **composition** of the stage (every publisher in a grid) written to the media
bucket as HLS under the prefix StartComposition answers. It starts with the session when the room
has `autoRecording`, or by `POST /rooms/{roomId}/recording`; it stops by `DELETE .../recording`, with
the session's end, or by itself (IVS stops a composition after a minute without publishers). IVS
then reports `IVS Composition State Change` "Session End" (stored) or "Session Failure": the first
makes it `ended` and announces `room.recording.ended` (the VOD context makes the video); the video
then comes back as `room.recording.ready`, whose `videoId` is kept here.

A session has at most one running recording; starting again while one runs answers that one.
Every transition is monotone (recording → stopping → ended | failed; the video id set once), so
duplicated or late events change nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class RecordingState(StrEnum):
    RECORDING = "recording"
    STOPPING = "stopping"
    ENDED = "ended"
    FAILED = "failed"


# How far along each state is: a transition never goes back.
_RANK = {RecordingState.RECORDING: 0, RecordingState.STOPPING: 1, RecordingState.ENDED: 2, RecordingState.FAILED: 2}
# IVS Composition State Change event names → the state they mean.
COMPOSITION_EVENTS = {"Session End": RecordingState.ENDED, "Session Failure": RecordingState.FAILED}


class Recording(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    room_id: str
    session_id: str
    # The composition's resource id (the last part of its ARN).
    recording_id: str
    composition_arn: str
    # Where IVS writes it in the media bucket (StartComposition's destination detail).
    prefix: str
    state: RecordingState = RecordingState.RECORDING
    started_at: datetime
    ended_at: datetime | None = None
    video_id: str | None = None
    version: int = 1

    @property
    def running(self) -> bool:
        return self.state in (RecordingState.RECORDING, RecordingState.STOPPING)


def recording_id(composition_arn: str) -> str:
    return composition_arn.rsplit("/", 1)[-1]


def running(recordings: list[Recording]) -> Recording | None:
    """The session's running recording, if any."""
    return next((r for r in recordings if r.state is RecordingState.RECORDING), None)


def idempotency_token(session_id: str, recordings: list[Recording]) -> str:
    """The same StartComposition token for a retried start, a new one after a recording ended."""
    return f"{session_id}-{len(recordings)}"


def advance(recording: Recording, state: RecordingState, at: datetime) -> Recording:
    """The recording moved to `state` (ignored when it is already as far or further)."""
    if _RANK[state] <= _RANK[recording.state]:
        return recording
    ended_at = at if _RANK[state] == 2 else recording.ended_at
    return recording.model_copy(update={"state": state, "ended_at": ended_at})


def with_video(recording: Recording, video_id: str) -> Recording:
    if recording.video_id is not None:
        return recording
    return recording.model_copy(update={"video_id": video_id})


@dataclass(frozen=True)
class VideoAssets:
    """What a recording's video offers to play now (the VOD context's; read through a port): its HLS
    manifest once playable, its MP4 once encoded; neither for a private video (its URLs carry a
    single-use token only the VOD API mints)."""

    video_id: str
    hls: str | None
    mp4: str | None


@dataclass(frozen=True)
class Archived:
    """A recording that became a video that still exists, with its assets."""

    recording: Recording
    assets: VideoAssets


def archived(found: list[Recording], assets: Callable[[str], VideoAssets | None]) -> list[Archived]:
    """The recordings with a video (oldest first); one still recording, failed, or whose video was
    deleted is left out."""
    out = []
    for recording in sorted(found, key=lambda r: (r.started_at, r.recording_id)):
        video = assets(recording.video_id) if recording.video_id else None
        if video is not None:
            out.append(Archived(recording, video))
    return out
