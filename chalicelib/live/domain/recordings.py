"""Recordings: what IVS's "IVS Recording State Change" events do to a recorded live stream. Pure rules.

The stack's recording configuration has no reconnect window (a stream's window is its own, IVS's
is per configuration), so IVS records every push (IVS stream) alone: `Recording Start` when it
begins writing under a key prefix, `Recording End` once every file is in S3, or `Recording Start
Failure` / `Recording End Failure`. The live context joins them: the pushes that went live in one
broadcast (joined by reconnects within the stream's window, domain/broadcasts.py) make one
recording, announced as `live-stream.recording.ended` once the broadcast has ended **and** every
one of its pushes' recordings has ended or failed, whichever comes last. The VOD context turns
it into a video.

Events come at least once, late and out of order, like the stream state changes:

- a recording is known by its key prefix; one already announced never counts again (the latest
  prefixes are kept), so a duplicate `Recording End` never makes a second video;
- an end before its start is an ended recording all the same (the end carries everything);
- a failed recording stops nobody waiting: the broadcast is announced with the ones that worked
  (none worked: nothing is announced).

A push whose recording events are all lost holds its broadcast's announcement back; the
stream's later broadcasts are announced independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.core.clock import to_atom
from chalicelib.core.domain import events
from chalicelib.live.domain.live_streams import ClosedBroadcast, LiveStream, RecordingPart

RECORDING_STATE_CHANGE = "IVS Recording State Change"
# Announced prefixes kept on the stream (newest last) to absorb late duplicates.
RECORDED_KEPT = 50
# Recordings of pushes that never went live (so belong to no broadcast) are dropped past this.
RECORDINGS_KEPT = 50


class RecordingStatus(StrEnum):
    START = "Recording Start"
    END = "Recording End"
    START_FAILURE = "Recording Start Failure"
    END_FAILURE = "Recording End Failure"


class RecordingStateChange(BaseModel):
    """One "IVS Recording State Change" event, as the rule's queue delivers it."""

    model_config = ConfigDict(frozen=True)
    channel_arn: str
    channel_name: str
    stream_ids: tuple[str, ...]
    status: RecordingStatus
    key_prefix: str
    time: datetime

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> RecordingStateChange | None:
        """None for anything else (another detail type, a status IVS adds later, no prefix)."""
        detail = event.get("detail")
        resources = event.get("resources")
        if event.get("detail-type") != RECORDING_STATE_CHANGE or not isinstance(detail, dict) or not resources:
            return None
        streams = detail.get("recording_session_stream_ids") or [detail.get("stream_id", "")]
        try:
            change = cls(
                channel_arn=resources[0],
                channel_name=detail.get("channel_name", ""),
                stream_ids=tuple(s for s in streams if isinstance(s, str) and s),
                status=detail.get("recording_status"),
                key_prefix=detail.get("recording_s3_key_prefix", ""),
                time=event.get("time"),
            )
        except ValidationError:
            return None
        return change if change.key_prefix and change.stream_ids else None


@dataclass(frozen=True)
class RecordedBroadcast:
    """A broadcast whose recordings are all stored: the video to make of them."""

    started_at: datetime
    key_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class RecordingOutcome:
    stream: LiveStream
    recorded: tuple[RecordedBroadcast, ...]


def apply_recording(stream: LiveStream, change: RecordingStateChange) -> RecordingOutcome | None:
    """The stream after the event and the broadcasts it completes; None when nothing changes."""
    if change.key_prefix in stream.recorded:
        return None
    known = next((p for p in stream.recordings if p.key_prefix == change.key_prefix), None)
    part = known or RecordingPart(key_prefix=change.key_prefix, stream_ids=change.stream_ids, started_at=change.time)
    if change.status is RecordingStatus.START:
        if known is not None:
            return None  # a repeat, or a start after its end
    elif change.status is RecordingStatus.END:
        if known is not None and known.ended_at is not None:
            return None
        part = part.model_copy(update={"ended_at": change.time, "stream_ids": change.stream_ids})
    else:
        if known is not None and known.failed:
            return None
        part = part.model_copy(update={"ended_at": part.ended_at or change.time, "failed": True})
    others = tuple(p for p in stream.recordings if p.key_prefix != change.key_prefix)
    recordings = (*others, part)[-RECORDINGS_KEPT:]
    changed = stream.model_copy(update={"recordings": recordings, "version": stream.version + 1})
    return settle(changed)


def close_broadcast(stream: LiveStream) -> LiveStream:
    """The broadcast ended: a recorded stream waits for the recordings of its pushes."""
    if not stream.record or stream.broadcast_started_at is None or not stream.broadcast_sessions:
        return stream.model_copy(update={"broadcast_sessions": ()})
    closed = ClosedBroadcast(started_at=stream.broadcast_started_at, stream_ids=stream.broadcast_sessions)
    return stream.model_copy(update={"unrecorded": (*stream.unrecorded, closed), "broadcast_sessions": ()})


def settle(stream: LiveStream) -> RecordingOutcome:
    """Every ended broadcast whose pushes' recordings have all ended (or failed) is announced, and
    its recordings leave the stream."""
    waiting: list[ClosedBroadcast] = []
    recorded: list[RecordedBroadcast] = []
    recordings = stream.recordings
    announced = stream.recorded
    for broadcast in stream.unrecorded:
        parts = [p for p in recordings if set(p.stream_ids) & set(broadcast.stream_ids)]
        covered = {s for p in parts if p.ended_at is not None for s in p.stream_ids}
        if not set(broadcast.stream_ids) <= covered or any(p.ended_at is None for p in parts):
            waiting.append(broadcast)
            continue
        stored = sorted((p for p in parts if not p.failed), key=lambda p: p.started_at)
        if stored:
            recorded.append(RecordedBroadcast(broadcast.started_at, tuple(p.key_prefix for p in stored)))
        gone = {p.key_prefix for p in parts}
        recordings = tuple(p for p in recordings if p.key_prefix not in gone)
        announced = (*announced, *sorted(gone))[-RECORDED_KEPT:]
    settled = stream.model_copy(update={"unrecorded": tuple(waiting), "recordings": recordings, "recorded": announced})
    return RecordingOutcome(settled, tuple(recorded))


def announcement(stream: LiveStream, done: RecordedBroadcast, envelope: dict[str, str]) -> events.DomainEvent:
    """`live-stream.recording.ended` of a recorded broadcast (the VOD context makes its video)."""
    return events.LiveStreamRecordingEnded(
        **envelope,
        liveStreamId=stream.live_stream_id,
        name=stream.name,
        broadcastStartedAt=to_atom(done.started_at),
        recordings=list(done.key_prefixes),
    )
