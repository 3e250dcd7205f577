"""Incident automation of managed live events: CloudWatch's alarm state changes and the revert
timers, applied by the rules of domain/incidents.py; the channel's alarms made and deleted with the
channel (`AlarmedChannels`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.domain import events
from chalicelib.core.domain.errors import Conflict
from chalicelib.core.observability import logger
from chalicelib.live.domain import health_push, incidents
from chalicelib.live.domain.incidents import Decision
from chalicelib.live.domain.live_events import ChannelResources, LiveEvent, RouteName
from chalicelib.live.ports import IncidentAlarms, IncidentTimers, LiveEventChannels, LiveEventRepository

APPLY_ATTEMPTS = 5


class AlarmedChannels:
    """The channels port with the event's incident alarms: made once the channel exists, deleted
    before it goes (an alarm without its channel would only ever report missing data)."""

    def __init__(self, channels: LiveEventChannels, alarms: Callable[[], IncidentAlarms]) -> None:
        self.channels = channels
        self.alarms = alarms

    def create(self, event: LiveEvent) -> ChannelResources:
        channel = self.channels.create(event)
        if not event.premiere:
            self.alarms().ensure(event, channel.channel_id)
        return channel

    def start(self, event: LiveEvent) -> None:
        self.channels.start(event)

    def release(self, event: LiveEvent) -> None:
        self.alarms().remove(event)
        self.channels.release(event)

    def switch_input(self, event: LiveEvent, route: RouteName) -> None:
        self.channels.switch_input(event, route)


class LiveEventIncidentService:
    def __init__(
        self,
        repository: LiveEventRepository,
        channels: Callable[[], LiveEventChannels],
        timers: Callable[[], IncidentTimers],
        clock: Callable[[], datetime],
    ) -> None:
        self.repository = repository
        self.channels = channels
        self.timers = timers
        self.clock = clock

    def on_alarm(self, message: dict[str, Any]) -> bool:
        """Applies one "CloudWatch Alarm State Change"; False when it changed nothing."""
        report = incidents.parse(message)
        if report is None:
            return False
        return self._apply(report.project_id, report.live_event_id, lambda e: incidents.on_alarm(e, report))

    def on_revert(self, project_id: str, live_event_id: str, due_at: datetime) -> bool:
        """A revert timer came back: reverts and resolves the incident if it is still stabilizing."""
        return self._apply(project_id, live_event_id, lambda e: incidents.on_revert(e, due_at, self.clock()))

    def _apply(self, project_id: str, live_event_id: str, rule: Callable[[LiveEvent], Decision | None]) -> bool:
        for _ in range(APPLY_ATTEMPTS):
            current = self.repository.get(project_id, live_event_id)
            decision = rule(current) if current is not None else None
            if current is None or decision is None:
                return False
            if decision.event is current:  # an early timer: set again for the same time
                self._arm_revert(decision)
                return False
            if decision.switch_to is not None:
                # Before the save, as the operator's override: a failed switch leaves the event as it
                # was and the message comes again. The action name carries the event's version.
                self.channels().switch_input(current, decision.switch_to)
            try:
                announced = [
                    *self._announcements(decision),
                    *health_push.health_announcement(
                        current, decision.event, events.envelope(current.project_id, self.clock())
                    ),
                ]
                self.repository.save(decision.event, current.version, None, announced)
            except Conflict:
                continue
            self._arm_revert(decision)
            logger.info(
                "live event incident automation",
                extra={
                    "liveEventId": live_event_id,
                    "opened": decision.opened,
                    "resolved": decision.resolved,
                    "switchTo": decision.switch_to.value if decision.switch_to else None,
                },
            )
            return True
        raise Conflict(name="liveEventId")

    def _arm_revert(self, decision: Decision) -> None:
        if decision.revert_due is not None:
            e = decision.event
            self.timers().arm(e.project_id, e.live_event_id, decision.revert_due, self.clock())

    def _announcements(self, decision: Decision) -> list[events.DomainEvent]:
        e = decision.event
        incident = e.incident
        if incident is None or not (decision.opened or decision.resolved):
            return []
        envelope = events.envelope(e.project_id, self.clock())
        switched = decision.switch_to.value if decision.switch_to else None
        common = {"liveEventId": e.live_event_id, "incidentId": incident.incident_id, "switchedTo": switched}
        if decision.opened:
            opened = events.LiveEventIncidentOpened(
                **envelope, **common, metrics=list(incident.metrics), ladderCap=incident.ladder_cap
            )
            return [opened]
        return [events.LiveEventIncidentResolved(**envelope, **common)]
