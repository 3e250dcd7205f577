"""Join-token use-cases: mint, revoke (one, or all of a user's), and the public join that exchanges a
token for media-plane credentials."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.core.clock import epoch_seconds
from chalicelib.core.domain import audit, events
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import Conflict, InvalidInput, NotFound, Problem
from chalicelib.core.domain.events import DomainEvent
from chalicelib.rooms.domain import quality, rooms, sessions, tokens
from chalicelib.rooms.domain.errors import JoinRefused, JoinTokenRevoked, JoinTokenUsed, RoomClosed
from chalicelib.rooms.domain.rooms import Room, Stage
from chalicelib.rooms.domain.sessions import Session
from chalicelib.rooms.domain.tokens import Capability, JoinRequest, JoinToken, TokenRequest
from chalicelib.rooms.ports import JoinTokenRepository, SessionRepository, Stages

RESOURCE = "roomToken"
# Joins racing for seats re-read the session and try again this many times.
ADMIT_ATTEMPTS = 5


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
    session_id: str
    # Posts this participant's quality samples (POST /join/stats) until the media credentials expire.
    stats_token: str = ""


class JoinTokenService:
    def __init__(
        self,
        rooms_: Callable[[str, str], Room],
        repository: JoinTokenRepository,
        sessions_: SessionRepository,
        stages: Callable[[], Stages],
        clock: Callable[[], datetime],
        issuer: str,
    ) -> None:
        # The ready room of a project, or NotFound (RoomService.find).
        self.rooms = rooms_
        self.repository = repository
        self.sessions = sessions_
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
        stage, _ = stages.presence(room.stage.arn)
        media: tuple[str, str, datetime | None] | None = None
        for _ in range(ADMIT_ATTEMPTS):
            # The seat is taken by the join's own write, on the condition that the count read here
            # still leaves one: of two joins racing for the last seat, the second re-reads, and
            # finds the room full. Only the session's summary is read, whatever its size.
            active = self.sessions.summary(room.project_id, room.room_id)
            own = (
                set() if active is None else self.sessions.holdings(room.project_id, active.session_id, claims.user_ref)
            )
            claim = tokens.seat_claim(room.settings, claims.role, {} if active is None else active.taken, own)
            if isinstance(claim, JoinRefused):
                raise claim
            if media is None:
                if claims.single_use and not self.repository.use_once(stored, now):
                    raise JoinTokenUsed()
                media = self._media(room, claims, granted, now)
            attendance = sessions.Attendance(
                participant_id=media[0], token_id=claims.token_id, user_ref=claims.user_ref,
                name=claims.name, role=claims.role, joined_at=now,
            )  # fmt: skip
            session, emitted = _admitted(room, active, attendance, now)
            try:
                if active is None:
                    self.sessions.save(session, None, emitted)
                else:
                    self.sessions.admit(active, attendance, claim, emitted)
            except Conflict:
                continue
            participant_id, token, expires_at = media
            stats = quality.StatsClaims(
                room.project_id, room.room_id, session.session_id, participant_id,
                epoch_seconds(expires_at) if expires_at else claims.expires_at,
            )  # fmt: skip
            return Admission(
                room, stage, claims, participant_id, token, granted, expires_at, session.session_id,
                quality.encode_stats(stats, room.token_key(), self.issuer, now),
            )  # fmt: skip
        raise Conflict(name="token", detail="The room's seats changed too fast; retry the join.")

    def _media(
        self, room: Room, claims: tokens.Claims, granted: frozenset[Capability], now: datetime
    ) -> tuple[str, str, datetime | None]:
        """(participant id, IVS participant token, expiry)."""
        assert room.stage is not None
        minutes = tokens.media_minutes(claims.expires_at, now, rooms.closes_at(room.settings), room.settings.duration)
        attributes = {"role": claims.role.value, "name": claims.name[:256], "roomId": room.room_id}
        return self.stages().participant_token(room.stage.arn, claims.user_ref, minutes, granted, attributes)

    def _revocation(self, actor: Actor, token: JoinToken) -> audit.AuditEvent:
        return audit.record(
            actor, "room.token.revoke", RESOURCE, token.token_id, self.clock(),
            before={"roomId": token.room_id, "userRef": token.user_ref, "role": token.role.value},
        )  # fmt: skip


def _admitted(
    room: Room, active: Session | None, attendance: sessions.Attendance, now: datetime
) -> tuple[Session, list[DomainEvent]]:
    """The room's session with this join (a new one if none is active), and what to publish."""
    envelope = events.envelope(room.project_id, now)
    emitted: list[DomainEvent] = []
    if active is None:
        session = sessions.start(room.project_id, room.room_id, sessions.new_session_id(), attendance)
        emitted.append(events.RoomSessionStarted(**envelope, roomId=room.room_id, sessionId=session.session_id))
        envelope = events.envelope(room.project_id, now)
    else:
        session = active
    emitted.append(
        events.RoomParticipantJoined(
            **envelope,
            roomId=room.room_id,
            sessionId=session.session_id,
            participantId=attendance.participant_id,
            tokenId=attendance.token_id,
            userRef=attendance.user_ref,
            role=attendance.role.value,
        )
    )
    return session, emitted


def _schedule_detail(room: Room) -> str:
    bounds = rooms.window(room.settings)
    assert bounds is not None
    return f"The room admits joins from {bounds[0].isoformat()} until {bounds[1].isoformat()}."
