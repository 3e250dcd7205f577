"""Rooms and join tokens: the services against in-memory fakes of their ports (a stage is never leaked
whatever fails between creating it and saving the room; a join is refused for each reason apart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core import ids
from chalicelib.core.domain.access import Actor, Principal, Role
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.errors import Conflict, NotFound
from chalicelib.core.domain.events import DomainEvent
from chalicelib.core.domain.pagination import PageRequest
from chalicelib.core.ports import AuditLog
from chalicelib.rooms.domain import rooms
from chalicelib.rooms.domain.errors import JoinTokenExpired, JoinTokenRevoked, StageUnavailable
from chalicelib.rooms.domain.rooms import Room, RoomCreation, RoomQuery, Stage
from chalicelib.rooms.domain.tokens import Capability, Join, JoinRequest, JoinToken, TokenRequest
from chalicelib.rooms.ports import JoinLog, JoinTokenRepository, RoomRepository, Stages
from chalicelib.rooms.services.rooms import RoomService
from chalicelib.rooms.services.tokens import JoinTokenService

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


class FakeJoins:
    def __init__(self) -> None:
        self.joins: list[Join] = []
        self.events: list[DomainEvent] = []

    def record(self, join: Join, events: Sequence[DomainEvent]) -> None:
        self.joins.append(join)
        self.events.extend(events)

    def since(self, project_id: str, room_id: str, moment: datetime) -> list[Join]:
        return [j for j in self.joins if (j.project_id, j.room_id) == (project_id, room_id) and j.joined_at >= moment]


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
    repository, stages, clock = FakeRooms(), FakeStages(), Clock()
    # The fakes are the ports (no type: ignore): mypy checks them against the protocols.
    typed_rooms: RoomRepository = repository
    typed_stages: Stages = stages
    typed_tokens: JoinTokenRepository = FakeTokens()
    typed_joins: JoinLog = FakeJoins()
    typed_audit: AuditLog = FakeAuditLog()
    room_service = RoomService(typed_rooms, lambda: typed_stages, clock, lambda: typed_audit)
    token_service = JoinTokenService(
        room_service.find, typed_tokens, typed_joins, lambda: typed_stages, clock, "videoplane"
    )
    return room_service, token_service, repository, stages, clock


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
    joins = tokens.joins
    assert isinstance(joins, FakeJoins)
    assert [j.participant_id for j in joins.joins] == [admission.participant_id]
    (joined,) = joins.events
    assert joined.payload()["participantId"] == admission.participant_id and joined.payload()["role"] == "viewer"


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
