"""MediaLive's channel events applied to a managed live event, in every order and any number of
times: the same end state, each transition and failover announced once."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.live.domain import event_plane, live_events
from chalicelib.live.domain.event_plane import PlaneReport
from chalicelib.live.domain.live_event_templates import LiveProfile
from chalicelib.live.domain.live_events import ChannelResources, LiveEvent, LiveEventCreation, LiveEventState, RouteName

T0 = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
ARN = "arn:aws:medialive:us-east-1:123456789012:channel:1234567"
CHANNEL = ChannelResources(channel_id="1234567", channel_arn=ARN, playback_url="u")


def armed() -> LiveEvent:
    payload = LiveEventCreation.model_validate(
        {"name": "e", "liveStreamId": "li" + "L" * 22, "schedule": {"startAt": T0, "endAt": T0 + timedelta(hours=1)}}
    )
    draft = live_events.new_live_event("pr1", payload, "default", 1, LiveProfile(), T0 - timedelta(minutes=5))
    event = live_events.transition(draft, LiveEventState.ARMED, T0 - timedelta(minutes=5), channel=CHANNEL)
    assert event is not None
    return event


def message(detail_type: str, seconds: int, event_id: str, **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": "aws.medialive",
        "account": "123456789012",
        "time": (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z"),
        "region": "us-east-1",
        "resources": [ARN],
        "detail": {"channel_arn": ARN, **detail},
    }


def report(detail_type: str, seconds: int, event_id: str, **detail: Any) -> PlaneReport:
    parsed = event_plane.parse(message(detail_type, seconds, event_id, **detail))
    assert parsed is not None
    return parsed


def state(name: str, seconds: int) -> PlaneReport:
    return report(event_plane.STATE_CHANGE, seconds, f"state-{name}-{seconds}", state=name, message=name)


def alert(alarm_state: str, seconds: int, alarm_id: str = "a1") -> PlaneReport:
    return report(
        event_plane.ALERT, seconds, f"alert-{alarm_state}-{seconds}",
        alarm_state=alarm_state, alarm_id=alarm_id, alert_type="RTMP Has No Audio/Video", pipeline="0", message="m",
    )  # fmt: skip


def switch(route: str, seconds: int) -> PlaneReport:
    return report(
        event_plane.INPUT_CHANGE, seconds, f"input-{route}-{seconds}",
        active_input_attachment_name=route, pipeline="0", message="Input switched",
    )  # fmt: skip


def run(event: LiveEvent, reports: list[PlaneReport]) -> tuple[LiveEvent, list[str]]:
    announced: list[str] = []
    for each in reports:
        outcome = event_plane.apply(event, each)
        if outcome is None:
            continue
        event = outcome.event
        announced += ["started"] * outcome.started + ["ended"] * outcome.ended
        announced += [f"failed:{outcome.failed}"] if outcome.failed else []
        if outcome.failover is not None:
            before, after = outcome.failover
            announced.append(f"failover:{before.value if before else None}->{after.value}")
    return event, announced


CREATED_IDLE, RUNNING, STOPPED_IDLE = state("IDLE", 1), state("RUNNING", 30), state("IDLE", 600)


@pytest.mark.parametrize("order", list(itertools.permutations([CREATED_IDLE, RUNNING, STOPPED_IDLE])))
def test_a_channel_that_ran_and_stopped_ends_the_event_in_any_order(order: tuple[PlaneReport, ...]) -> None:
    event, announced = run(armed(), [*order, *order])  # every report twice
    assert event.state is LiveEventState.ENDED and sorted(announced) == ["ended", "started"]
    assert event.plane_state == "IDLE" and event.plane_state_at == T0 + timedelta(seconds=600)


def test_a_running_channel_makes_the_event_live_once_on_its_primary() -> None:
    event, announced = run(armed(), [CREATED_IDLE, RUNNING, RUNNING, CREATED_IDLE])
    assert event.state is LiveEventState.LIVE and announced == ["started"]
    assert event.active_route is RouteName.PRIMARY and event.active_route_at == RUNNING.at
    # Reported before it ran (events come in any order), the backup stays the active route.
    switched, announced = run(armed(), [switch("backup", 40), RUNNING])
    assert switched.active_route is RouteName.BACKUP and announced == ["failover:None->backup", "started"]
    assert [h.summary for h in event.history if h.kind.value == "transition"][-1] == "armed → live"


def test_a_failed_channel_fails_the_event() -> None:
    failed = report(event_plane.STATE_CHANGE, 5, "f", state="CREATE_FAILED", message="Role cannot write the bucket")
    event, announced = run(armed(), [failed, RUNNING])
    assert event.state is LiveEventState.FAILED and event.failure is not None and "Role" in event.failure
    assert announced == ["failed:MediaLive channel CREATE_FAILED: Role cannot write the bucket"]


FAIL_OVER, FAIL_BACK = switch("backup", 100), switch("primary", 200)


@pytest.mark.parametrize(
    ("reports", "active", "failovers"),
    [
        ([switch("primary", 40), FAIL_OVER, FAIL_BACK], RouteName.PRIMARY, ["primary->backup", "backup->primary"]),
        # The latest arrived first: the older switches it superseded are history, not announced.
        ([FAIL_BACK, FAIL_OVER, switch("primary", 40)], RouteName.PRIMARY, []),
        # A channel runs its primary from the start (no input change reports it).
        ([FAIL_OVER, FAIL_OVER, switch("primary", 40)], RouteName.BACKUP, ["primary->backup"]),
        ([switch("primary", 40), switch("primary", 41)], RouteName.PRIMARY, []),
    ],
)
def test_input_changes_follow_the_latest_and_announce_each_switch_at_most_once(
    reports: list[PlaneReport], active: RouteName, failovers: list[str]
) -> None:
    event, announced = run(armed(), [RUNNING, *reports, *reports])
    assert event.active_route is active
    assert [a.removeprefix("failover:") for a in announced if a.startswith("failover:")] == failovers
    assert all(
        h.kind.value == "failover"
        for h in event.history
        if h.summary.startswith("active route") and "none → primary" not in h.summary
    )


@pytest.mark.parametrize(
    "order",
    [
        [alert("SET", 10), alert("CLEARED", 20)],
        [alert("CLEARED", 20), alert("SET", 10)],
        [alert("SET", 10), alert("SET", 10), alert("CLEARED", 20), alert("CLEARED", 20)],
    ],
)
def test_an_alert_set_then_cleared_is_closed_in_any_order(order: list[PlaneReport]) -> None:
    event, _ = run(armed(), order)
    assert event.alerts == () and dict(event.cleared_alarms)["a1"] == T0 + timedelta(seconds=20)


def test_an_open_alert_is_listed_and_a_new_set_after_its_clear_reopens_it() -> None:
    event, _ = run(armed(), [alert("SET", 10), alert("SET", 11, alarm_id="a2")])
    assert [a.alarm_id for a in event.alerts] == ["a1", "a2"]
    event, _ = run(event, [alert("CLEARED", 20), alert("SET", 30)])
    assert sorted(a.alarm_id for a in event.alerts) == ["a1", "a2"]
    health = [h for h in event.history if h.kind.value == "health"]
    assert len(health) == 4 and health[0].detail["alarmId"] == "a1"


def test_reports_of_other_channels_ended_events_and_other_sources_change_nothing() -> None:
    other = message(event_plane.STATE_CHANGE, 1, "x", state="RUNNING")
    other["detail"]["channel_arn"] = ARN + "9"
    parsed = event_plane.parse(other)
    assert parsed is not None and event_plane.apply(armed(), parsed) is None
    assert (
        event_plane.parse({**message(event_plane.STATE_CHANGE, 1, "y", state="RUNNING"), "source": "aws.ivs"}) is None
    )
    assert event_plane.parse({"source": "aws.medialive", "detail-type": "MediaLive Multiplex Alert"}) is None
    ended = live_events.transition(armed(), LiveEventState.ENDED, T0)
    assert ended is not None
    assert event_plane.apply(ended, alert("SET", 10)) is None and event_plane.apply(ended, switch("backup", 10)) is None


def test_the_event_id_dedupes_even_a_changed_replay() -> None:
    first = alert("SET", 10)
    event, _ = run(armed(), [first])
    again = PlaneReport(
        first.event_id, first.detail_type, first.at, first.channel_arn, {**first.detail, "alarm_id": "a9"}
    )
    assert event_plane.apply(event, again) is None
