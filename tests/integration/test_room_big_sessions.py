"""A lecture bigger than one DynamoDB item could hold (docs/rooms.md, "Big sessions"): 2,500 joins
through the join and session services on moto, with the stage plane faked (the unit tests' fake),
then leaves, the duration limit's end, the call detail records page by page, and every item and
transaction measured. And two joins racing for the last seat on DynamoDB's own conditions."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import boto3
import pytest

from chalicelib.core import wiring as core_wiring
from chalicelib.core.adapters.dynamodb import PK, SK, Put, Table, Write, from_attributes
from chalicelib.core.domain.events import DomainEvent
from chalicelib.core.domain.pagination import PageRequest
from chalicelib.rooms.adapters.records import active_session_key, session_item
from chalicelib.rooms.adapters.rooms import DynamoRoomRepository, DynamoSessionRepository
from chalicelib.rooms.domain.errors import RoomFull
from chalicelib.rooms.domain.rooms import Room
from chalicelib.rooms.domain.sessions import Attendance, LeaveReason, PlaneEvent, Session, Sighting
from chalicelib.rooms.domain.tokens import JoinRequest, SeatClaim, TokenRequest
from chalicelib.rooms.services.rooms import RoomService
from chalicelib.rooms.services.sessions import SessionService
from chalicelib.rooms.services.tokens import JoinTokenService
from tests.unit.test_rooms_service import (
    ACTOR,
    NOW,
    Clock,
    FakeAuditLog,
    FakeStages,
    FakeTimers,
    FakeTokens,
    creation,
)

JOINS = 2500
ITEM_BUDGET = 64 * 1024


class Measured(Table):
    """The table, remembering the largest transaction it was asked to write."""

    largest_write = 0

    def write(self, writes: Sequence[Write]) -> None:
        Measured.largest_write = max(Measured.largest_write, len(writes))
        super().write(writes)


class Racing(DynamoSessionRepository):
    """Runs another writer's change between a join's read and its write."""

    def __init__(self, table: Table) -> None:
        super().__init__(table)
        self.before_admit: list[Any] = []

    def admit(self, summary: Session, attendance: Attendance, claim: SeatClaim, events: Sequence[DomainEvent]) -> None:
        while self.before_admit:
            self.before_admit.pop(0)()
        super().admit(summary, attendance, claim, events)


@pytest.fixture
def plane(aws: None) -> Iterator[tuple[RoomService, JoinTokenService, SessionService, FakeStages, Clock]]:
    table = Measured(boto3.client("dynamodb"), core_wiring.table().name)
    stages, clock = FakeStages(), Clock()
    rooms_ = RoomService(DynamoRoomRepository(table), lambda: stages, clock, FakeAuditLog)
    # Join tokens in memory: what is measured is the session, not 2,500 token records.
    tokens = JoinTokenService(rooms_.find, FakeTokens(), Racing(table), lambda: stages, clock, "videoplane")
    timers = FakeTimers()
    sessions_ = SessionService(rooms_.find, DynamoSessionRepository(table), lambda: stages, lambda: timers, clock)
    yield rooms_, tokens, sessions_, stages, clock


def join(tokens: JoinTokenService, room: Room, user: str, role: str = "viewer") -> str:
    request = TokenRequest.model_validate({"userRef": user, "name": user, "role": role})
    return tokens.join(JoinRequest(token=tokens.mint(ACTOR, room.room_id, request).jwt)).participant_id


def scanned() -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    pages = client.get_paginator("scan").paginate(TableName=core_wiring.table().name)
    return [from_attributes(item) for page in pages for item in page["Items"]]


def test_a_lecture_of_2500_joins_keeps_every_item_small_and_every_leave_once(
    plane: tuple[RoomService, JoinTokenService, SessionService, FakeStages, Clock],
) -> None:
    rooms_, tokens, sessions_, stages, clock = plane
    room = rooms_.create(ACTOR, creation(mode="lecture", maxModerators=2, maxParticipants=2000, duration=120))
    moderator = join(tokens, room, "teacher", "moderator")
    first = [join(tokens, room, f"student-{i}") for i in range(2000)]
    with pytest.raises(RoomFull):
        join(tokens, room, "one-too-many")
    # A reload: the same user's second join shares its seat, so the full room still takes it.
    reloaded = join(tokens, room, "student-0")

    # 600 leave; the poll that sees them gives their seats back.
    clock.now = NOW + timedelta(minutes=5)
    gone = first[:600]
    everyone = [moderator, *first, reloaded]
    stages.connected = set(everyone) - set(gone)
    stages.sightings = {pid: Sighting(pid, pid not in gone, NOW + timedelta(seconds=2), "st-1") for pid in everyone}
    stages.plane_events = [PlaneEvent(pid, "LEFT", NOW + timedelta(minutes=4)) for pid in gone]
    sessions_.poll(ACTOR.project_id, room.room_id, None, None)
    sessions_.poll(ACTOR.project_id, room.room_id, None, None)  # seen again: nothing twice
    later = [join(tokens, room, f"late-{i}") for i in range(JOINS - len(everyone))]
    assert len(everyone) + len(later) == JOINS
    summary = sessions_.repository.summary(ACTOR.project_id, room.room_id)
    assert summary is not None and summary.joins == JOINS
    # student-0 left once but holds its seat through its reloaded join: 599 seats came back.
    assert summary.taken == {"moderator": 1, "participant": 2000 - 599 + len(later)}

    # The duration limit ends it: everyone still in leaves with the session.
    for pid in later:
        stages.connected.add(pid)
        stages.sightings[pid] = Sighting(pid, True, NOW + timedelta(minutes=6), "st-1")
    clock.now = NOW + timedelta(minutes=120)
    sessions_.poll(ACTOR.project_id, room.room_id, None, None)
    session_id = summary.session_id
    ended = sessions_.get(ACTOR, session_id)
    assert not ended.active and len(ended.attendance) == JOINS

    # Pages in join order (each page reads the session: moto's Query is slow, so the ends only).
    # (Joins at one instant sort by participant id.)
    in_order = sorted([moderator, *first, reloaded]) + sorted(later)
    first_page = sessions_.records(ACTOR, session_id, PageRequest(page_size=100))
    last_page = sessions_.records(ACTOR, session_id, PageRequest(current_page=25, page_size=100))
    assert first_page.items_total == JOINS and first_page.pages_total == 25
    assert [r.participant_id for r in (*first_page.items, *last_page.items)] == in_order[:100] + in_order[-100:]
    reasons = [a.leave_reason for a in ended.attendance.values()]
    assert reasons.count(LeaveReason.LEFT) == 600 and reasons.count(LeaveReason.SESSION_ENDED) == JOINS - 600
    period = sessions_.records_between(ACTOR, NOW, NOW + timedelta(hours=3), PageRequest(page_size=100))
    assert period.items_total == JOINS

    items = scanned()
    outbox = [(i["eventType"], json.loads(i["payload"])) for i in items if i.get("entity") == "outbox"]
    left = [e["participantId"] for kind, e in outbox if kind == "room.participant.left"]
    assert sorted(left) == sorted(in_order)  # each exactly once
    assert [kind for kind, _ in outbox].count("room.session.ended") == 1
    largest = max(len(json.dumps(i, default=str)) for i in items)
    print(f"\n{JOINS} joins: {len(items)} items, largest {largest} bytes, largest transaction {Measured.largest_write}")
    assert largest < ITEM_BUDGET
    assert Measured.largest_write <= 100


def test_two_joins_racing_for_the_last_seat_on_dynamodb_admit_one(
    plane: tuple[RoomService, JoinTokenService, SessionService, FakeStages, Clock],
) -> None:
    rooms_, tokens, _, _, _ = plane
    room = rooms_.create(ACTOR, creation(mode="group", maxModerators=1, maxParticipants=2))
    join(tokens, room, "a", "participant")
    repository = tokens.sessions
    assert isinstance(repository, Racing)
    won: list[str] = []
    # c's join lands between b's read of the counts (one seat left) and b's conditional write.
    repository.before_admit.append(lambda: won.append(join(tokens, room, "c", "participant")))
    with pytest.raises(RoomFull):
        join(tokens, room, "b", "participant")
    assert len(won) == 1
    summary = repository.summary(ACTOR.project_id, room.room_id)
    assert summary is not None and summary.taken["participant"] == 2 and summary.joins == 2


def test_a_session_stored_with_its_attendance_inline_reads_and_changes_without_migration(
    plane: tuple[RoomService, JoinTokenService, SessionService, FakeStages, Clock],
) -> None:
    rooms_, tokens, sessions_, stages, clock = plane
    room = rooms_.create(ACTOR, creation(mode="group"))
    joined = {
        pid: Attendance(participant_id=pid, token_id="jt", user_ref=pid, role="participant", joined_at=NOW)
        for pid in ("pa", "pb")
    }
    old = Session(project_id=ACTOR.project_id, room_id=room.room_id, session_id="rs" + "o" * 22, started_at=NOW,
                  attendance=joined)  # fmt: skip
    # The layout before attendance items: every Session field in the active item and the record.
    layout = old.model_dump(
        mode="json", exclude={"taken": True, "joins": True, "attendance": {"__all__": {"version", "seated"}}}
    )
    pk, sk = active_session_key(ACTOR.project_id, room.room_id)
    record = {**session_item(old), **layout}
    core_wiring.table().write([Put(item={PK: pk, SK: sk, "entity": "roomSessionActive", **layout}), Put(item=record)])
    assert set(sessions_.get(ACTOR, old.session_id).attendance) == {"pa", "pb"}
    # A join into it starts its seat counters (its inline joins are not counted).
    pc = join(tokens, room, "pc", "participant")
    summary = sessions_.repository.summary(ACTOR.project_id, room.room_id)
    assert summary is not None and summary.taken == {"moderator": 0, "participant": 1} and summary.joins == 1

    stages.connected = {"pb"}
    stages.sightings = {"pa": Sighting("pa", False, NOW, "st-1"), "pb": Sighting("pb", True, NOW, "st-1")}
    stages.sightings[pc] = Sighting(pc, False, NOW, "st-1")
    stages.plane_events = [PlaneEvent(pc, "LEFT", NOW + timedelta(seconds=10))]
    stages.plane_events.append(PlaneEvent("pa", "LEFT", NOW + timedelta(seconds=20)))
    clock.now = NOW + timedelta(seconds=30)
    for _ in range(2):
        sessions_.poll(ACTOR.project_id, room.room_id, None, None)
    read = sessions_.get(ACTOR, old.session_id)
    assert read.attendance["pa"].leave_reason is LeaveReason.LEFT and read.attendance["pa"].version == 1
    # pb changed too (its connection time, from the listing): now an item of its own.
    assert read.attendance["pb"].present and read.attendance["pb"].connected_at == NOW
    stages.sightings["pb"] = Sighting("pb", False, NOW, "st-1")
    stages.plane_events.append(PlaneEvent("pb", "LEFT", NOW + timedelta(seconds=40)))
    clock.now = NOW + timedelta(seconds=45)
    sessions_.poll(ACTOR.project_id, room.room_id, None, None)
    rows = sessions_.records(ACTOR, old.session_id, PageRequest()).items
    # (Joins at one instant sort by participant id.)
    assert [(r.participant_id, r.duration_seconds) for r in rows] == sorted([("pa", 20), ("pb", 40), (pc, 10)])
    types = [i["eventType"] for i in scanned() if i.get("entity") == "outbox"]
    assert types.count("room.participant.left") == 3 and types.count("room.session.ended") == 1
