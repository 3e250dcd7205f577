"""Incident automation of managed live events (issue 15, seed recipe 3). Pure rules.

Detection is CloudWatch's: when an event is armed, one alarm per watched metric of its channel
(AWS/MediaLive DroppedFrames and InputLossSeconds, Sum per period, M of N from the template's
`incidents` block) is made; CloudWatch puts a "CloudWatch Alarm State Change" event on the default
bus at every state change, and those arrive here as `AlarmReport`s. The rules:

- a report already applied (its EventBridge id), older than the alarm's latest, for an event that
  is not armed or live, or whose template turned automation off, changes nothing;
- the first alarm in ALARM opens an incident and runs the template's actions: `switch-route`
  activates the backup route (only while the route mode is automatic: an operator's forced route
  wins, and with PRIMARY_INPUT_PREFERRED MediaLive takes no manual switch; both are logged) and
  `cap-ladder` records the highest rendition viewers should get (MediaLive cannot change a running
  channel's encodes: docs/live.md, "Incident automation");
- while an incident is open, another alarm in ALARM restarts the stabilization window; once every
  alarm is OK (or has no data), the window starts and the revert is due `stabilizationSeconds` later;
- the revert (a timer at that time) switches back to the route automation left, unless an operator
  forced a route since, lifts the cap and resolves the incident.
Every step, done or declined, is an automation entry on the event's timeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import ids, resources
from chalicelib.live.domain.live_event_templates import Incidents
from chalicelib.live.domain.live_events import (
    MAX_SEEN,
    AlarmState,
    HistoryEntry,
    HistoryKind,
    Incident,
    LiveEvent,
    LiveEventState,
    RouteMode,
    RouteName,
    bump,
)

SOURCE = "aws.cloudwatch"
DETAIL_TYPE = "CloudWatch Alarm State Change"
NAMESPACE = "AWS/MediaLive"
ALARM, OK, INSUFFICIENT_DATA = "ALARM", "OK", "INSUFFICIENT_DATA"
INCIDENT_ID_PREFIX = "in"
# Alarm names carry the project and the event (the rule matches the prefix; the consumer reads both).
ALARM_NAME_PREFIX = resources.INCIDENT_ALARM_PREFIX
# The metric each template threshold watches, with its name in alarm names.
METRICS = {"DroppedFrames": "dropped-frames", "InputLossSeconds": "input-loss-seconds"}
MAX_REASON = 300


def thresholds(settings: Incidents) -> dict[str, float]:
    """The metrics the template watches, with their thresholds (Sum per period)."""
    watched = {"DroppedFrames": settings.dropped_frames, "InputLossSeconds": settings.input_loss_seconds}
    return {metric: float(value) for metric, value in watched.items() if value is not None}


def alarm_name(event: LiveEvent, metric: str) -> str:
    return f"{ALARM_NAME_PREFIX}{event.project_id}-{event.live_event_id}-{METRICS[metric]}"


def parse_alarm_name(name: str) -> tuple[str, str, str] | None:
    """(projectId, liveEventId, metric) of one of this app's incident alarms; None for another."""
    if not name.startswith(ALARM_NAME_PREFIX):
        return None
    project_id, _, rest = name[len(ALARM_NAME_PREFIX) :].partition("-")
    live_event_id, _, suffix = rest.partition("-")
    metric = next((m for m, s in METRICS.items() if s == suffix), None)
    if not project_id or not live_event_id or metric is None:
        return None
    return project_id, live_event_id, metric


def alarm_request(event: LiveEvent, metric: str, channel_id: str) -> dict[str, Any]:
    """CloudWatch PutMetricAlarm for one watched metric of the event's channel (pipeline 0: the
    channels are SINGLE_PIPELINE). Missing data is not breaching: a channel that stopped reporting
    is MediaLive's own input-loss alert, not a degradation."""
    settings = event.profile.incidents
    return {
        "AlarmName": alarm_name(event, metric),
        "AlarmDescription": f"Videoplane live event {event.live_event_id}: {metric} degraded (incident automation).",
        "Namespace": NAMESPACE,
        "MetricName": metric,
        "Dimensions": [{"Name": "ChannelId", "Value": channel_id}, {"Name": "Pipeline", "Value": "0"}],
        "Statistic": "Sum",
        "Period": settings.period_seconds,
        "EvaluationPeriods": settings.evaluation_periods,
        "DatapointsToAlarm": settings.datapoints_to_alarm,
        "Threshold": thresholds(settings)[metric],
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "ActionsEnabled": False,
    }


