"""Room sessions, who attended them, and their call detail records: pure rules.

A session starts at a room's first join (the token exchange) and ends when every participant of it
has left, or at the room's `duration` limit (the plane disconnects everyone). IVS real-time emits no
join or leave events (only `Participant Published/Unpublished` on EventBridge), so what a session
knows of its participants comes from observations, merged here:

- the join itself (`admit`): who, with which role, at what time;
- `ListParticipants` (a `Sighting`: connected or not, first join time), polled while the session is
  active, every `POLL_SECONDS`;
- `ListParticipantEvents` and the `IVS Stage Update` events (`PlaneEvent`: JOINED, LEFT,
  PUBLISH_STARTED, PUBLISH_STOPPED with their times).

Every merge is a join of a semilattice: earliest connection, earliest leave, a set of publish
marks. So observations may come twice, late or in any order and the result is the same (the unit
tests try every order); what an observation changes is found by comparing before and after, which
is how each `room.participant.left` is emitted exactly once. A session that has ended is frozen:
later observations do not change its records.

A join that never connects holds its seat `NO_SHOW_GRACE` (the join's seat grace), then leaves
with a zero duration (reason `disconnected`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from chalicelib.core import ids
from chalicelib.rooms.domain import quality
from chalicelib.rooms.domain.quality import Quality, Sample
from chalicelib.rooms.domain.tokens import MODERATOR_SEATS, PARTICIPANT_SEATS, SEAT_GRACE, Role, seat_group

SESSION_ID_PREFIX = "rs"
# The leave-detection loop: a session is polled this often while active (≤ 30 s is the target).
POLL_SECONDS = 10
NO_SHOW_GRACE = SEAT_GRACE


class LeaveReason(StrEnum):
    LEFT = "left"
    REMOVED = "removed"
    DISCONNECTED = "disconnected"
    SESSION_ENDED = "session-ended"


# When two observations give a leave different reasons, the first of these wins (order-free).
_REASON_RANK = (LeaveReason.REMOVED, LeaveReason.SESSION_ENDED, LeaveReason.LEFT, LeaveReason.DISCONNECTED)


class EndReason(StrEnum):
    EMPTY = "empty"
    DURATION_LIMIT = "duration-limit"
    ROOM_DELETED = "room-deleted"


class Mark(StrEnum):
    PUBLISH_STARTED = "PUBLISH_STARTED"
    PUBLISH_STOPPED = "PUBLISH_STOPPED"


class Attendance(BaseModel):
    """One join of a session: an IVS participant (a rejoin is a new one)."""

    model_config = ConfigDict(frozen=True)
    participant_id: str
    token_id: str
    user_ref: str
    name: str = ""
    role: Role
    joined_at: datetime
    connected_at: datetime | None = None
    left_at: datetime | None = None
    leave_reason: LeaveReason | None = None
    # (time, mark), sorted and without repeats.
    publishing: tuple[tuple[datetime, Mark], ...] = ()
    # The version of its own stored item (each change is written at it). 0: it lives inline in a
    # session stored before attendances had items of their own (read as is, never migrated).
    version: int = 1
    # Its join counted a seat (False for the inline ones: their joins predate the seat counters).
    seated: bool = True

    @property
    def present(self) -> bool:
        return self.left_at is None


class Session(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    room_id: str
    session_id: str
    started_at: datetime
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    attendance: dict[str, Attendance] = {}
    # The IVS stage sessions seen while this one was active (ListParticipants takes one).
    plane_sessions: tuple[str, ...] = ()
    # The poll loop's generation: only a timer of this generation arms the next (duplicates die out).
    tick: int = 0
    # Seats held per group (`seat_group`), as last read: one per user and group with a join not
    # known to have left. The store keeps them exact (docs/rooms.md, "Big sessions").
    taken: dict[str, int] = {}
    # Joins admitted so far (the end is written only if none came after the read).
    joins: int = 0
    version: int = 1

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class Sighting:
    """A participant as `ListParticipants` lists it."""

    participant_id: str
    connected: bool
    first_join_time: datetime | None
    # The IVS stage session it was listed in (ListParticipantEvents takes it).
    plane_session: str = ""


@dataclass(frozen=True)
class PlaneEvent:
    """A participant event (`ListParticipantEvents`, or an `IVS Stage Update` translated)."""

    participant_id: str
    name: str
    at: datetime


@dataclass(frozen=True)
class CallRecord:
    """A call detail record: one attendance, as billed and reported."""

    session_id: str
    room_id: str
    participant_id: str
    user_ref: str
    name: str
    role: Role
    joined_at: datetime
    connected_at: datetime | None
    left_at: datetime | None
    leave_reason: LeaveReason | None
    duration_seconds: int
    published_seconds: int
    # Published at all (a publication shorter than a second rounds to 0 seconds).
    published: bool = False
    # What its client reported of its media (None without samples: docs/rooms.md, "Call quality").
    quality: Quality | None = None


@dataclass(frozen=True)
class Totals:
    participants: int
    participant_minutes: float
    published_minutes: float
    # Every counted sample of the session together.
    quality: Quality | None = None


def new_session_id() -> str:
    return ids.new_sortable_id(SESSION_ID_PREFIX)


def start(project_id: str, room_id: str, session_id: str, first: Attendance) -> Session:
    return Session(
        project_id=project_id,
        room_id=room_id,
        session_id=session_id,
        started_at=first.joined_at,
        attendance={first.participant_id: first},
        taken={MODERATOR_SEATS: 0, PARTICIPANT_SEATS: 0, seat_group(first.role): 1},
        joins=1,
    )


def admit(session: Session, attendance: Attendance) -> Session:
    """The session with this join (a repeat of the same participant changes nothing)."""
    if attendance.participant_id in session.attendance or not session.active:
        return session
    return session.model_copy(update={"attendance": {**session.attendance, attendance.participant_id: attendance}})


def _earliest(current: datetime | None, seen: datetime | None) -> datetime | None:
    if seen is None:
        return current
    return seen if current is None or seen < current else current


def _leave(attendance: Attendance, at: datetime, reason: LeaveReason) -> Attendance:
    left_at = _earliest(attendance.left_at, at)
    reasons = {r for r in (attendance.leave_reason, reason) if r is not None}
    winner = next(r for r in _REASON_RANK if r in reasons)
    return attendance.model_copy(update={"left_at": left_at, "leave_reason": winner})


def _marked(attendance: Attendance, at: datetime, mark: Mark) -> Attendance:
    publishing = tuple(sorted({*attendance.publishing, (at, mark)}))
    return attendance.model_copy(update={"publishing": publishing})


def merge_event(attendance: Attendance, event: PlaneEvent) -> Attendance:
    if event.name == "JOINED":
        return attendance.model_copy(update={"connected_at": _earliest(attendance.connected_at, event.at)})
    if event.name == "LEFT":
        return _leave(attendance, event.at, LeaveReason.LEFT)
    if event.name in (Mark.PUBLISH_STARTED, Mark.PUBLISH_STOPPED):
        return _marked(attendance, event.at, Mark(event.name))
    return attendance


def merge_sighting(attendance: Attendance, sighting: Sighting, now: datetime) -> Attendance:
    merged = attendance.model_copy(
        update={"connected_at": _earliest(attendance.connected_at, sighting.first_join_time)}
    )
    if not sighting.connected:
        # Disconnected without its LEFT event (yet): it left by now; the event, if it comes, is earlier.
        merged = _leave(merged, now, LeaveReason.DISCONNECTED)
    return merged


def observe(
    session: Session,
    sightings: Iterable[Sighting],
    plane_events: Iterable[PlaneEvent],
    now: datetime,
    listed: bool = True,
) -> Session:
    """The session with what the plane reported merged in. `listed`: the sightings are a complete
    `ListParticipants` (so a join that is not among them and is past its grace never connected)."""
    if not session.active:
        return session
    attendance = dict(session.attendance)
    for event in plane_events:
        if event.participant_id in attendance:
            attendance[event.participant_id] = merge_event(attendance[event.participant_id], event)
    seen = set()
    for sighting in sightings:
        if sighting.participant_id in attendance:
            seen.add(sighting.participant_id)
            attendance[sighting.participant_id] = merge_sighting(attendance[sighting.participant_id], sighting, now)
    if listed:
        for pid, a in attendance.items():
            if pid not in seen and a.present and a.connected_at is None and now - a.joined_at >= NO_SHOW_GRACE:
                attendance[pid] = _leave(a, a.joined_at, LeaveReason.DISCONNECTED)
    return session.model_copy(update={"attendance": attendance})


def remove(session: Session, participant_id: str, now: datetime) -> Session:
    """A moderator removed this participant (DisconnectParticipant)."""
    found = session.attendance.get(participant_id)
    if found is None or not session.active:
        return session
    return session.model_copy(
        update={"attendance": {**session.attendance, participant_id: _leave(found, now, LeaveReason.REMOVED)}}
    )


def with_plane_session(session: Session, plane_session: str | None) -> Session:
    if not plane_session or plane_session in session.plane_sessions:
        return session
    return session.model_copy(update={"plane_sessions": (*session.plane_sessions, plane_session)})


def newly_left(before: Session, after: Session) -> list[Attendance]:
    """The attendances `after` knows to have left and `before` did not."""
    return [
        a
        for pid, a in after.attendance.items()
        if not a.present and (pid not in before.attendance or before.attendance[pid].present)
    ]


def changed(before: Session | None, after: Session) -> list[Attendance]:
    """The attendances `after` adds or changes (what a write stores), in join order."""
    known = {} if before is None else before.attendance
    found = [a for pid, a in after.attendance.items() if known.get(pid) != a]
    return sorted(found, key=lambda a: (a.joined_at, a.participant_id))


@dataclass(frozen=True)
class Release:
    """Joins of one user in one seat group that left in one change; `vacates`: the user has no
    other join of the group still in, so the seat is free again."""

    group: str
    user_ref: str
    participant_ids: frozenset[str]
    vacates: bool


def releases(before: Session, after: Session) -> list[Release]:
    """The seats a change gives back. Inline attendances (`seated` False) never held a counted seat."""
    leaving: dict[tuple[str, str], set[str]] = {}
    for a in newly_left(before, after):
        if a.seated:
            leaving.setdefault((seat_group(a.role), a.user_ref), set()).add(a.participant_id)
    staying = {(seat_group(a.role), a.user_ref) for a in after.attendance.values() if a.present and a.seated}
    return [
        Release(group, user, frozenset(pids), (group, user) not in staying)
        for (group, user), pids in sorted(leaving.items())
    ]


def limit_reached(session: Session, limit_minutes: int | None, now: datetime) -> bool:
    return limit_minutes is not None and now >= session.started_at + timedelta(minutes=limit_minutes)


def limit_at(session: Session, limit_minutes: int | None) -> datetime | None:
    return None if limit_minutes is None else session.started_at + timedelta(minutes=limit_minutes)


def ending(session: Session) -> bool:
    """Everyone who joined has left: the session is over."""
    return session.active and all(not a.present for a in session.attendance.values())


def end(session: Session, reason: EndReason, now: datetime) -> Session:
    """The session closed: whoever is still in leaves now (`session-ended`). An empty session ends
    at its last leave."""
    attendance = {
        pid: a if not a.present else _leave(a, now, LeaveReason.SESSION_ENDED) for pid, a in session.attendance.items()
    }
    lefts = [a.left_at for a in attendance.values() if a.left_at is not None]
    ended_at = max(lefts) if reason is EndReason.EMPTY and lefts else now
    return session.model_copy(
        update={"attendance": attendance, "ended_at": max(ended_at, session.started_at), "end_reason": reason}
    )


def published_seconds(attendance: Attendance) -> int:
    """Time between each PUBLISH_STARTED and the next PUBLISH_STOPPED (or the leave); repeated or
    jittered marks of one transition count once."""
    total = 0.0
    opened: datetime | None = None
    for at, mark in attendance.publishing:
        if mark is Mark.PUBLISH_STARTED and opened is None:
            opened = at
        elif mark is Mark.PUBLISH_STOPPED and opened is not None:
            total += max(0.0, (at - opened).total_seconds())
            opened = None
    if opened is not None and attendance.left_at is not None:
        total += max(0.0, (attendance.left_at - opened).total_seconds())
    return round(total)


def duration_seconds(attendance: Attendance) -> int:
    if attendance.connected_at is None or attendance.left_at is None:
        return 0
    return max(0, round((attendance.left_at - attendance.connected_at).total_seconds()))


def call_records(session: Session, samples: Iterable[Sample] = ()) -> list[CallRecord]:
    """One row per join, in join order, with the quality its samples give."""
    records = [
        CallRecord(
            session_id=session.session_id,
            room_id=session.room_id,
            participant_id=a.participant_id,
            user_ref=a.user_ref,
            name=a.name,
            role=a.role,
            joined_at=a.joined_at,
            connected_at=a.connected_at,
            left_at=a.left_at,
            leave_reason=a.leave_reason,
            duration_seconds=duration_seconds(a),
            published_seconds=published_seconds(a),
            published=any(mark is Mark.PUBLISH_STARTED for _, mark in a.publishing),
        )
        for a in sorted(session.attendance.values(), key=lambda a: (a.joined_at, a.participant_id))
    ]
    return with_quality(records, samples)


def counted(record: CallRecord, samples: Iterable[Sample]) -> list[Sample]:
    """The record's own samples taken while it was in (another participant's never count)."""
    mine = [s for s in samples if s.participant_id == record.participant_id]
    return quality.within(mine, record.connected_at or record.joined_at, record.left_at)


def with_quality(records: list[CallRecord], samples: Iterable[Sample]) -> list[CallRecord]:
    """The records with the figures of their samples (the samples of any sessions they belong to)."""
    grouped = quality.by_participant(samples)
    return [replace(r, quality=quality.summarize(counted(r, grouped.get(r.participant_id, [])))) for r in records]


def totals(session: Session, samples: Iterable[Sample] = ()) -> Totals:
    grouped = quality.by_participant(samples)
    records = call_records(session)
    return Totals(
        participants=len(records),
        participant_minutes=round(sum(r.duration_seconds for r in records) / 60, 2),
        published_minutes=round(sum(r.published_seconds for r in records) / 60, 2),
        quality=quality.summarize(s for r in records for s in counted(r, grouped.get(r.participant_id, []))),
    )
