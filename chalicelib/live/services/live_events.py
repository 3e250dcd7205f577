"""Managed live events: create, read, list, update, delete; arm and end (by an operator, or by the
schedule), the operator's route override, the timeline and the health view. The MediaLive plane's
own reports are applied by PlaneEventService (services/live_event_plane.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from chalicelib.core.domain import audit, events
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import Conflict, InvalidInput, NotFound, Problem
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.core.observability import logger
from chalicelib.core.ports import AuditLog
from chalicelib.live.domain import health_push, live_events, timeline
from chalicelib.live.domain import live_event_templates as templates
from chalicelib.live.domain.errors import ChannelRefused
from chalicelib.live.domain.live_events import (
    LiveEvent,
    LiveEventCreation,
    LiveEventState,
    LiveEventUpdate,
    RouteMode,
    RouteName,
)
from chalicelib.live.ports import LiveEventChannels, LiveEventRepository, LiveEventTimers, LiveStreamRepository
from chalicelib.live.services.live_event_templates import LiveEventTemplateService

UPDATE_ATTEMPTS = 3
RESOURCE = "liveEvent"


def _request(actor: Actor | None) -> str | None:
    return actor.request_id if actor is not None else None


class LiveEventService:
    def __init__(
        self,
        repository: LiveEventRepository,
        templates: LiveEventTemplateService,
        channels: Callable[[], LiveEventChannels],
        clock: Callable[[], datetime],
        live_streams: LiveStreamRepository | None = None,
        video_exists: Callable[[str, str], bool] = lambda project_id, video_id: True,
        audit_log: Callable[[], AuditLog] | None = None,
        srt_enabled: bool = False,
        timers: Callable[[], LiveEventTimers] | None = None,
    ) -> None:
        self.repository = repository
        self.templates = templates
        # Built on first use: reads and lists never touch MediaLive.
        self.channels = channels
        self.clock = clock
        self.live_streams = live_streams
        self.video_exists = video_exists
        self.audit_log = audit_log
        self.srt_enabled = srt_enabled
        # The schedule (arm at armAt, end at endAt): a timer per next due time (services/live_event_plane.py).
        self.timers = timers

    # -- CRUD --

    def create(self, actor: Actor, payload: LiveEventCreation) -> LiveEvent:
        self._require_source(actor, payload.live_stream_id, payload.video_id)
        self._require_protocols(payload.routes if payload.video_id is None else None)
        template = self.templates.resolve(actor.project_id, payload.template_id)
        profile = templates.applied_profile(template, payload.overrides)
        event = live_events.new_live_event(
            actor.project_id, payload, template.template_id, template.version, profile, self.clock()
        )
        entry = audit.record(
            actor, "live-event.create", RESOURCE, event.live_event_id, self.clock(), after=live_events.snapshot(event)
        )
        # The timer first: one that finds no event (the write failed) does nothing.
        self.schedule(event)
        self.repository.create(event, entry)
        return event

    def get(self, actor: Actor, live_event_id: str) -> LiveEvent:
        event = self.repository.get(actor.project_id, live_event_id)
        if event is None:
            raise NotFound(name="liveEventId")
        return event

    def list(self, actor: Actor, page: PageRequest) -> Page[LiveEvent]:
        found = self.repository.list_all(actor.project_id)
        return paginate(sorted(found, key=lambda e: (e.schedule.start_at, e.live_event_id)), page)

    def update(self, actor: Actor, live_event_id: str, payload: LiveEventUpdate) -> LiveEvent:
        if payload.routes is not None:
            self._require_protocols(payload.routes)
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, live_event_id)
            profile = None
            if payload.overrides is not None:
                # Against the template the event applied, at its current version (recorded anew).
                template = self.templates.resolve(actor.project_id, current.template_id)
                profile = templates.applied_profile(template, payload.overrides)
            updated = live_events.apply_update(current, payload, profile, self.clock())
            if profile is not None:
                # The built-in id resolves to the project's default of today: record which one applied.
                updated = updated.model_copy(
                    update={"template_id": template.template_id, "template_version": template.version}
                )
            try:
                self._save(actor, "live-event.update", current, updated, [])
            except Conflict:
                continue
            if live_events.next_due(updated) != live_events.next_due(current):
                self.schedule(updated)
            return updated
        raise Conflict(name="liveEventId")

    def delete(self, actor: Actor, live_event_id: str) -> None:
        current = self.get(actor, live_event_id)
        live_events.deletable(current)
        entry = audit.record(
            actor, "live-event.delete", RESOURCE, live_event_id, self.clock(), before=live_events.snapshot(current)
        )
        self.repository.delete(current, entry)

    # -- lifecycle --

    def arm(self, actor: Actor | None, project_id: str, live_event_id: str) -> LiveEvent:
        """Creates the channel, stores the event armed with it, then starts it (a premiere's at startAt,
        by a timer): stored before it starts, so MediaLive's first events about the channel find the
        event. Idempotent: an armed event's channel is started again when due (a start that failed
        after the save, or a crash), a live one is returned as it is; a retry after a crash finds the
        channel made."""
        for _ in range(UPDATE_ATTEMPTS):
            current = self.find(project_id, live_event_id)
            if current.state is LiveEventState.LIVE:
                return current
            if current.state is LiveEventState.ARMED:
                self._start_when_due(actor, current)
                return current
            if not live_events.can_transition(current.state, LiveEventState.ARMED):
                live_events.transition(current, LiveEventState.ARMED, self.clock())  # raises why not
            try:
                channel = self.channels().create(current)
            except ChannelRefused as refused:
                self._fail(actor, current, refused.detail or refused.title)
                raise
            armed = live_events.transition(
                current, LiveEventState.ARMED, self.clock(), channel=channel, request_id=_request(actor)
            )
            assert armed is not None
            announced = events.LiveEventArmed(
                **self._envelope(project_id), liveEventId=live_event_id,
                templateId=armed.template_id, templateVersion=armed.template_version,
            )  # fmt: skip
            try:
                self._save(actor, "live-event.arm", current, armed, [announced])
            except Conflict:
                continue
            logger.info("live event armed", extra={"liveEventId": live_event_id, "channelId": channel.channel_id})
            self.schedule(armed)
            self._start_when_due(actor, armed)
            return armed
        raise Conflict(name="liveEventId")

    def _start_when_due(self, actor: Actor | None, armed: LiveEvent) -> None:
        now = self.clock()
        if not live_events.due_to_start(armed, now):
            # A premiere armed early: its start timer (LiveEventPlaneService.on_timer) starts it.
            if self.timers is not None:
                self.timers().arm(armed.project_id, armed.live_event_id, armed.schedule.start_at, now)
            return
        try:
            self.channels().start(armed)
        except ChannelRefused as refused:
            self._fail(actor, armed, refused.detail or refused.title)
            raise

    def end(self, actor: Actor | None, project_id: str, live_event_id: str) -> LiveEvent:
        """Stops and deletes the channel and its inputs, then stores the event ended. Idempotent."""
        for _ in range(UPDATE_ATTEMPTS):
            current = self.find(project_id, live_event_id)
            if current.state is LiveEventState.ENDED:
                return current
            ended = live_events.transition(current, LiveEventState.ENDED, self.clock(), request_id=_request(actor))
            assert ended is not None
            if current.channel is not None:
                self.channels().release(current)
            announced = events.LiveEventEnded(**self._envelope(project_id), liveEventId=live_event_id)
            try:
                self._save(actor, "live-event.end", current, ended, [announced, *self._closed_incident(current, ended)])
            except Conflict:
                continue
            return ended
        raise Conflict(name="liveEventId")

    def set_route(self, actor: Actor, live_event_id: str, mode: RouteMode) -> LiveEvent:
        """The operator's override: a forced route is an immediate input switch on MediaLive; back to
        `automatic` leaves MediaLive's failover to act on the next failure (docs/live.md)."""
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, live_event_id)
            changed = live_events.with_route_mode(current, mode, self.clock(), request_id=actor.request_id)
            if changed is None:
                return current
            if mode is not RouteMode.AUTOMATIC:
                live_events.require_manual_switch(current)
                self.channels().switch_input(current, RouteName(mode.value))
            try:
                self._save(actor, "live-event.route", current, changed, [])
            except Conflict:
                continue
            return changed
        raise Conflict(name="liveEventId")

    def _fail(self, actor: Actor | None, current: LiveEvent, reason: str) -> None:
        failed = live_events.transition(
            current, LiveEventState.FAILED, self.clock(), failure=reason, strict=False, request_id=_request(actor)
        )
        if failed is None:
            return
        announced = events.LiveEventFailed(
            **self._envelope(current.project_id), liveEventId=current.live_event_id, reason=reason
        )
        try:
            self._save(actor, "live-event.fail", current, failed, [announced, *self._closed_incident(current, failed)])
        except Conflict:
            logger.warning("live event failure not recorded", extra={"liveEventId": current.live_event_id})

    def schedule(self, event: LiveEvent) -> None:
        """Sets the timer of the event's next scheduled transition, if it has one."""
        due = live_events.next_due(event)
        if due is not None and self.timers is not None:
            self.timers().arm(event.project_id, event.live_event_id, due, self.clock())

    # -- reading --

    def timeline(self, actor: Actor, live_event_id: str, page: PageRequest) -> Page[timeline.Entry]:
        """API requests that changed the event (the audit log, with request ids and actors), its
        transitions, media health entries and failovers, in time order."""
        event = self.get(actor, live_event_id)
        requests: Sequence[audit.AuditEvent] = []
        if self.audit_log is not None:
            found = self.audit_log().between(actor.project_id, event.created_at, self.clock())
            requests = [e for e in found if e.resource_type == RESOURCE and e.resource_id == live_event_id]
        return paginate(timeline.merge(event, requests), page)

    # -- helpers --

    def find(self, project_id: str, live_event_id: str) -> LiveEvent:
        """By the project the caller names (the schedule's timers carry it, not a principal)."""
        event = self.repository.get(project_id, live_event_id)
        if event is None:
            raise NotFound(name="liveEventId")
        return event

    def _require_source(self, actor: Actor, live_stream_id: str | None, video_id: str | None) -> None:
        if live_stream_id is not None and self.live_streams is not None:
            stream = self.live_streams.get(actor.project_id, live_stream_id)
            if stream is None or not stream.ready:
                raise InvalidInput([Problem("invalid-attribute", "The live stream does not exist.", "liveStreamId")])
        if video_id is not None and not self.video_exists(actor.project_id, video_id):
            raise InvalidInput([Problem("invalid-attribute", "The video does not exist or has no source.", "videoId")])

    def _require_protocols(self, routes: live_events.Routes | None) -> None:
        if routes is None or self.srt_enabled:
            return
        for name in ("primary", "backup"):
            route = getattr(routes, name)
            if route is not None and route.protocol == "srt":
                raise InvalidInput(
                    [
                        Problem(
                            "invalid-attribute",
                            "SRT routes are not available: the stack has no SRT passphrase secret.",
                            f"routes[{name}][protocol]",
                        )
                    ]
                )

    def _save(
        self,
        actor: Actor | None,
        action: str,
        current: LiveEvent,
        updated: LiveEvent,
        emitted: Sequence[events.DomainEvent],
    ) -> None:
        entry = None
        if actor is not None:
            entry = audit.record(
                actor, action, RESOURCE, current.live_event_id, self.clock(),
                before=live_events.snapshot(current), after=live_events.snapshot(updated),
            )  # fmt: skip
        # Every change the health document shows is announced too: the push channel sends it.
        health = health_push.health_announcement(current, updated, self._envelope(current.project_id))
        self.repository.save(updated, current.version, entry, [*emitted, *health])

    def _closed_incident(self, before: LiveEvent, after: LiveEvent) -> Sequence[events.DomainEvent]:
        """The incident an end (or failure) closed, announced as resolved: its alarms go with the
        channel, so nothing else would ever resolve it."""
        closed = live_events.closed_incident(before, after)
        if closed is None:
            return ()
        resolved = events.LiveEventIncidentResolved(
            **self._envelope(after.project_id), liveEventId=after.live_event_id,
            incidentId=closed.incident_id, switchedTo=None, reason="ended",
        )  # fmt: skip
        return (resolved,)

    def _envelope(self, project_id: str) -> dict[str, str]:
        return events.envelope(project_id, self.clock())
