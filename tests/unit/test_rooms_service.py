"""Rooms and join tokens: the services against in-memory fakes of their ports (a stage is never leaked
whatever fails between creating it and saving the room; a join is refused for each reason apart)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.core import ids
from chalicelib.core.domain.access import Actor, Principal, Role
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.errors import Conflict, NotFound, RepositoryUnavailable
from chalicelib.core.domain.events import DomainEvent
from chalicelib.core.domain.pagination import PageRequest
from chalicelib.core.ports import AuditLog
from chalicelib.rooms.adapters.timers import SqsSessionTimers, parse_timer, timer_message
from chalicelib.rooms.domain import rooms
from chalicelib.rooms.domain.errors import JoinTokenExpired, JoinTokenRevoked, RoomFull, StageUnavailable
from chalicelib.rooms.domain.rooms import Room, RoomCreation, RoomQuery, Stage
from chalicelib.rooms.domain.sessions import Attendance, LeaveReason, PlaneEvent, Session, Sighting
from chalicelib.rooms.domain.tokens import (
    MODERATOR_SEATS,
    PARTICIPANT_SEATS,
    Capability,
    JoinRequest,
    JoinToken,
    SeatClaim,
    TokenRequest,
    seat_group,
)
from chalicelib.rooms.ports import JoinTokenRepository, RoomRepository, SessionRepository, SessionTimers, Stages
from chalicelib.rooms.services.rooms import RoomService
from chalicelib.rooms.services.sessions import SessionService
from chalicelib.rooms.services.tokens import JoinTokenService
from tests.unit import strict_model

NOW = datetime(2026, 3, 4, 10, 0, 0, tzinfo=UTC)
ACTOR = Actor(Principal(project_id=ids.new_id("pr"), key_id=ids.new_id("key"), role=Role.OPERATOR), "req-1")


class FakeRooms:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Room] = {}
        self.events: list[DomainEvent] = []
        self.fail_save = False

    def get(self, project_id: str, room_id: str) -> Room | None:
        return self.items.get((project_id, room_id))

    def list_all(self, project_id: str) -> list[Room]:
        return [r for (p, _), r in self.items.items() if p == project_id]

    def reserve(self, room: Room) -> None:
        assert (room.project_id, room.room_id) not in self.items
        self.items[(room.project_id, room.room_id)] = room

    def save(self, room: Room, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        if self.fail_save:
            raise RuntimeError("the process died here")
        current = self.items.get((room.project_id, room.room_id))
        if current is None or current.version != expected_version:
            raise Conflict()
        self.items[(room.project_id, room.room_id)] = room
        self.events.extend(events)

    def delete(
        self, room: Room, expected_version: int, audit: AuditEvent | None, events: Sequence[DomainEvent]
    ) -> None:
        del self.items[(room.project_id, room.room_id)]
        self.events.extend(events)


class FakeStages:
    def __init__(self) -> None:
        self.stages: dict[str, str] = {}  # arn -> name
        self.connected: set[str] = set()
        self.fail_create = False
        self.tokens: list[tuple[str, int, frozenset[Capability]]] = []
        self.rooms: dict[str, tuple[str, str]] = {}
        self.sightings: dict[str, Sighting] = {}
        self.plane_events: list[PlaneEvent] = []

    def create_stage(self, name: str, tags: dict[str, str]) -> Stage:
        if self.fail_create:
            raise StageUnavailable()
        arn = f"arn:aws:ivs:us-east-1:123456789012:stage/{ids.random_base62(12)}"
        self.stages[arn] = name
        return Stage(arn=arn, whip_endpoint="https://whip.example")

    def delete_stages(self, name: str, arn: str | None) -> int:
        arns = [arn] if arn in self.stages else [a for a, n in self.stages.items() if n == name and arn is None]
        for found in arns:
            del self.stages[found]
        return len(arns)

    def presence(self, stage_arn: str) -> tuple[Stage, set[str]]:
        return Stage(arn=stage_arn, whip_endpoint="https://whip.example"), set(self.connected)

    def stage_room(self, stage_arn: str) -> tuple[str, str] | None:
        return self.rooms.get(stage_arn)

    def attendance(self, stage_arn: str, plane_sessions: Sequence[str]) -> tuple[str | None, list[Sighting]]:
        return ("st-1" if self.connected else None), list(self.sightings.values())

    def participant_events(self, stage_arn: str, plane_session: str, participant_id: str) -> list[PlaneEvent]:
        return [e for e in self.plane_events if e.participant_id == participant_id]

    def disconnect(self, stage_arn: str, participant_id: str, reason: str) -> bool:
        if participant_id not in self.connected:
            return False
        self.connected.discard(participant_id)
        return True

    def participant_token(
        self,
        stage_arn: str,
        user_id: str,
        minutes: int,
        capabilities: frozenset[Capability],
        attributes: dict[str, str],
    ) -> tuple[str, str, datetime | None]:
        self.tokens.append((user_id, minutes, capabilities))
        return ids.random_base62(12), ids.random_base62(40), None


class FakeTokens:
    def __init__(self) -> None:
        self.items: dict[str, JoinToken] = {}

    def add(self, token: JoinToken, audit: AuditEvent) -> None:
        self.items[token.token_id] = token

    def get(self, project_id: str, room_id: str, token_id: str) -> JoinToken | None:
        token = self.items.get(token_id)
        return token if token and (token.project_id, token.room_id) == (project_id, room_id) else None

    def of_user(self, project_id: str, room_id: str, user_ref: str) -> list[JoinToken]:
        return [
            t for t in self.items.values() if (t.project_id, t.room_id, t.user_ref) == (project_id, room_id, user_ref)
        ]

    def revoke(self, token: JoinToken, audit: AuditEvent) -> bool:
        return self.items.pop(token.token_id, None) is not None

    def use_once(self, token: JoinToken, now: datetime) -> bool:
        current = self.items.get(token.token_id)
        if current is None or current.used_at is not None:
            return False
        self.items[token.token_id] = current.model_copy(update={"used_at": now})
        return True


class FakeSessions:
    """The active session per room at a version, and every session's record, as DynamoDB keeps them."""

    def __init__(self) -> None:
        self.live: dict[tuple[str, str], Session] = {}
        self.records: dict[tuple[str, str], Session] = {}
        self.events: list[DomainEvent] = []
        # Called once before the next save: another writer's change (a racing join).
        self.before_save: list[Callable[[], None]] = []

    def active(self, project_id: str, room_id: str) -> Session | None:
        return self.live.get((project_id, room_id))

    def get(self, project_id: str, session_id: str) -> Session | None:
        found = self.records.get((project_id, session_id))
        live = self.live.get((project_id, found.room_id)) if found else None
        return live if live is not None and found is not None and live.session_id == session_id else found

    def of_room(self, project_id: str, room_id: str) -> list[Session]:
        found = [s for (p, _), s in sorted(self.records.items()) if p == project_id and s.room_id == room_id]
        return [self.get(project_id, s.session_id) or s for s in found]

    def ended_between(self, project_id: str, since: datetime, until: datetime) -> list[Session]:
        return [
            s for (p, _), s in self.records.items()
            if p == project_id and s.ended_at is not None and since <= s.ended_at < until
        ]  # fmt: skip

    def summary(self, project_id: str, room_id: str) -> Session | None:
        found = self.live.get((project_id, room_id))
        return None if found is None else found.model_copy(update={"attendance": {}, "taken": self._taken(found)})

    def holdings(self, project_id: str, session_id: str, user_ref: str) -> set[str]:
        found = next((s for s in self.live.values() if s.session_id == session_id), None)
        return {g for g, u in self._seats(found) if u == user_ref} if found else set()

    @staticmethod
    def _seats(session: Session) -> set[tuple[str, str]]:
        return {(seat_group(a.role), a.user_ref) for a in session.attendance.values() if a.present}

    def _taken(self, session: Session) -> dict[str, int]:
        seats = self._seats(session)
        return {g: sum(1 for group, _ in seats if group == g) for g in (MODERATOR_SEATS, PARTICIPANT_SEATS)}

    def admit(self, summary: Session, attendance: Attendance, claim: SeatClaim, events: Sequence[DomainEvent]) -> None:
        """The claim's conditions, checked against the stored session as DynamoDB would."""
        while self.before_save:
            self.before_save.pop(0)()
        key = (summary.project_id, summary.room_id)
        current = self.live.get(key)
        if current is None or current.session_id != summary.session_id:
            raise Conflict()
        taken = self._taken(current)
        holder = (claim.group, attendance.user_ref) in self._seats(current)
        if holder != claim.holder or (not holder and taken[claim.group] >= claim.below):
            raise Conflict()
        if claim.moderators_above is not None and taken[MODERATOR_SEATS] <= claim.moderators_above:
            raise Conflict()
        attendance_ = {**current.attendance, attendance.participant_id: attendance}
        self.live[key] = current.model_copy(update={"attendance": attendance_, "joins": current.joins + 1})
        self.events.extend(events)

    def save(self, session: Session, before: Session | None, events: Sequence[DomainEvent]) -> None:
        while self.before_save:
            self.before_save.pop(0)()
        key = (session.project_id, session.room_id)
        current = self.live.get(key)
        if (current is None) != (before is None) or (current and before and current.version != before.version):
            raise Conflict()
        if session.active:
            self.live[key] = session
            self.records.setdefault((session.project_id, session.session_id), session)
        else:
            del self.live[key]
            self.records[(session.project_id, session.session_id)] = session
        self.events.extend(events)


