"""Incident automation's rules (domain/incidents.py): CloudWatch alarm state changes open an incident
and act, OK starts the stabilization window, the revert timer switches back and resolves; an
operator's forced route wins; duplicates, late reports and foreign alarms change nothing. Also the
template's `incidents` block, the alarm requests (CloudWatch in moto) and the service's flow."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from chalicelib.core.domain.errors import Conflict
from chalicelib.live.adapters.incident_alarms import CloudWatchIncidentAlarms, SqsIncidentTimers, parse_revert
from chalicelib.live.domain import incidents, live_events
from chalicelib.live.domain.incidents import AlarmReport
from chalicelib.live.domain.live_event_templates import Failover, Incidents, LiveProfile
from chalicelib.live.domain.live_events import (
    ChannelResources,
    HistoryKind,
    LiveEvent,
    LiveEventCreation,
    LiveEventState,
    RouteMode,
    RouteName,
)
from chalicelib.live.services.live_event_incidents import AlarmedChannels, LiveEventIncidentService

T0 = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
CHANNEL = ChannelResources(channel_id="1234567", channel_arn="arn:aws:medialive:::channel:1234567", playback_url="u")
EQUAL = Failover(input_preference="EQUAL_INPUT_PREFERENCE")
FAST = Incidents(
    dropped_frames=10, input_loss_seconds=2, period_seconds=10, sustain_seconds=20, stabilization_seconds=30
)


def live(profile: LiveProfile | None = None, state: LiveEventState = LiveEventState.LIVE) -> LiveEvent:
    payload = LiveEventCreation.model_validate(
        {"name": "e", "liveStreamId": "li" + "L" * 22, "schedule": {"startAt": T0, "endAt": T0 + timedelta(hours=1)}}
    )
    profile = profile or LiveProfile(failover=EQUAL, incidents=FAST)
    draft = live_events.new_live_event("pr1", payload, "default", 1, profile, T0 - timedelta(minutes=5))
    event = live_events.transition(draft, LiveEventState.ARMED, T0 - timedelta(minutes=5), channel=CHANNEL)
    assert event is not None
    if state is LiveEventState.LIVE:
        event = live_events.transition(event, LiveEventState.LIVE, T0)
        assert event is not None
    return event.model_copy(update={"active_route": RouteName.PRIMARY, "active_route_at": T0})


def message(event: LiveEvent, metric: str, state: str, seconds: float, event_id: str | None = None) -> dict[str, Any]:
    at = T0 + timedelta(seconds=seconds)
    return {
        "version": "0",
        "id": event_id or f"{metric}-{state}-{seconds}",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": at.isoformat().replace("+00:00", "Z"),
        "region": "us-east-1",
        "resources": [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{incidents.alarm_name(event, metric)}"],
        "detail": incidents.alarm_event(incidents.alarm_name(event, metric), state, "OK", "Threshold Crossed", at),
    }


def report(event: LiveEvent, metric: str, state: str, seconds: float, event_id: str | None = None) -> AlarmReport:
    parsed = incidents.parse(message(event, metric, state, seconds, event_id))
    assert parsed is not None
    return parsed


def automation(event: LiveEvent) -> list[str]:
    return [h.summary for h in event.history if h.kind is HistoryKind.AUTOMATION]


# -- parsing ------------------------------------------------------------------------------------------


def test_parse_reads_the_documented_shape_and_the_alarm_name() -> None:
    event = live()
    parsed = report(event, "DroppedFrames", "ALARM", 12.5)
    assert (parsed.project_id, parsed.live_event_id, parsed.metric, parsed.state) == (
        "pr1", event.live_event_id, "DroppedFrames", "ALARM",
    )  # fmt: skip
    assert parsed.at == T0 + timedelta(seconds=12.5)
    assert incidents.parse_alarm_name(incidents.alarm_name(event, "InputLossSeconds"))[2] == "InputLossSeconds"  # type: ignore[index]


@pytest.mark.parametrize(
    "change",
    [
        {"source": "aws.medialive"},
        {"detail-type": "MediaLive Channel Alert"},
        {
            "detail": {
                "alarmName": "someone-elses-alarm",
                "state": {"value": "ALARM", "timestamp": "2026-12-06T20:00:00Z"},
            }
        },
        {"detail": {"alarmName": "videoplane-live-event-pr1-le1-cpu", "state": {"value": "ALARM"}}},
        {"id": ""},
    ],
)
def test_parse_ignores_other_events_and_alarms(change: dict[str, Any]) -> None:
    assert incidents.parse({**message(live(), "DroppedFrames", "ALARM", 1), **change}) is None


# -- opening and acting ----------------------------------------------------------------------------------


def test_sustained_degradation_opens_an_incident_switches_to_backup_and_caps_the_ladder() -> None:
    event = live()
    decision = incidents.on_alarm(event, report(event, "DroppedFrames", "ALARM", 20))
    assert decision is not None and decision.opened and decision.switch_to is RouteName.BACKUP
    incident = decision.event.incident
    assert incident is not None and incident.open and incident.metrics == ("DroppedFrames",)
    assert incident.switched_from is RouteName.PRIMARY and incident.ladder_cap == 480
    assert incidents.ladder_cap(decision.event) == 480
    assert automation(decision.event) == ["incident opened", "switching to the backup route", "ladder capped at 480p"]
    assert decision.event.version == event.version + 1


def test_a_second_alarm_while_open_joins_the_incident_without_acting_again() -> None:
    event = live()
    first = incidents.on_alarm(event, report(event, "DroppedFrames", "ALARM", 20))
    assert first is not None
    second = incidents.on_alarm(first.event, report(event, "InputLossSeconds", "ALARM", 25))
    assert second is not None and not second.opened and second.switch_to is None
    assert second.event.incident is not None
    assert second.event.incident.metrics == ("DroppedFrames", "InputLossSeconds")
    assert second.event.incident.incident_id == first.event.incident.incident_id  # type: ignore[union-attr]


def test_the_operators_forced_route_wins_and_is_logged() -> None:
    event = live()
    forced = live_events.with_route_mode(event, RouteMode.PRIMARY, T0)
    assert forced is not None
    decision = incidents.on_alarm(forced, report(event, "DroppedFrames", "ALARM", 20))
    assert decision is not None and decision.opened and decision.switch_to is None
    assert "route not switched: the operator forces the primary route" in automation(decision.event)
    assert decision.event.incident is not None and decision.event.incident.switched_from is None


def test_primary_preferred_failover_takes_no_switch_but_the_ladder_is_capped() -> None:
    event = live(LiveProfile(incidents=FAST))
    decision = incidents.on_alarm(event, report(event, "DroppedFrames", "ALARM", 20))
    assert decision is not None and decision.switch_to is None
    assert any("PRIMARY_INPUT_PREFERRED" in s for s in automation(decision.event))
    assert incidents.ladder_cap(decision.event) == 480


def test_actions_come_from_the_template() -> None:
    only_route = FAST.model_copy(update={"actions": ("switch-route",)})
    event = live(LiveProfile(failover=EQUAL, incidents=only_route))
    decision = incidents.on_alarm(event, report(event, "DroppedFrames", "ALARM", 20))
    assert (
        decision is not None and decision.switch_to is RouteName.BACKUP and incidents.ladder_cap(decision.event) is None
    )
    low_ladder = LiveProfile.model_validate({"ladder": [{"height": 360, "bitrate": 800_000}], "incidents": FAST})
    capped = incidents.on_alarm(live(low_ladder), report(live(low_ladder), "DroppedFrames", "ALARM", 20))
    assert capped is not None and incidents.ladder_cap(capped.event) == 360  # never above the ladder's top


def test_disabled_automation_and_inactive_events_ignore_alarms() -> None:
    off = live(LiveProfile(incidents=FAST.model_copy(update={"enabled": False})))
    assert incidents.on_alarm(off, report(off, "DroppedFrames", "ALARM", 20)) is None
    ended = live_events.transition(live(), LiveEventState.ENDED, T0 + timedelta(minutes=1))
    assert ended is not None
    assert incidents.on_alarm(ended, report(ended, "DroppedFrames", "ALARM", 20)) is None


def test_duplicates_and_late_reports_change_nothing() -> None:
    event = live()
    opened = incidents.on_alarm(event, report(event, "DroppedFrames", "ALARM", 20, "e1"))
    assert opened is not None
    assert incidents.on_alarm(opened.event, report(event, "DroppedFrames", "ALARM", 20, "e1")) is None
    # An OK older than the ALARM (delivered late) is not a recovery.
    assert incidents.on_alarm(opened.event, report(event, "DroppedFrames", "OK", 10)) is None
    # The same state again (another id) is no news either.
    assert incidents.on_alarm(opened.event, report(event, "DroppedFrames", "ALARM", 30, "e2")) is None


def test_alarms_settling_leave_no_timeline_entry() -> None:
    event = live()
    settled = incidents.on_alarm(event, report(event, "DroppedFrames", "OK", 1))
    assert settled is not None and settled.event.history == event.history and settled.event.incident is None
    assert settled.event.version == event.version + 1


# -- stabilizing and reverting ------------------------------------------------------------------------


def opened_then_ok() -> tuple[LiveEvent, datetime]:
    event = live()
    opened = incidents.on_alarm(event, report(event, "DroppedFrames", "ALARM", 20))
    assert opened is not None
    backup = opened.event.model_copy(update={"active_route": RouteName.BACKUP})  # MediaLive's input change
    ok = incidents.on_alarm(backup, report(event, "DroppedFrames", "OK", 60))
    assert ok is not None and ok.revert_due == T0 + timedelta(seconds=90)
    return ok.event, ok.revert_due


def test_ok_starts_the_window_and_the_revert_switches_back_lifts_the_cap_and_resolves() -> None:
    event, due = opened_then_ok()
    assert "every alarm OK: stabilizing before the revert" in automation(event)
    assert incidents.on_revert(event, due, due - timedelta(seconds=1)) == incidents.Decision(event, revert_due=due)
    reverted = incidents.on_revert(event, due, due)
    assert reverted is not None and reverted.resolved and reverted.switch_to is RouteName.PRIMARY
    assert reverted.event.incident is not None and not reverted.event.incident.open
    assert incidents.ladder_cap(reverted.event) is None
    assert automation(reverted.event)[-3:] == [
        "switching back to the primary route",
        "ladder cap lifted",
        "incident resolved",
    ]
    assert incidents.on_revert(reverted.event, due, due) is None  # a repeated timer


def test_degrading_again_restarts_the_window_and_the_old_timer_does_nothing() -> None:
    event, due = opened_then_ok()
    again = incidents.on_alarm(event, report(event, "InputLossSeconds", "ALARM", 70))
    assert again is not None and again.revert_due is None and not again.opened
    assert incidents.on_revert(again.event, due, due) is None
    ok = incidents.on_alarm(again.event, report(event, "InputLossSeconds", "OK", 80))
    assert ok is not None and ok.revert_due == T0 + timedelta(seconds=110)


def test_an_operator_forcing_a_route_during_the_incident_keeps_it_at_the_revert() -> None:
    event, due = opened_then_ok()
    forced = live_events.with_route_mode(event, RouteMode.BACKUP, T0 + timedelta(seconds=70))
    assert forced is not None
    reverted = incidents.on_revert(forced, due, due)
    assert reverted is not None and reverted.resolved and reverted.switch_to is None
    assert "route not switched back: the operator forces the backup route" in automation(reverted.event)


def test_a_new_channel_starts_without_the_old_incident() -> None:
    event, _ = opened_then_ok()
    failed = live_events.transition(event, LiveEventState.FAILED, T0 + timedelta(minutes=2), failure="x")
    assert failed is not None
    rearmed = live_events.transition(failed, LiveEventState.ARMED, T0 + timedelta(minutes=3), channel=CHANNEL)
    assert rearmed is not None and rearmed.incident is None and rearmed.alarm_states == ()


# -- the template block ---------------------------------------------------------------------------------


def test_incident_settings_are_m_of_n_in_whole_periods() -> None:
    settings = Incidents(period_seconds=10, sustain_seconds=30, evaluation_seconds=50)
    assert (settings.datapoints_to_alarm, settings.evaluation_periods) == (3, 5)
    with pytest.raises(ValidationError):
        Incidents(period_seconds=60, sustain_seconds=90)
    with pytest.raises(ValidationError):
        Incidents(period_seconds=10, sustain_seconds=30, evaluation_seconds=20)
    with pytest.raises(ValidationError):
        Incidents.model_validate({"actions": ["switch-route", "switch-route"]})
    assert Incidents.model_validate({"ladderCapHeight": 360, "droppedFrames": None}).dropped_frames is None


def test_alarm_request_names_the_channel_and_the_template_thresholds() -> None:
    event = live()
    request = incidents.alarm_request(event, "DroppedFrames", "1234567")
    assert request["Dimensions"] == [{"Name": "ChannelId", "Value": "1234567"}, {"Name": "Pipeline", "Value": "0"}]
    assert (request["Period"], request["EvaluationPeriods"], request["DatapointsToAlarm"], request["Threshold"]) == (
        10, 2, 2, 10.0,
    )  # fmt: skip
    assert request["Namespace"] == "AWS/MediaLive" and request["Statistic"] == "Sum"


# -- the adapter (moto's CloudWatch stores alarms) and the service -----------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")


def test_alarms_are_made_per_watched_metric_and_deleted(aws: Any) -> None:
    cloudwatch, _ = aws
    alarms = CloudWatchIncidentAlarms(cloudwatch)
    event = live()
    alarms.ensure(event, "1234567")
    alarms.ensure(event, "1234567")  # idempotent
    stored = cloudwatch.describe_alarms(AlarmNamePrefix=incidents.ALARM_NAME_PREFIX)["MetricAlarms"]
    assert sorted(a["MetricName"] for a in stored) == ["DroppedFrames", "InputLossSeconds"]
    assert {a["DatapointsToAlarm"] for a in stored} == {2}
    only_frames = event.model_copy(
        update={
            "profile": event.profile.model_copy(
                update={"incidents": FAST.model_copy(update={"input_loss_seconds": None})}
            )
        }
    )
    alarms.ensure(only_frames, "1234567")
    stored = cloudwatch.describe_alarms(AlarmNamePrefix=incidents.ALARM_NAME_PREFIX)["MetricAlarms"]
    assert [a["MetricName"] for a in stored] == ["DroppedFrames"]
    alarms.remove(event)
    alarms.remove(event)  # gone counts as done
    assert cloudwatch.describe_alarms(AlarmNamePrefix=incidents.ALARM_NAME_PREFIX)["MetricAlarms"] == []


def test_revert_timers_are_messages_read_back_as_reverts(aws: Any) -> None:
    _, sqs = aws
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    SqsIncidentTimers(sqs, url).arm("pr1", "le1", T0, T0 + timedelta(seconds=1))  # due: no delay
    body = json.loads(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])
    assert parse_revert(body) == ("pr1", "le1", T0)
    assert parse_revert({"kind": "videoplane.live.event-schedule"}) is None


class Repository:
    def __init__(self, event: LiveEvent) -> None:
        self.event = event
        self.saved: list[tuple[LiveEvent, list[Any]]] = []
        self.conflicts = 0

    def get(self, project_id: str, live_event_id: str) -> LiveEvent | None:
        return self.event if (project_id, live_event_id) == (self.event.project_id, self.event.live_event_id) else None

    def save(self, event: LiveEvent, expected_version: int, audit: Any, events: Any) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise Conflict(name="liveEventId")
        assert expected_version == self.event.version
        self.event = event
        self.saved.append((event, list(events)))


class Channels:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def create(self, event: LiveEvent) -> ChannelResources:
        self.calls.append(("create", event.live_event_id))
        return CHANNEL

    def start(self, event: LiveEvent) -> None:
        self.calls.append(("start", event.live_event_id))

    def release(self, event: LiveEvent) -> None:
        self.calls.append(("release", event.live_event_id))

    def switch_input(self, event: LiveEvent, route: RouteName) -> None:
        self.calls.append(("switch", route))


class Timers:
    def __init__(self) -> None:
        self.armed: list[datetime] = []

    def arm(self, project_id: str, live_event_id: str, due_at: datetime, now: datetime) -> None:
        self.armed.append(due_at)


def test_the_service_switches_announces_and_reverts() -> None:
    event = live()
    repository, channels, timers = Repository(event), Channels(), Timers()
    now = [T0 + timedelta(seconds=20)]
    service = LiveEventIncidentService(repository, lambda: channels, lambda: timers, lambda: now[0])  # type: ignore[arg-type]
    repository.conflicts = 1  # a concurrent write: applied again on the new version
    assert service.on_alarm(message(event, "DroppedFrames", "ALARM", 20))
    assert channels.calls[-1] == ("switch", RouteName.BACKUP)
    opened = repository.saved[-1][1]
    # The operator screen sees it too: the health document shows the incident.
    assert [e.type for e in opened] == ["live-event.incident.opened", "live-event.health.changed"]
    body = opened[0].model_dump(by_alias=True)
    assert body["switchedTo"] == "backup" and body["ladderCap"] == 480 and body["metrics"] == ["DroppedFrames"]
    assert not service.on_alarm(message(event, "DroppedFrames", "ALARM", 20))  # the same message again
    repository.event = repository.event.model_copy(update={"active_route": RouteName.BACKUP})
    assert service.on_alarm(message(event, "DroppedFrames", "OK", 60))
    due = T0 + timedelta(seconds=90)
    assert timers.armed == [due]
    now[0] = due - timedelta(seconds=5)
    assert not service.on_revert("pr1", event.live_event_id, due)  # early: set again
    assert timers.armed == [due, due]
    now[0] = due
    assert service.on_revert("pr1", event.live_event_id, due)
    assert channels.calls[-1] == ("switch", RouteName.PRIMARY)
    resolved = repository.saved[-1][1]
    assert [e.type for e in resolved] == ["live-event.incident.resolved", "live-event.health.changed"]
    assert resolved[0].model_dump(by_alias=True)["switchedTo"] == "primary"


def test_alarmed_channels_make_alarms_with_the_channel_and_delete_them_first() -> None:
    channels = Channels()
    calls: list[tuple[str, Any]] = []

    class Alarms:
        def ensure(self, event: LiveEvent, channel_id: str) -> None:
            calls.append(("ensure", channel_id))

        def remove(self, event: LiveEvent) -> None:
            calls.append(("remove", channels.calls[-1][0] if channels.calls else None))

    alarmed = AlarmedChannels(channels, Alarms)
    event = live()
    assert alarmed.create(event) == CHANNEL
    alarmed.start(event)
    alarmed.release(event)
    alarmed.switch_input(event, RouteName.BACKUP)
    assert calls == [("ensure", "1234567"), ("remove", "start")]  # removed before the channel's release
    assert [c[0] for c in channels.calls] == ["create", "start", "release", "switch"]
