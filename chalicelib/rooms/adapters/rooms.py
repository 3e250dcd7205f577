"""DynamoDB repositories of rooms, their join tokens, their sessions, recordings and quality samples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, Delete, Put, Table, Update, Write
from chalicelib.core.adapters.records import TTL, audit_put, outbox_put
from chalicelib.core.adapters.versioned import CREATE_ONLY, versioned_delete, versioned_put
from chalicelib.core.clock import epoch_seconds, to_atom
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.events import DomainEvent, RoomParticipantLeft
from chalicelib.rooms.adapters.records import (
    SESSION_RETENTION,
    active_session_item,
    active_session_key,
    attendance_from_item,
    attendance_item,
    attendance_partition,
    ended_item,
    ended_partition,
    ended_sort_key,
    recording_from_item,
    recording_item,
    recording_key,
    room_from_item,
    room_item,
    room_key,
    room_sessions_index,
    sample_from_item,
    seat_key,
    session_from_item,
    session_item,
    session_key,
    session_recordings_index,
    stats_item,
    stats_partition,
    token_from_item,
    token_item,
    token_key,
)
from chalicelib.rooms.domain import sessions
from chalicelib.rooms.domain.quality import Sample
from chalicelib.rooms.domain.recordings import Recording
from chalicelib.rooms.domain.rooms import Room
from chalicelib.rooms.domain.sessions import Attendance, Session
from chalicelib.rooms.domain.tokens import MODERATOR_SEATS, PARTICIPANT_SEATS, JoinToken, SeatClaim, seat_group


class DynamoRoomRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, room_id: str) -> Room | None:
        item = self.table.get(*room_key(project_id, room_id))
        return None if item is None else room_from_item(item)

    def list_all(self, project_id: str) -> list[Room]:
        pk, _ = room_key(project_id, "")
        return [room_from_item(item) for item in self.table.query(pk)]

    def reserve(self, room: Room) -> None:
        self.table.write([Put(item=room_item(room), **CREATE_ONLY)])  # type: ignore[arg-type]

    def save(self, room: Room, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        """The room, its audit entry and its events are written together or not at all."""
        self.table.write(
            [versioned_put(room_item(room), expected_version), audit_put(audit), *(outbox_put(e) for e in events)]
        )

    def delete(
        self, room: Room, expected_version: int, audit: AuditEvent | None, events: Sequence[DomainEvent]
    ) -> None:
        writes: list[Write] = [versioned_delete(*room_key(room.project_id, room.room_id), expected_version)]
        if audit is not None:
            writes.append(audit_put(audit))
        writes.extend(outbox_put(event) for event in events)
        self.table.write(writes)


class DynamoJoinTokenRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, token: JoinToken, audit: AuditEvent) -> None:
        self.table.write([Put(item=token_item(token), **CREATE_ONLY), audit_put(audit)])  # type: ignore[arg-type]

    def get(self, project_id: str, room_id: str, token_id: str) -> JoinToken | None:
        item = self.table.get(*token_key(project_id, room_id, token_id))
        return None if item is None else token_from_item(item)

    def of_user(self, project_id: str, room_id: str, user_ref: str) -> list[JoinToken]:
        pk, _ = token_key(project_id, room_id, "")
        tokens = (token_from_item(item) for item in self.table.query(pk, consistent=True))
        return [token for token in tokens if token.user_ref == user_ref]

    def revoke(self, token: JoinToken, audit: AuditEvent) -> bool:
        pk, sk = token_key(token.project_id, token.room_id, token.token_id)
        gone = Delete(key={PK: pk, SK: sk}, condition="attribute_exists(#pk)", names={"#pk": PK})
        return self.table.write_if([gone, audit_put(audit)])

    def use_once(self, token: JoinToken, now: datetime) -> bool:
        pk, sk = token_key(token.project_id, token.room_id, token.token_id)
        mark = Update(
            key={PK: pk, SK: sk},
            expression="SET used_at = :now",
            # The record must still exist (not revoked) and be unused.
            condition="attribute_exists(#pk) AND attribute_not_exists(used_at)",
            names={"#pk": PK},
            values={":now": to_atom(now)},
        )
        return self.table.write_if([mark])


class DynamoSessionRepository:
    """A session is a summary item (seat counters, joins, the poll loop's state), one item per
    join and one per user's seat; a write touches only what changed, in bounded transactions."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def _attendances(self, project_id: str, session_id: str) -> list[Attendance]:
        partition = attendance_partition(project_id, session_id)
        return [attendance_from_item(item) for item in self.table.query(partition, consistent=True)]

    def _with_attendances(self, item: dict[str, Any]) -> Session:
        return session_from_item(item, self._attendances(item["project_id"], item["session_id"]))

    def summary(self, project_id: str, room_id: str) -> Session | None:
        item = self.table.get(*active_session_key(project_id, room_id))
        return None if item is None else session_from_item(item)

    def active(self, project_id: str, room_id: str) -> Session | None:
        item = self.table.get(*active_session_key(project_id, room_id))
        return None if item is None else self._with_attendances(item)

    def holdings(self, project_id: str, session_id: str, user_ref: str) -> set[str]:
        return {
            group
            for group in (MODERATOR_SEATS, PARTICIPANT_SEATS)
            if (self.table.get(*seat_key(project_id, session_id, group, user_ref)) or {}).get("holders")
        }

    def get(self, project_id: str, session_id: str) -> Session | None:
        item = self.table.get(*session_key(project_id, session_id))
        if item is None:
            return None
        if item.get("ended_at") is None:
            # An active session's record is as it started; its counters live in the summary.
            live = self.table.get(*active_session_key(project_id, item["room_id"]))
            if live is not None and live["session_id"] == session_id:
                item = live
        return self._with_attendances(item)

    def of_room(self, project_id: str, room_id: str) -> list[Session]:
        found = list(self.table.query(room_sessions_index(project_id, room_id), index=resources.GSI1))
        live = (
            self.table.get(*active_session_key(project_id, room_id))
            if any(not i.get("ended_at") for i in found)
            else None
        )
        return [
            self._with_attendances(live if live is not None and live["session_id"] == i["session_id"] else i)
            for i in found
        ]

    def ended_between(self, project_id: str, since: datetime, until: datetime) -> list[Session]:
        # Keys are "<end>#<sessionId>": one ending at `until` sorts after the bound, and is left out.
        span = (ended_sort_key(since), ended_sort_key(until))
        return [self._with_attendances(item) for item in self.table.query(ended_partition(project_id), span)]

    def admit(self, summary: Session, attendance: Attendance, claim: SeatClaim, events: Sequence[DomainEvent]) -> None:
        pk, sk = active_session_key(summary.project_id, summary.room_id)
        names = {"#pk": PK, "#joins": "joins"}
        values: dict[str, Any] = {":one": 1}
        expression = "ADD #joins :one"
        condition = "attribute_exists(#pk)"
        if not claim.holder and not summary.taken:
            # A summary stored before the counters: its first counted seat starts them.
            names["#taken"] = "taken"
            values[":taken"] = {MODERATOR_SEATS: 0, PARTICIPANT_SEATS: 0, claim.group: 1}
            expression += " SET #taken = :taken"
            condition += " AND attribute_not_exists(#taken)"
        elif not claim.holder:
            names.update({"#taken": "taken", "#group": claim.group})
            values[":below"] = claim.below
            expression += ", #taken.#group :one"
            condition += " AND #taken.#group < :below"
        if claim.moderators_above is not None:
            names.update({"#taken": "taken", "#moderators": MODERATOR_SEATS})
            values[":above"] = claim.moderators_above
            condition += " AND #taken.#moderators > :above"
        counted = Update(key={PK: pk, SK: sk}, expression=expression, condition=condition, names=names, values=values)
        created = Put(item=attendance_item(summary, attendance, 1), **CREATE_ONLY)  # type: ignore[arg-type]
        seat = _seat_update(summary, claim.group, attendance.user_ref, {attendance.participant_id}, holder=claim.holder)
        self.table.write([counted, created, seat, *(outbox_put(e) for e in events)])

    def save(self, session: Session, before: Session | None, events: Sequence[DomainEvent]) -> None:
        outbox = [outbox_put(event) for event in events]
        if before is None:
            (first,) = session.attendance.values()
            created = Put(item=active_session_item(session), **CREATE_ONLY)  # type: ignore[arg-type]
            attendance = Put(item=attendance_item(session, first, 1), **CREATE_ONLY)  # type: ignore[arg-type]
            seat = _seat_update(session, seat_group(first.role), first.user_ref, {first.participant_id}, holder=False)
            self.table.write([created, Put(item=session_item(session)), attendance, seat, *outbox])
            return
        left = {e.participant_id: e for e in events if isinstance(e, RoomParticipantLeft)}
        for chunk in _chunks(before, session):
            self.table.write(_chunk_writes(before, session, chunk, left))
        rest = [outbox_put(e) for e in events if not isinstance(e, RoomParticipantLeft)]
        if session.active:
            if (session.tick, session.plane_sessions) != (before.tick, before.plane_sessions) or rest:
                self.table.write([_loop_update(session, before), *rest])
            return
        gone = _ended_guard(before)
        self.table.write([gone, Put(item=session_item(session)), Put(item=ended_item(session)), *rest])


# A chunk's transaction: each attendance (≤ 1 item), its left event (≤ 1) and its seat (≤ 1), plus
# the summary's counters: 3 * 30 + 1 items, under DynamoDB's 100.
CHUNK_ATTENDANCES = 30


def _chunks(before: Session, after: Session) -> list[list[Attendance]]:
    """The changed attendances in chunks; a release's joins stay together (one seat update)."""
    by_id = {a.participant_id: a for a in sessions.changed(before, after)}
    units: list[list[Attendance]] = [
        [by_id[pid] for pid in sorted(r.participant_ids) if pid in by_id] for r in sessions.releases(before, after)
    ]
    released = {a.participant_id for unit in units for a in unit}
    units.extend([a] for pid, a in by_id.items() if pid not in released)
    chunks: list[list[Attendance]] = [[]]
    for unit in units:
        if chunks[-1] and len(chunks[-1]) + len(unit) > CHUNK_ATTENDANCES:
            chunks.append([])
        chunks[-1].extend(unit)
    return [c for c in chunks if c]


def _chunk_writes(
    before: Session, after: Session, chunk: list[Attendance], left: dict[str, RoomParticipantLeft]
) -> list[Write]:
    """Each attendance at its own version with its event: a chunk written twice fails the second
    time, so each `room.participant.left` is published once."""
    writes: list[Write] = []
    for attendance in chunk:
        previous = before.attendance.get(attendance.participant_id)
        version = 0 if previous is None else previous.version
        item = attendance_item(after, attendance, version + 1)
        writes.append(Put(item=item, **CREATE_ONLY) if version == 0 else versioned_put(item, version))  # type: ignore[arg-type]
        if attendance.participant_id in left:
            writes.append(outbox_put(left[attendance.participant_id]))
    ids_ = {a.participant_id for a in chunk}
    vacated: dict[str, int] = {}
    for release in sessions.releases(before, after):
        if release.participant_ids <= ids_:
            writes.append(_seat_release(after, release))
            if release.vacates:
                vacated[release.group] = vacated.get(release.group, 0) + 1
    writes.append(_summary_guard(after, vacated))
    return writes


def _summary_guard(session: Session, vacated: dict[str, int]) -> Update:
    """The summary must still exist (an ended session is frozen); the seats given back are counted."""
    pk, sk = active_session_key(session.project_id, session.room_id)
    names = {"#pk": PK, "#joins": "joins"}
    values: dict[str, Any] = {":zero": 0}
    parts = ["#joins :zero"]
    if vacated:
        names["#taken"] = "taken"
    for i, (group, count) in enumerate(sorted(vacated.items())):
        names[f"#g{i}"] = group
        values[f":g{i}"] = -count
        parts.append(f"#taken.#g{i} :g{i}")
    return Update(
        key={PK: pk, SK: sk},
        expression="ADD " + ", ".join(parts),
        condition="attribute_exists(#pk)",
        names=names,
        values=values,
    )


def _seat_update(session: Session, group: str, user_ref: str, participant_ids: set[str], holder: bool) -> Update:
    """A join takes (or, `holder`, shares) the user's seat of the group."""
    pk, sk = seat_key(session.project_id, session.session_id, group, user_ref)
    # A string set disappears with its last member: "no holders" is the attribute's absence.
    condition = "attribute_exists(#holders)" if holder else "attribute_not_exists(#holders)"
    return Update(
        key={PK: pk, SK: sk},
        expression="ADD #holders :ids SET #ttl = :ttl",
        condition=condition,
        names={"#holders": "holders", "#ttl": TTL},
        values={":ids": participant_ids, ":ttl": epoch_seconds(session.started_at + SESSION_RETENTION)},
    )


def _seat_release(session: Session, release: sessions.Release) -> Update:
    pk, sk = seat_key(session.project_id, session.session_id, release.group, release.user_ref)
    names = {"#holders": "holders"}
    values: dict[str, Any] = {":ids": set(release.participant_ids), ":n": len(release.participant_ids)}
    # Exactly these holders when the seat is vacated, more when another join of the user stays in.
    condition = "size(#holders) = :n" if release.vacates else "size(#holders) > :n"
    for i, pid in enumerate(sorted(release.participant_ids)):
        values[f":p{i}"] = pid
        condition += f" AND contains(#holders, :p{i})"
    return Update(
        key={PK: pk, SK: sk}, expression="DELETE #holders :ids", condition=condition, names=names, values=values
    )


def _loop_update(session: Session, before: Session) -> Update:
    """The poll loop's state, at the summary's version (joins change only their counters)."""
    pk, sk = active_session_key(session.project_id, session.room_id)
    return Update(
        key={PK: pk, SK: sk},
        expression="SET #tick = :tick, #planes = :planes, #v = :next",
        condition="#v = :expected",
        names={"#tick": "tick", "#planes": "plane_sessions", "#v": "version"},
        values={
            ":tick": session.tick,
            ":planes": list(session.plane_sessions),
            ":next": before.version + 1,
            ":expected": before.version,
        },
    )


def _ended_guard(before: Session) -> Delete:
    """The summary goes at its version, and only if no join came after the read."""
    pk, sk = active_session_key(before.project_id, before.room_id)
    # A summary stored before the counters has none (a chunk's guard may since have added 0).
    joins = "#joins = :joins" if before.joins else "(attribute_not_exists(#joins) OR #joins = :joins)"
    values: dict[str, Any] = {":expected": before.version, ":joins": before.joins}
    return Delete(
        key={PK: pk, SK: sk},
        condition=f"#v = :expected AND {joins}",
        names={"#v": "version", "#joins": "joins"},
        values=values,
    )


class DynamoRecordingRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, recording_id: str) -> Recording | None:
        item = self.table.get(*recording_key(project_id, recording_id))
        return None if item is None else recording_from_item(item)

    def of_session(self, project_id: str, session_id: str) -> list[Recording]:
        index = session_recordings_index(project_id, session_id)
        return [recording_from_item(item) for item in self.table.query(index, index=resources.GSI1)]

    def save(
        self,
        recording: Recording,
        expected_version: int | None,
        audit: AuditEvent | None,
        events: Sequence[DomainEvent],
    ) -> None:
        """Creates (`expected_version` None) or updates the recording, with its audit entry and
        events, in one transaction; Conflict when another change came first."""
        item = recording_item(recording)
        put = (
            Put(item=item, **CREATE_ONLY)  # type: ignore[arg-type]
            if expected_version is None
            else versioned_put(item, expected_version)
        )
        writes: list[Write] = [put, *(outbox_put(event) for event in events)]
        if audit is not None:
            writes.append(audit_put(audit))
        self.table.write(writes)


class DynamoQualityRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, project_id: str, session_id: str, sample: Sample) -> bool:
        created = Put(item=stats_item(project_id, session_id, sample), **CREATE_ONLY)  # type: ignore[arg-type]
        return self.table.write_if([created])

    def of_session(self, project_id: str, session_id: str) -> list[Sample]:
        return [sample_from_item(item) for item in self.table.query(stats_partition(project_id, session_id))]