@dataclass(frozen=True)
class AlarmReport:
    event_id: str
    project_id: str
    live_event_id: str
    metric: str
    state: str
    at: datetime
    reason: str = ""


def _timestamp(value: str) -> datetime:
    # CloudWatch writes "2019-10-02T17:04:40.985+0000"; EventBridge's `time` is "...Z".
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text)


def parse(message: dict[str, Any]) -> AlarmReport | None:
    """A "CloudWatch Alarm State Change" of one of this app's incident alarms; None for anything else."""
    if message.get("source") != SOURCE or message.get("detail-type") != DETAIL_TYPE:
        return None
    detail = message.get("detail") or {}
    named = parse_alarm_name(str(detail.get("alarmName", "")))
    state = detail.get("state") or {}
    if named is None or not message.get("id") or state.get("value") not in (ALARM, OK, INSUFFICIENT_DATA):
        return None
    stamp = state.get("timestamp") or message.get("time")
    if not stamp:
        return None
    project_id, live_event_id, metric = named
    reason = str(state.get("reason", ""))[:MAX_REASON]
    return AlarmReport(
        str(message["id"]), project_id, live_event_id, metric, str(state["value"]), _timestamp(stamp), reason
    )


def alarm_event(alarm: str, state: str, previous: str, reason: str, at: datetime, **extra: Any) -> dict[str, Any]:
    """The `detail` of a "CloudWatch Alarm State Change" (tests, and the devstack's evaluator)."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"
    return {
        "alarmName": alarm,
        "state": {"value": state, "reason": reason, "reasonData": json.dumps(extra), "timestamp": stamp},
        "previousState": {"value": previous, "reason": "", "timestamp": stamp},
        "configuration": {"description": "", "metrics": []},
    }


# -- the rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """The event after a report or a revert, and what the service must do and announce."""

    event: LiveEvent
    opened: bool = False
    resolved: bool = False
    switch_to: RouteName | None = None
    revert_due: datetime | None = None


def _entry(at: datetime, summary: str, **detail: Any) -> HistoryEntry:
    return HistoryEntry(at=at, kind=HistoryKind.AUTOMATION, summary=summary, detail=detail)


def revert_due(event: LiveEvent) -> datetime | None:
    """When the open incident's revert is due (None: not stabilizing)."""
    incident = event.incident
    if incident is None or not incident.open or incident.clear_since is None:
        return None
    return incident.clear_since + timedelta(seconds=event.profile.incidents.stabilization_seconds)


def on_alarm(event: LiveEvent, report: AlarmReport) -> Decision | None:
    """None when the report changes nothing (a duplicate, a late one, automation off)."""
    settings = event.profile.incidents
    if report.event_id in event.seen or event.state not in (LiveEventState.ARMED, LiveEventState.LIVE):
        return None
    if not settings.enabled:
        return None
    states = {s.metric: s for s in event.alarm_states}
    known = states.get(report.metric)
    if known is not None and (known.at > report.at or known.state == report.state):
        return None
    states[report.metric] = AlarmState(metric=report.metric, state=report.state, at=report.at)
    breaching = tuple(sorted(m for m, s in states.items() if s.state == ALARM))
    health = HistoryEntry(
        at=report.at, kind=HistoryKind.HEALTH, summary=f"alarm {report.metric} {report.state}",
        detail={"metric": report.metric, "state": report.state, "reason": report.reason},
    )  # fmt: skip
    current = event.model_copy(
        update={"alarm_states": tuple(states.values()), "seen": (*event.seen, report.event_id)[-MAX_SEEN:]}
    )
    incident = event.incident if event.incident is not None and event.incident.open else None
    if breaching and incident is None:
        return _open(current, report.at, breaching, health)
    if breaching and incident is not None:
        entries = [health]
        update: dict[str, Any] = {"metrics": tuple(sorted({*incident.metrics, *breaching}))}
        if incident.clear_since is not None:
            update["clear_since"] = None
            entries.append(_entry(report.at, "degraded again: the stabilization window starts over", metrics=breaching))
        changed = current.model_copy(update={"incident": incident.model_copy(update=update)})
        return Decision(bump(changed, report.at, *entries))
    if incident is not None and incident.clear_since is None:
        changed = current.model_copy(update={"incident": incident.model_copy(update={"clear_since": report.at})})
        due = revert_due(changed)
        assert due is not None
        entry = _entry(report.at, "every alarm OK: stabilizing before the revert", revertAt=due.isoformat())
        return Decision(bump(changed, report.at, health, entry), revert_due=due)
    if known is None or known.state != ALARM:
        # An alarm settling (INSUFFICIENT_DATA → OK after it is made) is no news for the timeline.
        return Decision(current.model_copy(update={"version": current.version + 1}))
    return Decision(bump(current, report.at, health))


