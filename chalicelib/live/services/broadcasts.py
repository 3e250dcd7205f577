"""The live plane's reports applied to live streams: `broadcasting`, the `status` block,
api.video's `live-stream.broadcast.started` / `.ended` and Videoplane's `live-stream.disconnected` /
`.reconnected`, written with the change (the outbox); and the reconnect window's timer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.domain import events
from chalicelib.core.domain.errors import Conflict
from chalicelib.core.observability import logger
from chalicelib.live.domain import broadcasts, recordings
from chalicelib.live.domain.broadcasts import Flip, Outcome, StreamStateChange
from chalicelib.live.domain.live_streams import LiveStream, Relay
from chalicelib.live.domain.recordings import RecordedBroadcast, RecordingStateChange
from chalicelib.live.ports import LiveStreamRepository, ReconnectTimers
from chalicelib.live.services.restreams import RestreamService

# Another writer (a PATCH, a concurrent event) may win the race: re-read and re-apply.
APPLY_ATTEMPTS = 5


class BroadcastService:
    def __init__(
        self,
        repository: LiveStreamRepository,
        timers: Callable[[], ReconnectTimers],
        clock: Callable[[], datetime],
        restreams: RestreamService | None = None,
    ) -> None:
        self.repository = repository
        self.timers = timers
        self.clock = clock
        # Relays start with a broadcast and stop at its end (None: a stream's targets are not run).
        self.restreams = restreams

    def on_plane_event(self, event: dict[str, Any]) -> list[Flip]:
        """Applies one EventBridge event; returns the broadcast flips it made (usually none)."""
        recording = RecordingStateChange.from_event(event)
        if recording is not None:
            self.on_recording(recording)
            return []
        change = StreamStateChange.from_event(event)
        owner = broadcasts.stream_of_channel(change.channel_name) if change else None
        if change is None or owner is None:
            return []
        project_id, live_stream_id = owner
        extra = {"projectId": project_id, "liveStreamId": live_stream_id, "streamId": change.stream_id}
        for _ in range(APPLY_ATTEMPTS):
            stream = self.repository.get(project_id, live_stream_id)
            if stream is None or stream.channel is None or stream.channel.arn != change.channel_arn:
                # Deleted since, or an older channel of that name: nothing of ours to change.
                logger.info("stream state change of no current live stream", extra=extra)
                return []
            outcome = broadcasts.apply_change(stream, change)
            try:
                written, stop = self._record(stream, outcome)
            except Conflict:
                continue
            if outcome is not None:
                logger.info(
                    "live stream state", extra={**extra, "event": change.event_name.value, "flips": outcome.flips}
                )
            # Armed after the write (and again on a redelivery): a timer that fires early or twice
            # changes nothing. Relays likewise.
            self._arm(written)
            self._relay(written, stop)
            return list(outcome.flips) if outcome else []
        raise Conflict(name="liveStreamId")

    def on_window_expired(self, project_id: str, live_stream_id: str, disconnected_at: datetime) -> list[Flip]:
        """A drop's reconnect window passed: the broadcast ends unless the encoder came back."""
        for _ in range(APPLY_ATTEMPTS):
            stream = self.repository.get(project_id, live_stream_id)
            if stream is None:
                return []
            outcome = broadcasts.expire_window(stream, disconnected_at, self.clock())
            if outcome is None:
                if stream.disconnected_at == disconnected_at:
                    self._arm(stream)  # early (timers are not exact): once more for the rest
                return []
            try:
                written, stop = self._record(stream, outcome)
            except Conflict:
                continue
            logger.info("reconnect window passed", extra={"projectId": project_id, "liveStreamId": live_stream_id})
            self._relay(written, stop)
            return list(outcome.flips)
        raise Conflict(name="liveStreamId")

    def on_recording(self, change: RecordingStateChange) -> list[RecordedBroadcast]:
        """Applies one recording state change; returns the broadcasts it completed (announced as
        `live-stream.recording.ended` with the change)."""
        owner = broadcasts.stream_of_channel(change.channel_name)
        if owner is None:
            return []
        project_id, live_stream_id = owner
        extra = {"projectId": project_id, "liveStreamId": live_stream_id, "recording": change.key_prefix}
        for _ in range(APPLY_ATTEMPTS):
            stream = self.repository.get(project_id, live_stream_id)
            if stream is None or stream.channel is None or stream.channel.arn != change.channel_arn:
                logger.info("recording state change of no current live stream", extra=extra)
                return []
            outcome = recordings.apply_recording(stream, change)
            if outcome is None:
                return []
            emitted = [self._recorded(outcome.stream, done) for done in outcome.recorded]
            try:
                self.repository.record_broadcast(outcome.stream, stream.version, emitted)
            except Conflict:
                continue
            logger.info(
                "live stream recording", extra={**extra, "status": change.status.value, "recorded": len(emitted)}
            )
            return list(outcome.recorded)
        raise Conflict(name="liveStreamId")

    def _record(self, stream: LiveStream, outcome: Outcome | None) -> tuple[LiveStream, tuple[Relay, ...]]:
        """Writes the outcome; returns the stream as written and the relays to stop."""
        if outcome is None:
            return stream, ()
        # An ended broadcast whose recordings are all in already is announced with its end.
        settled = recordings.settle(outcome.stream)
        written = settled.stream
        stop: tuple[Relay, ...] = ()
        if self.restreams is not None:
            planned = self.restreams.plan(written)
            written, stop = planned.stream, planned.stop
        emitted = [self._event(flip, stream.project_id, stream.live_stream_id) for flip in outcome.flips]
        emitted += [self._recorded(settled.stream, done) for done in settled.recorded]
        self.repository.record_broadcast(written, stream.version, emitted)
        return written, stop

    def _relay(self, stream: LiveStream, stop: tuple[Relay, ...]) -> None:
        if self.restreams is not None:
            self.restreams.carry_out(stream, stop)

    def _recorded(self, stream: LiveStream, done: RecordedBroadcast) -> events.DomainEvent:
        return recordings.announcement(stream, done, events.envelope(stream.project_id, self.clock()))

    def _arm(self, stream: LiveStream) -> None:
        left = broadcasts.window_left(stream, self.clock())
        if left is not None and stream.disconnected_at is not None:
            self.timers().arm(stream.project_id, stream.live_stream_id, stream.disconnected_at, left)

    def _event(self, flip: Flip, project_id: str, live_stream_id: str) -> events.DomainEvent:
        envelope = events.envelope(project_id, self.clock())
        if flip == "started":
            return events.LiveStreamBroadcastStarted(**envelope, liveStreamId=live_stream_id)
        if flip == "ended":
            return events.LiveStreamBroadcastEnded(**envelope, liveStreamId=live_stream_id)
        if flip == "disconnected":
            return events.LiveStreamDisconnected(**envelope, liveStreamId=live_stream_id)
        return events.LiveStreamReconnected(**envelope, liveStreamId=live_stream_id)
