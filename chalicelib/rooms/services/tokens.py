"""Join-token use-cases: mint, revoke (one, or all of a user's), and the public join that exchanges a
token for media-plane credentials."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.core.domain import audit, events
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.rooms.domain import rooms, tokens
from chalicelib.rooms.domain.errors import JoinTokenRevoked, JoinTokenUsed, RoomClosed
from chalicelib.rooms.domain.rooms import Room, Stage
from chalicelib.rooms.domain.tokens import Capability, Join, JoinRequest, JoinToken, TokenRequest
from chalicelib.rooms.ports import JoinLog, JoinTokenRepository, Stages

RESOURCE = "roomToken"


@dataclass(frozen=True)
class Minted:
    token: JoinToken
    jwt: str


@dataclass(frozen=True)
class Admission:
    """What a client needs to enter the room's media plane."""

    room: Room
    stage: Stage
    claims: tokens.Claims
    participant_id: str
    participant_token: str
    capabilities: frozenset[Capability]
    expires_at: datetime | None


class JoinTokenService:
    def __init__(
        self,
        rooms_: Callable[[str, str], Room],
        repository: JoinTokenRepository,
        joins: JoinLog,
        stages: Callable[[], Stages],
        clock: Callable[[], datetime],
        issuer: str,
    ) -> None:
        # The ready room of a project, or NotFound (RoomService.find).
        self.rooms = rooms_
        self.repository = repository
        self.joins = joins
        self.stages = stages
        self.clock = clock
        self.issuer = issuer

    def mint(self, actor: Actor, room_id: str, request: TokenRequest) -> Minted:
        room = self.rooms(actor.project_id, room_id)
        problem = tokens.role_problem(room.settings.mode, request.role, room.settings)
        if problem:
            raise InvalidInput([Problem("invalid-attribute", "An attribute is invalid.", "role", problem)])
        token = tokens.new_join_token(actor.project_id, room_id, request, self.clock())
        entry = audit.record(
            actor, "room.token.create", RESOURCE, token.token_id, self.clock(),
            after={"roomId": room_id, "userRef": token.user_ref, "role": token.role.value,
                   "expiresAt": token.expires_at.isoformat(), "singleUse": token.single_use},
        )  # fmt: skip
        self.repository.add(token, entry)
        return Minted(token, tokens.encode(token, room.token_key(), self.issuer))

    def revoke(self, actor: Actor, room_id: str, token_id: str) -> None:
        self.rooms(actor.project_id, room_id)
        token = self.repository.get(actor.project_id, room_id, token_id)
        if token is None or not self.repository.revoke(token, self._revocation(actor, token)):
            raise NotFound(name="tokenId")

    def revoke_user(self, actor: Actor, room_id: str, user_ref: str) -> int:
        """Every live token of the user in this room; how many were revoked."""
        self.rooms(actor.project_id, room_id)
        found = self.repository.of_user(actor.project_id, room_id, user_ref)
        return sum(1 for token in found if self.repository.revoke(token, self._revocation(actor, token)))

    def join(self, request: JoinRequest) -> Admission:
        """Checks, in order: the token's form and room, its signature and expiry, that it is not
        revoked, the room's schedule, the capabilities asked for, a seat for the role, single use;
        then asks IVS for a participant token and records the join."""
        now = self.clock()
        addressed = tokens.address(request.token)
        try:
            room = self.rooms(addressed.project_id, addressed.room_id)
        except NotFound as error:
            raise JoinTokenRevoked(detail="The room no longer exists.") from error
        claims = tokens.verify(request.token, room.token_key(), self.issuer, now)
        stored = self.repository.get(claims.project_id, claims.room_id, claims.token_id)
        if stored is None:
            raise JoinTokenRevoked()
        if not rooms.open_at(room.settings, now):
            raise RoomClosed(detail=_schedule_detail(room))
        granted = tokens.granted(room.settings.mode, claims.role, request.capabilities)
        assert room.stage is not None
        stages = self.stages()
        recent = self.joins.since(room.project_id, room.room_id, now - tokens.SEAT_LOOKBACK)
        stage, connected = stages.presence(room.stage.arn)
        taken = tokens.seats(recent, connected, now)
        refusal = tokens.seat_refusal(room.settings, claims.role, claims.user_ref, taken)
        if refusal is not None:
            raise refusal
        if claims.single_use and not self.repository.use_once(stored, now):
            raise JoinTokenUsed()
        minutes = tokens.media_minutes(claims.expires_at, now, rooms.closes_at(room.settings), room.settings.duration)
        attributes = {"role": claims.role.value, "name": claims.name[:256], "roomId": room.room_id}
        participant_id, token, expires_at = stages.participant_token(
            room.stage.arn, claims.user_ref, minutes, granted, attributes
        )
        joined = events.RoomParticipantJoined(
            **events.envelope(room.project_id, now), roomId=room.room_id, participantId=participant_id,
            tokenId=claims.token_id, userRef=claims.user_ref, role=claims.role.value,
        )  # fmt: skip
        self.joins.record(
            Join(room.project_id, room.room_id, participant_id, claims.token_id, claims.user_ref, claims.role, now),
            [joined],
        )
        return Admission(room, stage, claims, participant_id, token, granted, expires_at)

    def _revocation(self, actor: Actor, token: JoinToken) -> audit.AuditEvent:
        return audit.record(
            actor, "room.token.revoke", RESOURCE, token.token_id, self.clock(),
            before={"roomId": token.room_id, "userRef": token.user_ref, "role": token.role.value},
        )  # fmt: skip


def _schedule_detail(room: Room) -> str:
    bounds = rooms.window(room.settings)
    assert bounds is not None
    return f"The room admits joins from {bounds[0].isoformat()} until {bounds[1].isoformat()}."
