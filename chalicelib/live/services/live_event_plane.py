"""MediaLive's channel reports (the aws.medialive consumer) and the schedule's timers, applied to
managed live events without a human: the rules are in domain/event_plane.py and live_events.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.domain import events
from chalicelib.core.domain.errors import Conflict, NotFound
from chalicelib.core.observability import logger
from chalicelib.live.domain import event_plane, health_push, live_events
from chalicelib.live.domain.event_plane import Outcome
from chalicelib.live.domain.live_events import LiveEvent, LiveEventState
from chalicelib.live.ports import LiveEventChannels, LiveEventRepository, LiveEventTimers
from chalicelib.live.services.live_events import LiveEventService

APPLY_ATTEMPTS = 5


class LiveEventPlaneService:
    def __init__(
        self,
        repository: LiveEventRepository,
        lifecycle: LiveEventService,
        channels: Callable[[], LiveEventChannels],
        timers: Callable[[], LiveEventTimers],
        clock: Callable[[], datetime],
    ) -> None:
        self.repository = repository
        self.lifecycle = lifecycle
        self.channels = channels
        self.timers = timers
        self.clock = clock

    def on_plane_event(self, message: dict[str, Any]) -> bool:
        """Applies one MediaLive event; False when it changed nothing (foreign, late, repeated)."""
        report = event_plane.parse(message)
        if report is None:
            return False
        for _ in range(APPLY_ATTEMPTS):
            current = self.repository.find_by_channel(report.channel_arn)
            outcome = event_plane.apply(current, report) if current is not None else None
            if current is None or outcome is None:
                return False
            if outcome.ended or outcome.failed:
                # A channel that stopped (or failed) by itself is deleted with its inputs: idle events
                # cost nothing. Idempotent, so a retried message releases nothing twice.
                self.channels().release(current)
            try:
                health = health_push.health_announcement(current, outcome.event, self._envelope(current))
                self.repository.save(outcome.event, current.version, None, [*self._announcements(outcome), *health])
            except Conflict:
                continue
            logger.info(
                "live event plane report",
                extra={
                    "liveEventId": current.live_event_id,
                    "detailType": report.detail_type,
                    "state": outcome.event.state.value,
                },
            )
            return True
        raise Conflict(name="liveEventId")

    def _announcements(self, outcome: Outcome) -> list[events.DomainEvent]:
        e = outcome.event
        ids = {"liveEventId": e.live_event_id}
        announced: list[events.DomainEvent] = []
        if outcome.started:
            announced.append(events.LiveEventStarted(**self._envelope(e), **ids))
        if outcome.failover is not None:
            before, after = outcome.failover
            moved = {"from": before.value if before else None, "to": after.value}
            announced.append(events.LiveEventFailover(**self._envelope(e), **ids, **moved))
        if outcome.ended:
            announced.append(events.LiveEventEnded(**self._envelope(e), **ids))
        if outcome.failed:
            announced.append(events.LiveEventFailed(**self._envelope(e), **ids, reason=outcome.failed))
        return announced

    def _envelope(self, event: LiveEvent) -> dict[str, str]:
        return events.envelope(event.project_id, self.clock())

    # -- the schedule --

    def on_timer(self, project_id: str, live_event_id: str, due_at: datetime) -> None:
        """A timer came back. One chain of timers per due time: a chain whose time is no longer the
        event's next (an update set a new one, with its own chain) stops here; a due one arms or
        ends the event and starts the next chain; an early one (SQS delays reach 15 minutes) is set
        again for the same time."""
        try:
            event = self.lifecycle.find(project_id, live_event_id)
        except NotFound:
            return
        now = self.clock()
        if event.state is LiveEventState.ARMED and due_at in (event.schedule.arm_time, event.schedule.start_at):
            # A premiere's start timer, or the arming timer again (its first delivery failed after the
            # event was stored armed): arm starts the channel when it is due and IDLE.
            if due_at > now:
                self.timers().arm(project_id, live_event_id, due_at, now)
            else:
                self.lifecycle.arm(None, project_id, live_event_id)
            return
        if live_events.next_due(event) != due_at:
            return
        if live_events.due_to_end(event, now):
            self.lifecycle.end(None, project_id, live_event_id)
        elif live_events.due_to_arm(event, now):
            self.lifecycle.arm(None, project_id, live_event_id)
        else:
            self.timers().arm(project_id, live_event_id, due_at, now)
