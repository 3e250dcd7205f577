"""Managed live events: schedules, the transition rules, late changes and the route override."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.live.domain import live_events
from chalicelib.live.domain.live_event_templates import Failover, LiveProfile
from chalicelib.live.domain.live_events import (
    ChannelResources,
    InvalidTransition,
    LiveEvent,
    LiveEventCreation,
    LiveEventState,
    LiveEventUpdate,
    RouteMode,
    Schedule,
)

NOW = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
CHANNEL = ChannelResources(channel_id="1", channel_arn="arn:aws:medialive:us-east-1:1:channel:1", playback_url="u")
S = LiveEventState


def schedule(**fields: Any) -> dict[str, Any]:
    return {"startAt": NOW + timedelta(hours=1), "endAt": NOW + timedelta(hours=2), **fields}


def event(state: S = S.DRAFT, profile: LiveProfile | None = None) -> LiveEvent:
    payload = LiveEventCreation.model_validate({"name": "e", "liveStreamId": "li" + "L" * 22, "schedule": schedule()})
    created = live_events.new_live_event("pr1", payload, "default", 1, profile or LiveProfile(), NOW)
    channel = CHANNEL if state in (S.ARMED, S.LIVE) else None
    return created.model_copy(update={"state": state, "channel": channel})


def test_arm_defaults_to_five_minutes_before_the_start() -> None:
    assert Schedule.model_validate(schedule()).arm_time == NOW + timedelta(minutes=55)
    assert Schedule.model_validate(schedule(armAt=NOW)).arm_time == NOW


@pytest.mark.parametrize(
    "fields",
    [
        {"armAt": NOW + timedelta(hours=1, seconds=1)},  # arm after the start
        {"endAt": NOW + timedelta(hours=1)},  # ends as it starts
        {"endAt": NOW + timedelta(hours=26)},  # longer than a day
        {"startAt": datetime(2026, 12, 6, 21, 0)},  # no time zone
    ],
)
def test_bad_schedules_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Schedule.model_validate(schedule(**fields))


def test_an_event_names_exactly_one_source() -> None:
    base = {"name": "e", "schedule": schedule()}
    with pytest.raises(ValidationError):
        LiveEventCreation.model_validate(base)
    with pytest.raises(ValidationError):
        LiveEventCreation.model_validate({**base, "liveStreamId": "li" + "L" * 22, "videoId": "vi" + "V" * 22})
    premiere = LiveEventCreation.model_validate({**base, "videoId": "vi" + "V" * 22})
    created = live_events.new_live_event("pr1", premiere, "default", 1, LiveProfile(), NOW)
    assert created.premiere and created.routes.backup is None


ALLOWED = {
    (S.DRAFT, S.ARMED), (S.DRAFT, S.ENDED), (S.DRAFT, S.FAILED),
    (S.ARMED, S.LIVE), (S.ARMED, S.ENDED), (S.ARMED, S.FAILED),
    (S.LIVE, S.ENDED), (S.LIVE, S.FAILED),
    (S.FAILED, S.ARMED), (S.FAILED, S.ENDED),
}  # fmt: skip


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_transition_is_allowed_refused_or_a_no_op(current: S, target: S) -> None:
    before = event(current)
    if current is target:
        assert live_events.transition(before, target, NOW) is None
    elif (current, target) in ALLOWED:
        after = live_events.transition(before, target, NOW)
        assert after is not None and after.state is target and after.version == before.version + 1
        assert after.history[-1].detail == {"from": current.value, "to": target.value}
    else:
        with pytest.raises(InvalidTransition):
            live_events.transition(before, target, NOW)
        assert live_events.transition(before, target, NOW, strict=False) is None


def test_ending_closes_open_alerts_and_arming_resets_the_route_mode() -> None:
    live = event(S.LIVE).model_copy(update={"route_mode": RouteMode.BACKUP})
    ended = live_events.transition(live, S.ENDED, NOW)
    assert ended is not None and ended.alerts == ()
    rearmed = live_events.transition(event(S.FAILED).model_copy(update={"route_mode": RouteMode.BACKUP}), S.ARMED, NOW)
    assert rearmed is not None and rearmed.route_mode is RouteMode.AUTOMATIC


def test_an_armed_event_takes_only_a_name_and_a_later_end() -> None:
    armed = event(S.ARMED)
    later = armed.schedule.model_copy(update={"end_at": armed.schedule.end_at + timedelta(hours=1)})
    changed = live_events.apply_update(armed, LiveEventUpdate(name="n", schedule=later), None, NOW)
    assert changed.name == "n" and changed.schedule.end_at == later.end_at
    moved = armed.schedule.model_copy(update={"start_at": armed.schedule.start_at + timedelta(minutes=1)})
    with pytest.raises(InvalidTransition):
        live_events.apply_update(armed, LiveEventUpdate(schedule=moved), None, NOW)
    with pytest.raises(InvalidTransition):
        live_events.apply_update(event(S.ENDED), LiveEventUpdate(name="n"), None, NOW)


def test_the_route_override_is_recorded_once_and_only_while_armed_or_live() -> None:
    armed = event(S.ARMED)
    forced = live_events.with_route_mode(armed, RouteMode.BACKUP, NOW)
    assert forced is not None and forced.route_mode is RouteMode.BACKUP
    assert live_events.with_route_mode(forced, RouteMode.BACKUP, NOW) is None
    with pytest.raises(InvalidTransition):
        live_events.with_route_mode(event(S.DRAFT), RouteMode.BACKUP, NOW)


def test_a_manual_switch_needs_equal_input_preference() -> None:
    with pytest.raises(InvalidTransition):
        live_events.require_manual_switch(event(S.ARMED))
    equal = LiveProfile(failover=Failover(input_preference="EQUAL_INPUT_PREFERENCE"))
    live_events.require_manual_switch(event(S.ARMED, equal))


def test_due_times() -> None:
    draft = event()
    assert not live_events.due_to_arm(draft, NOW) and live_events.due_to_arm(draft, NOW + timedelta(minutes=55))
    assert live_events.due_to_end(event(S.LIVE), NOW + timedelta(hours=2))
    # A draft whose slot passed is ended, never armed.
    assert live_events.due_to_end(draft, NOW + timedelta(hours=3)) and not live_events.due_to_end(draft, NOW)
    assert live_events.next_due(draft) == draft.schedule.arm_time
    assert live_events.next_due(event(S.LIVE)) == draft.schedule.end_at and live_events.next_due(event(S.ENDED)) is None


def test_a_pushed_events_channel_starts_when_armed_a_premieres_at_its_start() -> None:
    pushed = event(S.ARMED)
    premiere = pushed.model_copy(update={"live_stream_id": None, "video_id": "vi1"})
    assert live_events.due_to_start(pushed, NOW) and not live_events.due_to_start(premiere, NOW)
    assert live_events.due_to_start(premiere, premiere.schedule.start_at)