def _open(event: LiveEvent, at: datetime, breaching: tuple[str, ...], health: HistoryEntry) -> Decision:
    settings = event.profile.incidents
    incident = Incident(incident_id=ids.new_sortable_id(INCIDENT_ID_PREFIX), opened_at=at, metrics=breaching)
    entries = [health, _entry(at, "incident opened", incidentId=incident.incident_id, metrics=breaching)]
    switch_to: RouteName | None = None
    if "switch-route" in settings.actions:
        declined = _why_not_switch(event, RouteName.BACKUP)
        if declined is None:
            switch_to = RouteName.BACKUP
            incident = incident.model_copy(update={"switched_from": event.active_route or RouteName.PRIMARY})
            entries.append(_entry(at, "switching to the backup route", action="switch-route", to="backup"))
        else:
            entries.append(_entry(at, f"route not switched: {declined}", action="switch-route", declined=declined))
    if "cap-ladder" in settings.actions:
        top = max(r.height for r in event.profile.ladder)
        cap = min(settings.ladder_cap_height, top)
        incident = incident.model_copy(update={"ladder_cap": cap})
        entries.append(_entry(at, f"ladder capped at {cap}p", action="cap-ladder", height=cap))
    changed = event.model_copy(update={"incident": incident})
    return Decision(bump(changed, at, *entries), opened=True, switch_to=switch_to)


def _why_not_switch(event: LiveEvent, to: RouteName) -> str | None:
    if event.premiere or event.routes.backup is None:
        return "the event has no backup route"
    if event.route_mode is not RouteMode.AUTOMATIC:
        return f"the operator forces the {event.route_mode.value} route"
    if event.profile.failover.input_preference != "EQUAL_INPUT_PREFERENCE":
        return "the failover prefers the primary input (PRIMARY_INPUT_PREFERRED): MediaLive takes no manual switch"
    if event.active_route is to:
        return f"the {to.value} route is active already"
    return None


def on_revert(event: LiveEvent, due_at: datetime, now: datetime) -> Decision | None:
    """A revert timer came back. None when it is not this incident's (the window started over, the
    incident was resolved, the event ended); an early timer is set again for the same time."""
    due = revert_due(event)
    if due is None or due != due_at or event.state not in (LiveEventState.ARMED, LiveEventState.LIVE):
        return None
    if now < due:
        return Decision(event, revert_due=due)
    incident = event.incident
    assert incident is not None
    entries: list[HistoryEntry] = []
    switch_to: RouteName | None = None
    if incident.switched_from is not None:
        back = incident.switched_from
        declined = _why_not_switch(event, back)
        if declined is None:
            switch_to = back
            entries.append(
                _entry(now, f"switching back to the {back.value} route", action="switch-route", to=back.value)
            )
        else:
            entries.append(
                _entry(now, f"route not switched back: {declined}", action="switch-route", declined=declined)
            )
    if incident.ladder_cap is not None:
        entries.append(_entry(now, "ladder cap lifted", action="cap-ladder"))
    entries.append(_entry(now, "incident resolved", incidentId=incident.incident_id))
    resolved = incident.model_copy(update={"resolved_at": now})
    return Decision(
        bump(event.model_copy(update={"incident": resolved}), now, *entries), resolved=True, switch_to=switch_to
    )


def ladder_cap(event: LiveEvent) -> int | None:
    """The highest rendition viewers should get now (an open incident's cap)."""
    incident = event.incident
    return incident.ladder_cap if incident is not None and incident.open else None