class FakeTimers:
    def __init__(self) -> None:
        self.armed: list[tuple[str, int, float]] = []

    def arm(self, project_id: str, room_id: str, session_id: str, tick: int, delay_seconds: float) -> None:
        self.armed.append((session_id, tick, delay_seconds))


class FakeAuditLog:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def append(self, event: AuditEvent) -> None:
        self.events.append(event)

    def between(self, project_id: str, since: datetime, until: datetime) -> Sequence[AuditEvent]:
        return [e for e in self.events if e.project_id == project_id and since <= e.at < until]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def services() -> tuple[RoomService, JoinTokenService, FakeRooms, FakeStages, Clock]:
    room_service, token_service, _, repository, stages, clock = all_services()
    return room_service, token_service, repository, stages, clock


def all_services() -> tuple[RoomService, JoinTokenService, SessionService, FakeRooms, FakeStages, Clock]:
    repository, stages, clock = FakeRooms(), FakeStages(), Clock()
    # The fakes are the ports (no type: ignore): mypy checks them against the protocols.
    typed_rooms: RoomRepository = repository
    typed_stages: Stages = stages
    typed_tokens: JoinTokenRepository = FakeTokens()
    typed_sessions: SessionRepository = FakeSessions()
    typed_timers: SessionTimers = FakeTimers()
    typed_audit: AuditLog = FakeAuditLog()
    room_service = RoomService(typed_rooms, lambda: typed_stages, clock, lambda: typed_audit)
    token_service = JoinTokenService(
        room_service.find, typed_tokens, typed_sessions, lambda: typed_stages, clock, "videoplane"
    )
    session_service = SessionService(
        room_service.find, typed_sessions, lambda: typed_stages, lambda: typed_timers, clock
    )
    return room_service, token_service, session_service, repository, stages, clock


