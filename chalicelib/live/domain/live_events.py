"""Managed live events (a Videoplane extension): the aggregate, its schedule and its lifecycle. Pure
rules.

A live event is a planned broadcast on its own MediaLive channel: contribution arrives on a primary
and a backup push route (RTMP or SRT) with MediaLive's automatic input failover between them, or a
file (an existing video's source) premieres at the scheduled time. The channel exists only while
the event is armed or live, so idle events cost nothing.

States: `draft` → `armed` (channel created and started, a few minutes before the start) → `live`
(the channel runs) → `ended` (channel stopped and deleted); `failed` from any state but `ended`. The
transition rules below are the only way a state changes; a transition to the state an event is
already in is a no-op (None), which is what makes retried requests and repeated plane events
harmless: no second audit entry, no second domain event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StrictStr, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from chalicelib.core import ids, resources
from chalicelib.core.domain.errors import Conflict, InvalidInput, Problem
from chalicelib.live.domain.live_event_templates import LiveProfile, ProfileOverrides

LIVE_EVENT_ID_PREFIX = "le"
# When `armAt` is not given: the channel is created and started this long before the start
# (a MediaLive channel takes about a minute to start; RTMP encoders must be pushing before).
DEFAULT_ARM_LEAD = timedelta(minutes=5)
MAX_DURATION = timedelta(hours=24)
# Entries of the event's own timeline kept on the item (transitions, health, failovers); the API
# requests that changed it come from the audit log.
MAX_HISTORY = 200
# EventBridge ids of the plane events already applied (duplicates change nothing).
MAX_SEEN = 100
EventName = Annotated[StrictStr, StringConstraints(min_length=1, max_length=256, pattern=r"\S")]
VideoId = Annotated[StrictStr, StringConstraints(pattern=r"^vi[0-9A-Za-z]{22}$")]
LiveStreamId = Annotated[StrictStr, StringConstraints(pattern=r"^li[0-9A-Za-z]{22}$")]
TemplateId = Annotated[StrictStr, StringConstraints(pattern=r"^(lt[0-9A-Za-z]{22}|default)$")]


class Wire(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, alias_generator=to_camel, extra="forbid")


class LiveEventState(StrEnum):
    DRAFT = "draft"
    ARMED = "armed"
    LIVE = "live"
    ENDED = "ended"
    FAILED = "failed"


class RouteName(StrEnum):
    PRIMARY = "primary"
    BACKUP = "backup"


class RouteMode(StrEnum):
    """The operator's override: MediaLive's automatic failover, or one route forced."""

    AUTOMATIC = "automatic"
    PRIMARY = "primary"
    BACKUP = "backup"


class RouteRequest(Wire):
    protocol: Literal["rtmp", "srt"] = "rtmp"


class Routes(Wire):
    primary: RouteRequest = RouteRequest()
    backup: RouteRequest | None = RouteRequest()


class Schedule(Wire):
    """armAt ≤ startAt < endAt; armAt defaults to startAt - 5 min."""

    arm_at: datetime | None = None
    start_at: datetime
    end_at: datetime

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        if self.start_at.tzinfo is None or self.end_at.tzinfo is None or (self.arm_at and self.arm_at.tzinfo is None):
            raise ValueError("Times must carry a time zone (ISO 8601, e.g. 2026-12-06T20:00:00Z).")
        if self.arm_at is not None and self.arm_at > self.start_at:
            raise ValueError("armAt must not be after startAt.")
        if self.end_at <= self.start_at:
            raise ValueError("endAt must be after startAt.")
        if self.end_at - self.start_at > MAX_DURATION:
            raise ValueError("An event lasts at most 24 hours.")
        return self

    @property
    def arm_time(self) -> datetime:
        return self.arm_at if self.arm_at is not None else self.start_at - DEFAULT_ARM_LEAD


class LiveEventCreation(Wire):
    """`POST /live-events` body: a live stream's broadcast on pushed routes, or a video premiered."""

    name: EventName
    live_stream_id: LiveStreamId | None = None
    video_id: VideoId | None = None
    template_id: TemplateId | None = None
    overrides: ProfileOverrides = ProfileOverrides()
    schedule: Schedule
    routes: Routes = Routes()

    @model_validator(mode="after")
    def _one_source(self) -> LiveEventCreation:
        if (self.live_stream_id is None) == (self.video_id is None):
            raise ValueError("Name either a liveStreamId (pushed routes) or a videoId (a premiere), not both.")
        return self


