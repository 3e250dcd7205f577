"""The live plane's reports applied to live streams: `broadcasting`, the `status` block and
api.video's `live-stream.broadcast.started` / `.ended`, written with the change (the outbox)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.domain import events
from chalicelib.core.domain.errors import Conflict
from chalicelib.core.observability import logger
from chalicelib.live.domain import broadcasts
from chalicelib.live.domain.broadcasts import Flip, StreamStateChange
from chalicelib.live.ports import LiveStreamRepository

# Another writer (a PATCH, a concurrent event) may win the race: re-read and re-apply.
APPLY_ATTEMPTS = 5


class BroadcastService:
    def __init__(self, repository: LiveStreamRepository, clock: Callable[[], datetime]) -> None:
        self.repository = repository
        self.clock = clock

    def on_plane_event(self, event: dict[str, Any]) -> list[Flip]:
        """Applies one EventBridge event; returns the broadcast flips it made (usually none)."""
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
            if outcome is None:
                return []
            emitted = [self._event(flip, project_id, live_stream_id) for flip in outcome.flips]
            try:
                self.repository.record_broadcast(outcome.stream, stream.version, emitted)
            except Conflict:
                continue
            logger.info("live stream state", extra={**extra, "event": change.event_name.value, "flips": outcome.flips})
            return list(outcome.flips)
        raise Conflict(name="liveStreamId")

    def _event(self, flip: Flip, project_id: str, live_stream_id: str) -> events.DomainEvent:
        envelope = events.envelope(project_id, self.clock())
        if flip == "started":
            return events.LiveStreamBroadcastStarted(**envelope, liveStreamId=live_stream_id)
        return events.LiveStreamBroadcastEnded(**envelope, liveStreamId=live_stream_id)
