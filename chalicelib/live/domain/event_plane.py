"""MediaLive's reports about a managed live event's channel, applied to the event. Pure rules.

MediaLive puts three kinds of event on the account's default bus (reference B9; detail keys are
snake_case): "MediaLive Channel State Change" (`state`, `message`, `pipelines_running_count`),
"MediaLive Channel Alert" (`alarm_state` SET|CLEARED, `alarm_id`, `alert_type`, `pipeline`,
`message`) and "MediaLive Channel Input Change" (`active_input_attachment_name`,
`active_input_switch_action_name`, `pipeline`, `message`), each naming `channel_arn`.

EventBridge delivers at least once and in no promised order, so every rule is idempotent and
order-tolerant:
- an event id already applied changes nothing (`seen`);
- the channel's state is judged from the latest RUNNING and the latest IDLE seen (their times, not
  their arrival): RUNNING makes an armed event live; an IDLE later than a RUNNING (the channel was
  stopped) ends a live one, whichever arrives first; CREATE_FAILED and UPDATE_FAILED fail it;
- an alert SET opens it unless it is open already or was CLEARED at or after the SET's time; a
  CLEARED closes it and is remembered, so its late SET is not reopened;
- a channel that starts runs its first attachment, the primary (MediaLive reports no input change
  for it); an input change older than the active route's is ignored; a change to the route already
  active is a no-op; otherwise the active route changes and a failover is announced (from → to).
Every report that changes something leaves a media-health entry on the event's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.live.domain.live_events import (
    MAX_SEEN,
    Alert,
    HistoryEntry,
    HistoryKind,
    LiveEvent,
    LiveEventState,
    RouteName,
    bump,
    transition,
)

SOURCE = "aws.medialive"
STATE_CHANGE = "MediaLive Channel State Change"
ALERT = "MediaLive Channel Alert"
INPUT_CHANGE = "MediaLive Channel Input Change"
DETAIL_TYPES = (STATE_CHANGE, ALERT, INPUT_CHANGE)
FAILED_STATES = ("CREATE_FAILED", "UPDATE_FAILED")
MAX_CLEARED = 50
MAX_MESSAGE = 300


@dataclass(frozen=True)
class PlaneReport:
    event_id: str
    detail_type: str
    at: datetime
    channel_arn: str
    detail: dict[str, Any]


def parse(message: dict[str, Any]) -> PlaneReport | None:
    """A MediaLive channel event as EventBridge delivers it; None for anything else."""
    if message.get("source") != SOURCE or message.get("detail-type") not in DETAIL_TYPES:
        return None
    detail = message.get("detail") or {}
    channel_arn = detail.get("channel_arn") or next(iter(message.get("resources") or []), None)
    if not channel_arn or not message.get("id") or not message.get("time"):
        return None
    at = datetime.fromisoformat(str(message["time"]).replace("Z", "+00:00"))
    return PlaneReport(str(message["id"]), str(message["detail-type"]), at, str(channel_arn), dict(detail))


@dataclass(frozen=True)
class Outcome:
    """The event after the report, and what to announce (the service builds the domain events)."""

    event: LiveEvent
    started: bool = False
    ended: bool = False
    failed: str | None = None
    failover: tuple[RouteName | None, RouteName] | None = None


def apply(event: LiveEvent, report: PlaneReport) -> Outcome | None:
    """None when the report changes nothing (a duplicate, a late or foreign one)."""
    if report.event_id in event.seen or event.channel is None or event.channel.channel_arn != report.channel_arn:
        return None
    if report.detail_type == STATE_CHANGE:
        outcome = _state_change(event, report)
    elif report.detail_type == ALERT:
        outcome = _alert(event, report)
    else:
        outcome = _input_change(event, report)
    if outcome is None:
        return None
    seen = (*outcome.event.seen, report.event_id)[-MAX_SEEN:]
    return Outcome(
        outcome.event.model_copy(update={"seen": seen}),
        outcome.started,
        outcome.ended,
        outcome.failed,
        outcome.failover,
    )


def _health(report: PlaneReport, summary: str, **detail: Any) -> HistoryEntry:
    return HistoryEntry(at=report.at, kind=HistoryKind.HEALTH, summary=summary, detail=detail)


def _observed(event: LiveEvent, report: PlaneReport, state: str) -> dict[str, Any]:
    """The channel state fields this report moves forward (none for a late one)."""
    update: dict[str, Any] = {}
    if event.plane_state_at is None or report.at >= event.plane_state_at:
        update.update(plane_state=state, plane_state_at=report.at)
    if state == "RUNNING" and (event.running_at is None or report.at > event.running_at):
        update["running_at"] = report.at
    if state == "IDLE" and (event.idle_at is None or report.at > event.idle_at):
        update["idle_at"] = report.at
    return update


def _state_change(event: LiveEvent, report: PlaneReport) -> Outcome | None:
    state = str(report.detail.get("state", ""))
    message = str(report.detail.get("message", ""))[:MAX_MESSAGE]
    update = _observed(event, report, state)
    if not update:
        return None
    current = bump(event.model_copy(update=update), report.at, _health(report, f"channel {state}", message=message))
    failed: str | None = None
    if state in FAILED_STATES:
        reason = f"MediaLive channel {state}: {message}".rstrip(": ")
        moved = transition(current, LiveEventState.FAILED, report.at, failure=reason, strict=False)
        if moved is not None:
            current, failed = moved, reason
    if current.running_at is None:
        return Outcome(current, failed=failed)
    running_at = current.running_at
    started = (moved := transition(current, LiveEventState.LIVE, report.at, strict=False)) is not None
    current = moved or current
    if started and current.active_route is None and not current.premiere:
        # A channel starts on its first attachment, the primary, and reports no input change for
        # it: only later switches are reported.
        current = current.model_copy(update={"active_route": RouteName.PRIMARY, "active_route_at": running_at})
    stopped = current.idle_at is not None and current.idle_at > running_at
    ended = False
    if stopped and current.state is LiveEventState.LIVE:
        finished = transition(current, LiveEventState.ENDED, report.at, strict=False)
        current, ended = finished or current, finished is not None
    return Outcome(current, started=started, ended=ended, failed=failed)


def _alert(event: LiveEvent, report: PlaneReport) -> Outcome | None:
    if event.state not in (LiveEventState.ARMED, LiveEventState.LIVE):
        return None
    alarm_id = str(report.detail.get("alarm_id", ""))
    alert_type = str(report.detail.get("alert_type", ""))
    message = str(report.detail.get("message", ""))[:MAX_MESSAGE]
    pipeline = str(report.detail.get("pipeline", "0"))
    state = str(report.detail.get("alarm_state", "")).upper()
    open_ids = {a.alarm_id for a in event.alerts}
    cleared = dict(event.cleared_alarms)
    if state == "SET":
        if alarm_id in open_ids or (alarm_id in cleared and cleared[alarm_id] >= report.at):
            return None
        alert = Alert(alarm_id=alarm_id, alert_type=alert_type, pipeline=pipeline, message=message, set_at=report.at)
        changed = event.model_copy(update={"alerts": (*event.alerts, alert)})
    elif state == "CLEARED":
        if alarm_id in cleared and cleared[alarm_id] >= report.at:
            return None
        cleared[alarm_id] = report.at
        remembered = tuple(sorted(cleared.items(), key=lambda kv: kv[1]))[-MAX_CLEARED:]
        # A CLEARED older than the open SET (a re-raise) leaves that SET open.
        alerts = tuple(a for a in event.alerts if a.alarm_id != alarm_id or a.set_at > report.at)
        changed = event.model_copy(update={"alerts": alerts, "cleared_alarms": remembered})
    else:
        return None
    entry = _health(report, f"alert {state}: {alert_type}", alarmId=alarm_id, pipeline=pipeline, message=message)
    return Outcome(bump(changed, report.at, entry))


def _input_change(event: LiveEvent, report: PlaneReport) -> Outcome | None:
    if event.state not in (LiveEventState.ARMED, LiveEventState.LIVE):
        return None
    name = str(report.detail.get("active_input_attachment_name", ""))
    if name not in (RouteName.PRIMARY.value, RouteName.BACKUP.value):
        return None
    route = RouteName(name)
    if event.active_route_at is not None and report.at < event.active_route_at:
        return None
    if event.active_route is route:
        if event.active_route_at is not None and report.at == event.active_route_at:
            return None
        # The same route, reported later: a switch older than this one is history (not announced).
        return Outcome(event.model_copy(update={"active_route_at": report.at}))
    before = event.active_route
    changed = event.model_copy(update={"active_route": route, "active_route_at": report.at})
    # The first report of the primary is the start, not a failover.
    announce = before is not None or route is RouteName.BACKUP
    detail = {
        "from": before.value if before else None,
        "to": route.value,
        "action": report.detail.get("active_input_switch_action_name"),
        "message": str(report.detail.get("message", ""))[:MAX_MESSAGE],
    }
    kind = HistoryKind.FAILOVER if announce else HistoryKind.HEALTH
    summary = f"active route {before.value if before else 'none'} → {route.value}"
    entry = HistoryEntry(at=report.at, kind=kind, summary=summary, detail=detail)
    return Outcome(bump(changed, report.at, entry), failover=(before, route) if announce else None)