class LiveEventUpdate(Wire):
    """`PATCH /live-events/{id}` body: a draft changes anything; an armed or live event only its name
    and its end."""

    name: EventName | None = None
    overrides: ProfileOverrides | None = None
    schedule: Schedule | None = None
    routes: Routes | None = None

    def null_violations(self) -> list[str]:
        fields = type(self).model_fields
        return [fields[name].alias or name for name in self.model_fields_set if getattr(self, name) is None]


class RouteChange(Wire):
    """`POST /live-events/{id}/route` body."""

    mode: RouteMode


class Ingest(BaseModel):
    """Where an encoder pushes one route (MediaLive DescribeInput's Destinations)."""

    model_config = ConfigDict(frozen=True)
    route: RouteName
    protocol: str
    input_id: str
    url: str


class ChannelResources(BaseModel):
    """What arming made on MediaLive: found again by the event id in their names and tags."""

    model_config = ConfigDict(frozen=True)
    channel_id: str
    channel_arn: str
    input_security_group_id: str | None = None
    input_ids: tuple[str, ...] = ()
    ingest: tuple[Ingest, ...] = ()
    playback_url: str


class Alert(BaseModel):
    """An open MediaLive channel alert (SET, not yet CLEARED)."""

    model_config = ConfigDict(frozen=True)
    alarm_id: str
    alert_type: str
    pipeline: str = "0"
    message: str = ""
    set_at: datetime


class HistoryKind(StrEnum):
    TRANSITION = "transition"
    HEALTH = "health"
    FAILOVER = "failover"
    ROUTE = "route"
    # What incident automation did or chose not to do (domain/incidents.py).
    AUTOMATION = "automation"


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)
    at: datetime
    kind: HistoryKind
    summary: str
    detail: dict[str, Any] = {}
    # The API request that caused it (None: the schedule or MediaLive), so the timeline correlates.
    request_id: str | None = None


class AlarmState(BaseModel):
    """The latest state CloudWatch reported for one of the event's incident alarms (by metric)."""

    model_config = ConfigDict(frozen=True)
    metric: str
    state: str  # ALARM, OK, INSUFFICIENT_DATA
    at: datetime


class Incident(BaseModel):
    """The event's latest incident (domain/incidents.py): open while `resolved_at` is None."""

    model_config = ConfigDict(frozen=True)
    incident_id: str
    opened_at: datetime
    metrics: tuple[str, ...]
    # The route automation switched away from (None: it did not switch).
    switched_from: RouteName | None = None
    ladder_cap: int | None = None
    # Since when every alarm is OK again; the revert is due a stabilization window later.
    clear_since: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


