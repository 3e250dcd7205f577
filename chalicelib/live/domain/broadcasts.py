"""Broadcasts: what the live plane's stream state changes do to a live stream. Pure rules.

IVS reports a push as "IVS Stream State Change" events on the default bus: `Session Created` (the
key was accepted), `Stream Start` (viewers can watch), `Stream End` and `Session Ended` (the
encoder is gone; either may come first). Each names the stream (IVS's session id, `st-...`).
EventBridge delivers them at least once, best effort, possibly hours late and out of order, so
the rules below are idempotent and order-tolerant:

- a session is identified by its stream id; a stream id that ended never starts again, so a late
  or repeated start of an ended session changes nothing (its id is remembered);
- a start older than the current session (by event time) is stale and changes nothing;
- a start of a newer session while another is open closes the open one first (its end was lost);
- an end of a session not seen yet is remembered, so its late start changes nothing.

A **broadcast** spans sessions: when a live session ends, the stream is `disconnected` and waits
its reconnect window (`reconnect_window_seconds`, 60 by default, 0 to 300); a session that goes
live within the window continues the broadcast (`reconnected`), and the window's expiry (a timer
the service arms) ends it. With a window of 0 the session's end ends the broadcast.

`broadcasting` is true while a session is live. The flips name the events to write with the
change: api.video's `live-stream.broadcast.started` / `.ended`, and Videoplane's
`live-stream.disconnected` / `.reconnected`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.live.domain import recordings
from chalicelib.live.domain.live_streams import CHANNEL_NAME_PREFIX, LiveSession, LiveStream

STREAM_STATE_CHANGE = "IVS Stream State Change"
# Ended stream ids kept on the stream, newest last: enough to absorb late events of recent sessions.
ENDED_SESSIONS_KEPT = 20

Flip = Literal["started", "ended", "disconnected", "reconnected"]


class StreamEventName(StrEnum):
    SESSION_CREATED = "Session Created"
    STREAM_START = "Stream Start"
    STREAM_END = "Stream End"
    SESSION_ENDED = "Session Ended"

    @property
    def starts(self) -> bool:
        return self in (StreamEventName.SESSION_CREATED, StreamEventName.STREAM_START)


class StreamStateChange(BaseModel):
    """One "IVS Stream State Change" event, as the rule's queue delivers it."""

    model_config = ConfigDict(frozen=True)
    channel_arn: str
    channel_name: str
    stream_id: str
    event_name: StreamEventName
    time: datetime

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> StreamStateChange | None:
        """None for anything else (another detail type, an event name IVS adds later)."""
        detail = event.get("detail")
        resources = event.get("resources")
        if event.get("detail-type") != STREAM_STATE_CHANGE or not isinstance(detail, dict) or not resources:
            return None
        try:
            return cls(
                channel_arn=resources[0],
                channel_name=detail.get("channel_name", ""),
                stream_id=detail.get("stream_id", ""),
                event_name=detail.get("event_name"),
                time=event.get("time"),
            )
        except ValidationError:
            return None


def stream_of_channel(channel_name: str) -> tuple[str, str] | None:
    """(projectId, liveStreamId) of a channel named by channel_name(), or None for another's."""
    prefix = f"{CHANNEL_NAME_PREFIX}-"
    if not channel_name.startswith(prefix):
        return None
    project_id, _, live_stream_id = channel_name[len(prefix) :].rpartition("-")
    return (project_id, live_stream_id) if project_id and live_stream_id else None


@dataclass(frozen=True)
class Outcome:
    stream: LiveStream
    flips: tuple[Flip, ...]


def apply_change(stream: LiveStream, change: StreamStateChange) -> Outcome | None:
    """The stream after the change and the broadcast flips it makes; None when nothing changes
    (a duplicate, a stale or late event)."""
    if change.stream_id in stream.ended_sessions:
        return None
    current = stream.session
    if current is not None and current.session_id != change.stream_id and change.time < current.connected_at:
        # Older than the current session: a late start is stale, a late end only remembered.
        return None if change.event_name.starts else _remember_end(stream, change.stream_id)
    if change.event_name.starts:
        return _start(stream, change)
    if current is not None and current.session_id == change.stream_id:
        return _end(stream, current, change.time)
    return _remember_end(stream, change.stream_id)


def _start(stream: LiveStream, change: StreamStateChange) -> Outcome | None:
    current = stream.session
    flips: tuple[Flip, ...] = ()
    live = change.event_name is StreamEventName.STREAM_START
    if current is not None and current.session_id == change.stream_id:
        if not live or current.live:
            return None  # a repeat, or Session Created after Stream Start
        joined, flips = _went_live(stream, change.time)
        session = current.model_copy(update={"live": True, "started_at": change.time})
        return Outcome(_with_session(_joined(joined, change.stream_id), session), flips)
    if current is not None and current.ended_at is None:
        # A newer session while this one is open: its end event was lost (or is late).
        closed = _end(stream, current, change.time)
        stream, flips = closed.stream, closed.flips
    if live:
        stream, joined_flips = _went_live(stream, change.time)
        flips = (*flips, *joined_flips)
        stream = _joined(stream, change.stream_id)
    session = LiveSession(
        session_id=change.stream_id, connected_at=change.time, live=live, started_at=change.time if live else None
    )
    return Outcome(_with_session(stream, session), flips)


