"""Room sessions' pure rules: attendance merged from joins, ListParticipants and participant events in
any order and any number of times gives one result; leaves, ends and call detail records."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.rooms.domain import sessions
from chalicelib.rooms.domain.sessions import Attendance, EndReason, LeaveReason, PlaneEvent, Session, Sighting
from chalicelib.rooms.domain.tokens import Role

T0 = datetime(2026, 3, 4, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def attendance(pid: str, joined: float = 0, role: Role = Role.PARTICIPANT) -> Attendance:
    return Attendance(participant_id=pid, token_id=f"jt-{pid}", user_ref=f"user-{pid}", name=pid.upper(),
                      role=role, joined_at=at(joined))  # fmt: skip


def session_of(*joins: Attendance) -> Session:
    session = sessions.start("pr1", "ro1", "rs1", joins[0])
    for join in joins[1:]:
        session = sessions.admit(session, join)
    return session


# One participant's life as the plane reports it: connected at 2 s, published 3-20 s, left at 30 s.
EVENTS = [
    PlaneEvent("a", "JOINED", at(2)),
    PlaneEvent("a", "PUBLISH_STARTED", at(3)),
    PlaneEvent("a", "PUBLISH_STOPPED", at(20)),
    PlaneEvent("a", "LEFT", at(30)),
]
SIGHTINGS = [Sighting("a", True, at(2), "st-1"), Sighting("a", False, at(2), "st-1")]


def observe_one(session: Session, item: PlaneEvent | Sighting, now: datetime) -> Session:
    if isinstance(item, PlaneEvent):
        return sessions.observe(session, [], [item], now, listed=False)
    return sessions.observe(session, [item], [], now, listed=False)


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(EVENTS) + len(SIGHTINGS)))))
def test_every_order_of_observations_gives_the_same_record(order: tuple[int, ...]) -> None:
    items: list[PlaneEvent | Sighting] = [*EVENTS, *SIGHTINGS]
    session = session_of(attendance("a"))
    for index in order:
        session = observe_one(session, items[index], at(40))
    (record,) = sessions.call_records(sessions.end(session, EndReason.EMPTY, at(45)))
    assert (record.connected_at, record.left_at, record.leave_reason) == (at(2), at(30), LeaveReason.LEFT)
    assert (record.duration_seconds, record.published_seconds) == (28, 17)


def test_repeated_and_jittered_observations_change_nothing_more() -> None:
    session = session_of(attendance("a"))
    once = sessions.observe(session, SIGHTINGS, EVENTS, at(40))
    # The Stage Update event of the same publish, a second later than ListParticipantEvents says.
    again = sessions.observe(once, SIGHTINGS, [*EVENTS, PlaneEvent("a", "PUBLISH_STARTED", at(4))], at(50))
    assert sessions.published_seconds(again.attendance["a"]) == 17
    assert sessions.newly_left(once, again) == []
    assert sessions.call_records(once)[0].left_at == sessions.call_records(again)[0].left_at


def test_a_leave_seen_before_its_event_takes_the_events_earlier_time() -> None:
    session = session_of(attendance("a"))
    polled = sessions.observe(session, [Sighting("a", False, at(2), "st-1")], [], at(38))
    assert polled.attendance["a"].left_at == at(38)
    assert polled.attendance["a"].leave_reason is LeaveReason.DISCONNECTED
    exact = sessions.observe(polled, [], [PlaneEvent("a", "LEFT", at(30))], at(40))
    assert exact.attendance["a"].left_at == at(30)
    # A participant leaves once: the event that refines the time is not a second leave.
    assert [a.participant_id for a in sessions.newly_left(session, polled)] == ["a"]
    assert sessions.newly_left(polled, exact) == []


def test_a_removal_outranks_the_plain_leave_whatever_comes_first() -> None:
    session = session_of(attendance("a"))
    removed_first = sessions.observe(sessions.remove(session, "a", at(30)), [], [EVENTS[-1]], at(31))
    left_first = sessions.remove(sessions.observe(session, [], [EVENTS[-1]], at(31)), "a", at(30))
    assert removed_first.attendance == left_first.attendance
    assert removed_first.attendance["a"].leave_reason is LeaveReason.REMOVED


def test_a_join_that_never_connects_holds_its_seat_for_the_grace_then_leaves_with_no_time() -> None:
    session = session_of(attendance("a"), attendance("b", joined=5))
    early = sessions.observe(session, [Sighting("a", True, at(2), "st-1")], [], at(30))
    assert early.attendance["b"].present and early.attendance["b"].left_at is None
    late = sessions.observe(early, [Sighting("a", True, at(2), "st-1")], [], at(5) + sessions.NO_SHOW_GRACE)
    assert late.attendance["b"].left_at == at(5) and late.attendance["b"].leave_reason is LeaveReason.DISCONNECTED
    assert sessions.duration_seconds(late.attendance["b"]) == 0
    assert late.attendance["a"].present and not late.attendance["b"].present


def test_a_partial_report_never_decides_a_no_show() -> None:
    session = session_of(attendance("a"))
    assert sessions.observe(session, [], [], at(600), listed=False).attendance["a"].present


def test_the_session_ends_at_its_last_leave_with_its_records() -> None:
    session = session_of(attendance("a"), attendance("b", joined=1, role=Role.MODERATOR))
    observed = sessions.observe(
        session,
        [Sighting("a", False, at(2), "st-1"), Sighting("b", False, at(3), "st-1")],
        [PlaneEvent("a", "LEFT", at(30)), PlaneEvent("b", "LEFT", at(63))],
        at(70),
    )
    assert sessions.ending(observed)
    ended = sessions.end(observed, EndReason.EMPTY, at(70))
    assert (ended.ended_at, ended.end_reason) == (at(63), EndReason.EMPTY)
    totals = sessions.totals(ended)
    assert (totals.participants, totals.participant_minutes) == (2, round((28 + 60) / 60, 2))
    # Ended is frozen: a late event changes nothing.
    assert sessions.observe(ended, [], [PlaneEvent("a", "LEFT", at(10))], at(80)) == ended
    assert sessions.admit(ended, attendance("c")) == ended


def test_the_duration_limit_ends_the_session_for_everyone_still_in() -> None:
    session = sessions.observe(session_of(attendance("a")), [Sighting("a", True, at(2), "st-1")], [], at(10))
    assert not sessions.limit_reached(session, 1, at(59)) and sessions.limit_reached(session, 1, at(60))
    assert not sessions.limit_reached(session, None, at(10**6))
    ended = sessions.end(session, EndReason.DURATION_LIMIT, at(60))
    assert ended.ended_at == at(60) and ended.attendance["a"].leave_reason is LeaveReason.SESSION_ENDED
    assert [a.participant_id for a in sessions.newly_left(session, ended)] == ["a"]


def test_publishing_still_open_at_the_leave_counts_until_the_leave() -> None:
    session = session_of(attendance("a"))
    observed = sessions.observe(
        session, [], [PlaneEvent("a", "PUBLISH_STARTED", at(5)), PlaneEvent("a", "LEFT", at(25))], at(30)
    )
    assert sessions.published_seconds(observed.attendance["a"]) == 20


def test_a_repeated_join_of_the_same_participant_is_one_row() -> None:
    session = session_of(attendance("a"), attendance("a", joined=9))
    assert [r.joined_at for r in sessions.call_records(session)] == [at(0)]


# -- what a write stores: changed attendances and the seats they give back ------------------------


def rejoined(pid: str, user: str, joined: float) -> Attendance:
    return attendance(pid, joined).model_copy(update={"user_ref": user})


# Two joins of one user (a reload: b1 then b2), and another user's: their leaves and repeats.
SEAT_EVENTS = [
    PlaneEvent("b1", "LEFT", at(30)),
    PlaneEvent("b2", "LEFT", at(40)),
    PlaneEvent("c", "LEFT", at(35)),
    PlaneEvent("b1", "LEFT", at(31)),
    PlaneEvent("c", "PUBLISH_STARTED", at(5)),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(SEAT_EVENTS)))))
def test_each_leave_is_stored_once_and_each_seat_given_back_once_whatever_the_order(order: tuple[int, ...]) -> None:
    session = session_of(rejoined("b1", "bea", 0), rejoined("b2", "bea", 5), attendance("c", 1), attendance("d", 2))
    left: list[str] = []
    vacated: list[tuple[str, str]] = []
    for i in order:
        after = sessions.observe(session, [], [SEAT_EVENTS[i]], at(50), listed=False)
        stored = sessions.changed(session, after)
        assert all(after.attendance[a.participant_id] == a for a in stored)
        assert len(stored) == sum(1 for pid in after.attendance if after.attendance[pid] != session.attendance[pid])
        for release in sessions.releases(session, after):
            left.extend(release.participant_ids)
            if release.vacates:
                vacated.append((release.group, release.user_ref))
        session = after
    assert sorted(left) == ["b1", "b2", "c"]
    assert sorted(vacated) == [("participant", "bea"), ("participant", "user-c")]
    # Observed again, nothing is stored and nothing given back.
    again = sessions.observe(session, [], SEAT_EVENTS, at(60), listed=False)
    assert sessions.changed(session, again) == [] and sessions.releases(session, again) == []


def test_a_reloaded_users_first_leave_keeps_the_seat_for_the_second_join() -> None:
    session = session_of(rejoined("b1", "bea", 0), rejoined("b2", "bea", 5))
    after = sessions.observe(session, [], [PlaneEvent("b1", "LEFT", at(9))], at(10), listed=False)
    (release,) = sessions.releases(session, after)
    assert release.participant_ids == {"b1"} and not release.vacates


def test_joins_stored_inline_before_attendance_items_hold_no_counted_seat() -> None:
    legacy = attendance("a").model_copy(update={"version": 0, "seated": False})
    session = session_of(legacy, attendance("b", 1))
    ended = sessions.end(session, EndReason.DURATION_LIMIT, at(60))
    assert [a.participant_id for a in sessions.changed(session, ended)] == ["a", "b"]
    assert [(r.participant_ids, r.vacates) for r in sessions.releases(session, ended)] == [(frozenset({"b"}), True)]


def test_a_started_session_counts_its_first_seat() -> None:
    started = sessions.start("pr1", "ro1", "rs1", attendance("m", role=Role.MODERATOR))
    assert started.taken == {"moderator": 1, "participant": 0} and started.joins == 1
    assert sessions.changed(None, started) == [started.attendance["m"]]