class LiveEvent(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    live_event_id: str
    name: str
    live_stream_id: str | None = None
    video_id: str | None = None
    template_id: str
    template_version: int
    overrides: dict[str, Any] = {}
    profile: LiveProfile
    schedule: Schedule
    routes: Routes
    state: LiveEventState = LiveEventState.DRAFT
    state_changed_at: datetime
    failure: str | None = None
    channel: ChannelResources | None = None
    route_mode: RouteMode = RouteMode.AUTOMATIC
    active_route: RouteName | None = None
    active_route_at: datetime | None = None
    alerts: tuple[Alert, ...] = ()
    # Alarm ids cleared, with when: a SET delivered after its CLEAR is not reopened.
    cleared_alarms: tuple[tuple[str, datetime], ...] = ()
    # MediaLive's latest reported channel state, and the latest RUNNING and IDLE it reported (by
    # their times: domain/event_plane.py judges start and stop from them, whatever the arrival order).
    plane_state: str | None = None
    plane_state_at: datetime | None = None
    running_at: datetime | None = None
    idle_at: datetime | None = None
    seen: tuple[str, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    # Incident automation: its alarms' latest states and the latest incident (domain/incidents.py).
    alarm_states: tuple[AlarmState, ...] = ()
    incident: Incident | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def premiere(self) -> bool:
        return self.video_id is not None


def new_live_event(
    project_id: str,
    payload: LiveEventCreation,
    template_id: str,
    template_version: int,
    profile: LiveProfile,
    now: datetime,
) -> LiveEvent:
    return LiveEvent(
        project_id=project_id,
        live_event_id=ids.new_sortable_id(LIVE_EVENT_ID_PREFIX),
        name=payload.name,
        live_stream_id=payload.live_stream_id,
        video_id=payload.video_id,
        template_id=template_id,
        template_version=template_version,
        overrides=payload.overrides.model_dump(mode="json", by_alias=True, exclude_unset=True),
        profile=profile,
        schedule=payload.schedule,
        # A premiere plays a file: it has no pushed routes.
        routes=payload.routes if payload.video_id is None else Routes(backup=None),
        state_changed_at=now,
        created_at=now,
        updated_at=now,
    )


# -- transitions -------------------------------------------------------------------------------


class InvalidTransition(Conflict):
    slug = "live-event-state"
    title = "The live event's state does not allow this."


_ALLOWED: dict[LiveEventState, frozenset[LiveEventState]] = {
    LiveEventState.DRAFT: frozenset({LiveEventState.ARMED, LiveEventState.ENDED, LiveEventState.FAILED}),
    LiveEventState.ARMED: frozenset({LiveEventState.LIVE, LiveEventState.ENDED, LiveEventState.FAILED}),
    LiveEventState.LIVE: frozenset({LiveEventState.ENDED, LiveEventState.FAILED}),
    # A failed event may be armed again (a new channel) once what failed is fixed, or ended.
    LiveEventState.FAILED: frozenset({LiveEventState.ARMED, LiveEventState.ENDED}),
    LiveEventState.ENDED: frozenset(),
}


def can_transition(current: LiveEventState, target: LiveEventState) -> bool:
    return target in _ALLOWED[current]


def transition(
    event: LiveEvent,
    target: LiveEventState,
    now: datetime,
    channel: ChannelResources | None = None,
    failure: str | None = None,
    strict: bool = True,
    request_id: str | None = None,
) -> LiveEvent | None:
    """The event in `target`; None when it is there already (a retry or a repeated plane event).
    An illegal transition raises InvalidTransition (`strict`, for requests) or is ignored (None, for
    plane events, which arrive late and out of order)."""
    if event.state is target:
        return None
    if not can_transition(event.state, target):
        if not strict:
            return None
        raise InvalidTransition(
            name="state", detail=f"A live event that is {event.state.value} cannot become {target.value}."
        )
    update: dict[str, Any] = {"state": target, "state_changed_at": now, "failure": failure}
    if channel is not None:
        update["channel"] = channel
    if target is LiveEventState.ARMED:
        # A new channel: nothing its predecessor reported counts.
        update.update(
            route_mode=RouteMode.AUTOMATIC, active_route=None, active_route_at=None, alerts=(),
            running_at=None, idle_at=None, plane_state=None, plane_state_at=None,
            alarm_states=(), incident=None,
        )  # fmt: skip
    entries: list[HistoryEntry] = []
    if target in (LiveEventState.ENDED, LiveEventState.FAILED):
        # The channel is released with the transition: no alert or incident stays open on a channel
        # that is gone (its alarms go with it, so nothing would ever resolve the incident).
        update["alerts"] = ()
        if event.incident is not None and event.incident.open:
            update["incident"] = event.incident.model_copy(update={"resolved_at": now})
            entries.append(
                HistoryEntry(
                    at=now, kind=HistoryKind.AUTOMATION, summary=f"incident closed: the event {target.value}",
                    detail={"incidentId": event.incident.incident_id},
                )
            )  # fmt: skip
    detail = {"from": event.state.value, "to": target.value} | ({"failure": failure} if failure else {})
    entry = HistoryEntry(
        at=now, kind=HistoryKind.TRANSITION, summary=f"{event.state.value} → {target.value}", detail=detail
    )
    return bump(event.model_copy(update=update), now, entry, *entries)


def closed_incident(before: LiveEvent, after: LiveEvent) -> Incident | None:
    """The incident a transition closed (ended or failed with one open), if any."""
    was, now = before.incident, after.incident
    if was is None or now is None or not was.open or now.open or was.incident_id != now.incident_id:
        return None
    return now


def bump(event: LiveEvent, now: datetime, *entries: HistoryEntry) -> LiveEvent:
    history = (*event.history, *entries)[-MAX_HISTORY:]
    return event.model_copy(update={"history": history, "updated_at": now, "version": event.version + 1})


def due_to_arm(event: LiveEvent, now: datetime) -> bool:
    return event.state is LiveEventState.DRAFT and event.schedule.arm_time <= now


def due_to_end(event: LiveEvent, now: datetime) -> bool:
    """Armed or live past its end; or a draft whose whole slot passed (it is never armed then)."""
    if event.state is LiveEventState.DRAFT:
        return event.schedule.end_at <= now
    return event.state in (LiveEventState.ARMED, LiveEventState.LIVE) and event.schedule.end_at <= now


def due_to_start(event: LiveEvent, now: datetime) -> bool:
    """An armed event's channel starts at once (its encoders connect before the start), a premiere's
    at startAt: a channel plays its file from the moment it runs."""
    return not event.premiere or event.schedule.start_at <= now


def next_due(event: LiveEvent) -> datetime | None:
    """When the schedule next changes the event by itself: arm at armAt, end at endAt."""
    if event.state is LiveEventState.DRAFT:
        return event.schedule.arm_time
    if event.state in (LiveEventState.ARMED, LiveEventState.LIVE):
        return event.schedule.end_at
    return None


# -- changes by request ---------------------------------------------------------------------------


def apply_update(event: LiveEvent, payload: LiveEventUpdate, profile: LiveProfile | None, now: datetime) -> LiveEvent:
    """A draft takes any change; an armed or live event its name and a later end only (its channel is
    built); an ended or failed one none."""
    changes: dict[str, Any] = {name: getattr(payload, name) for name in payload.model_fields_set}
    if event.state is not LiveEventState.DRAFT:
        late = event.state in (LiveEventState.ARMED, LiveEventState.LIVE)
        touched = set(changes) - {"name", "schedule"}
        schedule = changes.get("schedule")
        if schedule is not None and (
            schedule.start_at != event.schedule.start_at or schedule.arm_time != event.schedule.arm_time
        ):
            touched.add("schedule")
        if not late or touched:
            raise InvalidTransition(
                name=sorted(touched)[0] if touched else "state",
                detail=f"A live event that is {event.state.value} takes only a new name"
                + (" and a new schedule.endAt." if late else "; this one takes no change."),
            )
        if schedule is not None and schedule.end_at <= now:
            raise InvalidInput([Problem("invalid-attribute", "endAt must be in the future.", "schedule[endAt]")])
    if "overrides" in changes:
        changes["overrides"] = payload.overrides.model_dump(mode="json", by_alias=True, exclude_unset=True)  # type: ignore[union-attr]
        if profile is not None:
            changes["profile"] = profile
    if "routes" in changes and event.premiere:
        raise InvalidInput([Problem("invalid-attribute", "A premiere plays a file: it has no routes.", "routes")])
    return event.model_copy(update={**changes, "updated_at": now, "version": event.version + 1})


def with_route_mode(
    event: LiveEvent, mode: RouteMode, now: datetime, request_id: str | None = None
) -> LiveEvent | None:
    """The operator's override, recorded; None when it is the mode already (a retry)."""
    if event.state not in (LiveEventState.ARMED, LiveEventState.LIVE):
        raise InvalidTransition(name="mode", detail="Routes are switched while the event is armed or live.")
    if event.premiere or event.routes.backup is None:
        raise InvalidTransition(name="mode", detail="This live event has no backup route to switch to.")
    if event.route_mode is mode:
        return None
    entry = HistoryEntry(
        at=now, kind=HistoryKind.ROUTE, summary=f"route mode {event.route_mode.value} → {mode.value}",
        detail={"from": event.route_mode.value, "to": mode.value}, request_id=request_id,
    )  # fmt: skip
    return bump(event.model_copy(update={"route_mode": mode}), now, entry)


def require_manual_switch(event: LiveEvent) -> None:
    """MediaLive switches within an automatic failover pair only with EQUAL_INPUT_PREFERENCE (with
    PRIMARY_INPUT_PREFERRED it always returns to the primary), docs/live.md."""
    if event.profile.failover.input_preference != "EQUAL_INPUT_PREFERENCE":
        raise InvalidTransition(
            name="mode",
            detail="The event's failover prefers the primary input (inputPreference PRIMARY_INPUT_PREFERRED), "
            "so MediaLive does not take manual switches; use a template (or override) with EQUAL_INPUT_PREFERENCE.",
        )


def deletable(event: LiveEvent) -> None:
    if event.state in (LiveEventState.ARMED, LiveEventState.LIVE):
        raise InvalidTransition(name="state", detail="End the live event before deleting it.")


# -- naming on MediaLive --------------------------------------------------------------------------

NAME_PREFIX = "videoplane"


def resource_name(event: LiveEvent, role: str) -> str:
    """Deterministic, so a retried arm finds what an earlier attempt made (look up before create)."""
    return f"{NAME_PREFIX}-{event.live_event_id}-{role}"


def output_prefix(event: LiveEvent) -> str:
    """Where the channel writes its HLS in the media bucket (the MediaLive role writes only there)."""
    return f"{resources.LIVE_EVENTS_PREFIX}{event.project_id}/{event.live_event_id}/"


def snapshot(event: LiveEvent) -> dict[str, Any]:
    """The event for the audit log: its settings and state, not its history."""
    return event.model_dump(
        mode="json", exclude={"project_id", "history", "seen", "cleared_alarms", "alarm_states", "incident"}
    )