def _went_live(stream: LiveStream, at: datetime) -> tuple[LiveStream, tuple[Flip, ...]]:
    """A session went live: a new broadcast, or the current one continued after a drop."""
    if stream.broadcast_started_at is not None and stream.disconnected_at is not None:
        if at - stream.disconnected_at <= _window(stream):
            return stream.model_copy(update={"disconnected_at": None}), ("reconnected",)
        # The window passed before this start was seen (its expiry is late): a new broadcast.
        closed = recordings.close_broadcast(stream)
        return closed.model_copy(update={"broadcast_started_at": at, "disconnected_at": None}), ("ended", "started")
    if stream.broadcast_started_at is not None:
        return stream, ()
    return stream.model_copy(update={"broadcast_started_at": at, "disconnected_at": None}), ("started",)


def _end(stream: LiveStream, current: LiveSession, at: datetime) -> Outcome:
    session = current.model_copy(update={"live": False, "ended_at": at})
    flips: tuple[Flip, ...] = ()
    completed = stream.completed_at is not None and stream.completed_at >= current.connected_at
    if current.live and stream.broadcast_started_at is not None:
        if stream.reconnect_window_seconds > 0 and not completed:
            stream, flips = stream.model_copy(update={"disconnected_at": at}), ("disconnected",)
        else:
            stream, flips = _closed(stream), ("ended",)
    return Outcome(_with_session(stream, session, ended=current.session_id), flips)


def expire_window(stream: LiveStream, disconnected_at: datetime, now: datetime) -> Outcome | None:
    """The timer of the drop at `disconnected_at` fired: the broadcast ends if that drop is still
    unanswered and its window has passed (None: reconnected since, another drop, or too early)."""
    if stream.broadcast_started_at is None or stream.disconnected_at != disconnected_at:
        return None
    if now - disconnected_at < _window(stream):
        return None
    return Outcome(_closed(stream).model_copy(update={"version": stream.version + 1}), ("ended",))


def complete(stream: LiveStream, now: datetime) -> Outcome:
    """api.video's `complete`: the push on now ends its broadcast when it stops (no reconnect
    window), and a broadcast waiting for its encoder ends at once."""
    completed = stream.model_copy(update={"completed_at": now, "version": stream.version + 1})
    if stream.broadcast_started_at is not None and stream.disconnected_at is not None:
        return Outcome(_closed(completed), ("ended",))
    return Outcome(completed, ())


def window_left(stream: LiveStream, now: datetime) -> float | None:
    """Seconds until the current drop's window ends (0 when passed); None when not disconnected."""
    if stream.broadcast_started_at is None or stream.disconnected_at is None:
        return None
    return max(0.0, (stream.disconnected_at + _window(stream) - now).total_seconds())


def _window(stream: LiveStream) -> timedelta:
    return timedelta(seconds=stream.reconnect_window_seconds)


def _closed(stream: LiveStream) -> LiveStream:
    closed = recordings.close_broadcast(stream)
    return closed.model_copy(update={"broadcast_started_at": None, "disconnected_at": None})


def _joined(stream: LiveStream, stream_id: str) -> LiveStream:
    """The push went live in the stream's current broadcast (whose recording will hold it)."""
    if stream_id in stream.broadcast_sessions:
        return stream
    return stream.model_copy(update={"broadcast_sessions": (*stream.broadcast_sessions, stream_id)})


def _remember_end(stream: LiveStream, stream_id: str) -> Outcome:
    return Outcome(_with_session(stream, stream.session, ended=stream_id), ())


def _with_session(stream: LiveStream, session: LiveSession | None, ended: str | None = None) -> LiveStream:
    ended_sessions = stream.ended_sessions
    if ended is not None:
        ended_sessions = (*ended_sessions, ended)[-ENDED_SESSIONS_KEPT:]
    broadcasting = session is not None and session.live and session.ended_at is None
    return stream.model_copy(
        update={
            "session": session,
            "ended_sessions": ended_sessions,
            "broadcasting": broadcasting,
            "version": stream.version + 1,
        }
    )


def status(stream: LiveStream) -> dict[str, Any]:
    """Videoplane's `status` block: idle (never pushed), connected (a push is on; broadcasting
    once its first segment is out), disconnected (the encoder dropped; waiting for it within the
    reconnect window), ended (the last push is over)."""
    session = stream.session
    if session is None:
        return {"state": "idle"}
    state = "connected" if session.ended_at is None else "ended"
    if state == "ended" and stream.disconnected_at is not None and stream.broadcast_started_at is not None:
        state = "disconnected"
    body: dict[str, Any] = {
        "state": state,
        "sessionId": session.session_id,
        "connectedAt": session.connected_at,
    }
    if session.started_at is not None:
        body["broadcastStartedAt"] = session.started_at
    if session.ended_at is not None:
        body["endedAt"] = session.ended_at
    if state == "disconnected":
        body["disconnectedAt"] = stream.disconnected_at
    return body