def creation(**settings: object) -> RoomCreation:
    return RoomCreation.model_validate({"name": "Room", "settings": {"mode": "group", **settings}})


def test_create_stores_a_ready_room_with_its_stage_and_event() -> None:
    svc, _, repository, stages, _ = services()
    room = svc.create(ACTOR, creation())
    assert room.ready and room.expires_at is None and room.stage is not None
    assert list(stages.stages.values()) == [room.stage_name]
    assert [e.type for e in repository.events] == ["room.created"]


def test_a_crash_after_the_stage_leaves_an_expiring_item_that_releases_it() -> None:
    svc, _, repository, stages, _ = services()
    repository.fail_save = True
    # The clean-up delete fails too (the process is gone): only the expiry is left.
    repository.delete = lambda *args: (_ for _ in ()).throw(RuntimeError("gone"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        svc.create(ACTOR, creation())
    (pending,) = repository.items.values()
    assert pending.state is rooms.RoomState.PROVISIONING and pending.stage is None
    assert pending.expires_at == NOW + rooms.PROVISIONING_TTL
    assert svc.list(ACTOR, RoomQuery(), PageRequest()).items_total == 0
    with pytest.raises(NotFound):
        svc.get(ACTOR, pending.room_id)
    assert repository.events == []
    # DynamoDB's TTL removes the item; the stream consumer releases the stage by its name.
    assert svc.release(pending) == 1 and stages.stages == {}
    assert svc.release(pending) == 0


def test_a_failed_create_gives_up_its_pending_item_at_once() -> None:
    svc, _, repository, stages, _ = services()
    stages.fail_create = True
    with pytest.raises(StageUnavailable):
        svc.create(ACTOR, creation())
    assert repository.items == {} and stages.stages == {} and repository.events == []


def test_a_token_past_its_expiry_is_refused_as_expired() -> None:
    svc, tokens, _, _, clock = services()
    room = svc.create(ACTOR, creation())
    minted = tokens.mint(
        ACTOR,
        room.room_id,
        TokenRequest.model_validate({"userRef": "u", "name": "U", "role": "participant", "ttl": 600}),
    )
    clock.now = NOW + timedelta(minutes=11)
    with pytest.raises(JoinTokenExpired):
        tokens.join(JoinRequest(token=minted.jwt))


def test_a_join_records_the_seat_and_sizes_the_media_token() -> None:
    svc, tokens, _, stages, clock = services()
    room = svc.create(ACTOR, creation(duration=90))
    minted = tokens.mint(
        ACTOR, room.room_id, TokenRequest.model_validate({"userRef": "u", "name": "U", "role": "viewer"})
    )
    clock.now = NOW + timedelta(minutes=5)
    admission = tokens.join(JoinRequest(token=minted.jwt))
    assert admission.capabilities == frozenset({Capability.SUBSCRIBE})
    assert stages.tokens == [("u", 90, frozenset({Capability.SUBSCRIBE}))]
    held = tokens.sessions
    assert isinstance(held, FakeSessions)
    (session,) = held.live.values()
    assert list(session.attendance) == [admission.participant_id] and admission.session_id == session.session_id
    started, joined = held.events
    assert started.payload()["sessionId"] == session.session_id
    assert joined.payload()["participantId"] == admission.participant_id and joined.payload()["role"] == "viewer"
    assert joined.payload()["sessionId"] == session.session_id


def test_a_deleted_room_revokes_its_tokens() -> None:
    svc, tokens, _, _, _ = services()
    room = svc.create(ACTOR, creation())
    minted = tokens.mint(
        ACTOR, room.room_id, TokenRequest.model_validate({"userRef": "u", "name": "U", "role": "participant"})
    )
    svc.delete(ACTOR, room.room_id)
    with pytest.raises(JoinTokenRevoked):
        tokens.join(JoinRequest(token=minted.jwt))


def test_removing_a_participant_disconnects_it_and_is_audited() -> None:
    svc, _, _, stages, _ = services()
    room = svc.create(ACTOR, creation())
    stages.connected = {"p1"}
    svc.remove_participant(ACTOR, room.room_id, "p1")
    assert stages.connected == set()
    audit_log = svc.audit_log()
    assert isinstance(audit_log, FakeAuditLog)
    assert [(e.action, e.detail) for e in audit_log.events] == [("room.participant.remove", "p1")]
    with pytest.raises(NotFound):
        svc.remove_participant(ACTOR, room.room_id, "p1")


# -- sessions ------------------------------------------------------------------------------------


def token_for(tokens: JoinTokenService, room_id: str, user_ref: str, role: str = "participant") -> str:
    request = TokenRequest.model_validate({"userRef": user_ref, "name": user_ref, "role": role})
    return tokens.mint(ACTOR, room_id, request).jwt


def test_two_joins_racing_for_the_last_seat_admit_one() -> None:
    svc, tokens, _, _, stages, _ = all_services()
    room = svc.create(ACTOR, creation(mode="p2p"))
    first = tokens.join(JoinRequest(token=token_for(tokens, room.room_id, "a")))
    stages.connected = {first.participant_id}
    held = tokens.sessions
    assert isinstance(held, FakeSessions)
    late, early = token_for(tokens, room.room_id, "b"), token_for(tokens, room.room_id, "c")
    won: list[str] = []
    # c's join lands between b's read of the session (one seat left) and b's write.
    held.before_save.append(lambda: won.append(tokens.join(JoinRequest(token=early)).claims.user_ref))
    with pytest.raises(RoomFull):
        tokens.join(JoinRequest(token=late))
    assert won == ["c"]
    (session,) = held.live.values()
    assert sorted(a.user_ref for a in session.attendance.values()) == ["a", "c"]


def joined_pair() -> tuple[SessionService, FakeStages, FakeSessions, FakeTimers, Clock, Room, list[str]]:
    svc, tokens, sessions_svc, _, stages, clock = all_services()
    room = svc.create(ACTOR, creation(duration=30))
    ids_ = [tokens.join(JoinRequest(token=token_for(tokens, room.room_id, u))).participant_id for u in ("a", "b")]
    stages.connected = set(ids_)
    stages.sightings = {pid: Sighting(pid, True, NOW + timedelta(seconds=1), "st-1") for pid in ids_}
    held, timers = sessions_svc.repository, sessions_svc.timers()
    assert isinstance(held, FakeSessions) and isinstance(timers, FakeTimers)
    held.events.clear()
    return sessions_svc, stages, held, timers, clock, room, ids_


def test_the_poll_loop_keeps_one_timer_whatever_is_duplicated() -> None:
    svc, _, held, timers, clock, room, _ = joined_pair()
    (session,) = held.live.values()
    clock.now = NOW + timedelta(seconds=5)
    svc.on_started(ACTOR.project_id, room.room_id, session.session_id)
    svc.on_started(ACTOR.project_id, room.room_id, session.session_id)  # the event, delivered twice
    assert timers.armed == [(session.session_id, 1, 10)]
    svc.poll(ACTOR.project_id, room.room_id, session.session_id, 1)
    svc.poll(ACTOR.project_id, room.room_id, session.session_id, 1)
    assert [t[1] for t in timers.armed] == [1, 2]
    assert held.events == []


def test_leaves_are_published_once_and_the_last_ends_the_session_with_its_records() -> None:
    svc, stages, held, timers, clock, room, (a, b) = joined_pair()
    (session,) = held.live.values()
    stages.sightings[a] = Sighting(a, False, NOW + timedelta(seconds=1), "st-1")
    stages.plane_events = [PlaneEvent(a, "LEFT", NOW + timedelta(seconds=21))]
    clock.now = NOW + timedelta(seconds=25)
    svc.poll(ACTOR.project_id, room.room_id, None, None)
    svc.poll(ACTOR.project_id, room.room_id, None, None)
    assert [(e.type, e.payload()["participantId"]) for e in held.events] == [("room.participant.left", a)]
    stages.sightings[b] = Sighting(b, False, NOW + timedelta(seconds=1), "st-1")
    stages.plane_events.append(PlaneEvent(b, "LEFT", NOW + timedelta(seconds=41)))
    clock.now = NOW + timedelta(seconds=45)
    svc.poll(ACTOR.project_id, room.room_id, session.session_id, 0)
    assert [e.type for e in held.events[1:]] == ["room.participant.left", "room.session.ended", "room.cdr.ready"]
    assert held.events[2].payload()["reason"] == "empty" and held.events[3].payload()["participants"] == 2
    assert timers.armed == [] and held.live == {}
    ended = svc.get(ACTOR, session.session_id)
    assert ended.ended_at == NOW + timedelta(seconds=41)
    rows = svc.records(ACTOR, session.session_id, PageRequest()).items
    assert sorted((r.participant_id, r.duration_seconds, r.leave_reason) for r in rows) == sorted(
        [(a, 20, LeaveReason.LEFT), (b, 40, LeaveReason.LEFT)]
    )
    period = svc.records_between(ACTOR, NOW, NOW + timedelta(minutes=1), PageRequest())
    assert period.items_total == 2
    assert svc.records_between(ACTOR, NOW + timedelta(minutes=1), NOW + timedelta(hours=1), PageRequest()).items == []
    # Late polls and events after the end change nothing.
    assert svc.poll(ACTOR.project_id, room.room_id, session.session_id, 1) is None
    assert len(held.events) == 4


def test_the_duration_limit_disconnects_everyone_and_ends_the_session() -> None:
    svc, stages, held, _, clock, room, _ = joined_pair()
    clock.now = NOW + timedelta(minutes=30)
    svc.poll(ACTOR.project_id, room.room_id, None, None)
    assert stages.connected == set()
    assert [e.payload().get("reason") for e in held.events] == [
        "session-ended",
        "session-ended",
        "duration-limit",
        None,
    ]


def test_a_deleted_rooms_session_ends_at_its_next_poll() -> None:
    svc, _, held, _, clock, room, _ = joined_pair()
    rooms_svc = RoomService(FakeRooms(), FakeStages, clock, FakeAuditLog)
    svc.rooms = rooms_svc.find  # the room is gone
    svc.poll(ACTOR.project_id, room.room_id, None, None)
    assert [e.type for e in held.events][-2:] == ["room.session.ended", "room.cdr.ready"]
    assert held.events[-2].payload()["reason"] == "room-deleted"


def test_a_stage_update_polls_its_room_and_marks_the_publish() -> None:
    svc, stages, held, _, clock, room, (a, _) = joined_pair()
    assert room.stage is not None
    stages.rooms[room.stage.arn] = (ACTOR.project_id, room.room_id)
    clock.now = NOW + timedelta(seconds=3)
    svc.on_stage_update(room.stage.arn, {"event_name": "Participant Published", "participant_id": a}, NOW)
    svc.on_stage_update("arn:aws:ivs:us-east-1:123456789012:stage/notours", {"event_name": "x"}, NOW)
    (session,) = held.live.values()
    assert session.attendance[a].publishing and session.attendance[a].connected_at == NOW + timedelta(seconds=1)
    with pytest.raises(NotFound):
        svc.get(replace(ACTOR, principal=replace(ACTOR.principal, project_id=ids.new_id("pr"))), session.session_id)


def test_a_removal_is_recorded_at_once_and_no_later_report_changes_its_reason() -> None:
    svc, _, sessions_svc, _, stages, clock = all_services()
    svc.on_removed = sessions_svc.removed
    room = svc.create(ACTOR, creation())
    tokens = JoinTokenService(svc.find, FakeTokens(), sessions_svc.repository, lambda: stages, clock, "videoplane")
    ids_ = [tokens.join(JoinRequest(token=token_for(tokens, room.room_id, u))).participant_id for u in ("a", "b")]
    stages.connected = set(ids_)
    held = sessions_svc.repository
    assert isinstance(held, FakeSessions)
    held.events.clear()
    clock.now = NOW + timedelta(seconds=9)
    svc.remove_participant(ACTOR, room.room_id, ids_[0])
    stages.sightings = {ids_[0]: Sighting(ids_[0], False, NOW, "st-1"), ids_[1]: Sighting(ids_[1], True, NOW, "st-1")}
    stages.plane_events = [PlaneEvent(ids_[0], "LEFT", NOW + timedelta(seconds=9))]
    sessions_svc.poll(ACTOR.project_id, room.room_id, None, None)
    assert [(e.type, e.payload()["reason"]) for e in held.events] == [("room.participant.left", "removed")]
    (session,) = held.live.values()
    assert session.attendance[ids_[0]].leave_reason is LeaveReason.REMOVED


def test_the_poll_timer_is_a_delayed_message_to_the_room_events_queue() -> None:
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/videoplane-room-events"
    body = timer_message("pr1", "ro1", "rs1", 3)
    params: dict[str, Any] = {"QueueUrl": url, "MessageBody": body, "DelaySeconds": 10}
    assert strict_model.findings("sqs", "SendMessage", params) == []
    with Stubber(client) as stubber:
        stubber.add_response("send_message", {"MessageId": "m1"}, params)
        SqsSessionTimers(client, url).arm("pr1", "ro1", "rs1", 3, 9.2)
        stubber.add_response("send_message", {"MessageId": "m2"}, {**params, "DelaySeconds": 0})
        SqsSessionTimers(client, url).arm("pr1", "ro1", "rs1", 3, -4)  # the duration limit already passed
        stubber.add_client_error("send_message", "AWS.SimpleQueueService.NonExistentQueue", http_status_code=400)
        with pytest.raises(RepositoryUnavailable):
            SqsSessionTimers(client, url).arm("pr1", "ro1", "rs1", 3, 10)
        stubber.assert_no_pending_responses()
    assert parse_timer(json.loads(body)) == ("pr1", "ro1", "rs1", 3)
    assert parse_timer({"detail-type": "IVS Stage Update"}) is None
