"""Join tokens and the rules of a join: roles, capabilities, seats, token claims.

A join token is an HS256 JWT signed with its room's own key (`Room.token_secret`): it names the
project, room, user, role and expiry, and is worth nothing until exchanged at the public join
endpoint, which checks it against the room as it is then (schedule, seats, revocation) and answers
with an IVS participant token whose capabilities come from the role and the room's mode.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, StringConstraints

from chalicelib.core import ids
from chalicelib.core.clock import epoch_seconds
from chalicelib.rooms.domain.errors import (
    CapabilityNotGranted,
    JoinRefused,
    JoinTokenExpired,
    JoinTokenInvalid,
    RoomFull,
    WaitingForModerator,
)
from chalicelib.rooms.domain.rooms import ROOM_ID_PREFIX, Mode, RoomSettings

TOKEN_ID_PREFIX = "jt"
ALGORITHM = "HS256"
AUDIENCE = "videoplane-room-join"
LEEWAY_SECONDS = 30
DEFAULT_TTL_SECONDS = 24 * 3600  # as EnableX
MAX_TTL_SECONDS = 14 * 24 * 3600  # IVS: a participant token lasts at most 20,160 minutes
# A join holds its seat this long before IVS lists the participant as connected (or never does).
SEAT_GRACE = timedelta(seconds=60)
# IVS participant tokens: 1 to 20,160 minutes.
MIN_MEDIA_MINUTES, MAX_MEDIA_MINUTES = 1, 20160
MAX_JOIN_TOKEN_CHARS = 4096


class Role(StrEnum):
    MODERATOR = "moderator"
    PARTICIPANT = "participant"
    VIEWER = "viewer"


class Capability(StrEnum):
    """On the wire in lower case; IVS's are the upper-case names."""

    PUBLISH = "publish"
    SUBSCRIBE = "subscribe"

    def ivs(self) -> str:
        return self.value.upper()


BOTH = frozenset({Capability.PUBLISH, Capability.SUBSCRIBE})
WATCH = frozenset({Capability.SUBSCRIBE})


def capabilities(mode: Mode, role: Role) -> frozenset[Capability]:
    """Moderators publish and subscribe; participants publish in group and p2p rooms and watch in
    lectures (the floor is asked for, later); viewers watch."""
    if role is Role.MODERATOR:
        return BOTH
    if role is Role.PARTICIPANT:
        return WATCH if mode is Mode.LECTURE else BOTH
    return WATCH


def role_problem(mode: Mode, role: Role, settings: RoomSettings) -> str | None:
    """Why a token for this role cannot be minted in this room, or None."""
    if mode is Mode.P2P and role is Role.VIEWER:
        return "A p2p room has two peers and no viewers."
    if role is Role.MODERATOR and settings.max_moderators == 0:
        return "The room has no moderator seat."
    if role is not Role.MODERATOR and settings.max_participants == 0:
        return "The room has no seat for participants or viewers."
    return None


UserRef = Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]


class TokenRequest(BaseModel):
    """`POST /rooms/{roomId}/tokens` body."""

    model_config = ConfigDict(populate_by_name=True)
    user_ref: UserRef = Field(alias="userRef")
    name: Annotated[StrictStr, StringConstraints(min_length=1, max_length=256)]
    role: Role
    ttl: Annotated[StrictInt, Field(ge=60, le=MAX_TTL_SECONDS)] = Field(
        default=DEFAULT_TTL_SECONDS, description="Seconds until the token expires"
    )
    single_use: StrictBool = Field(default=False, alias="singleUse", description="Refused after its first join")


class JoinToken(BaseModel):
    """A minted token as stored: revoking it deletes the record, a join reads it."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    room_id: str
    token_id: str
    user_ref: str
    name: str
    role: Role
    single_use: bool = False
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


def new_join_token(project_id: str, room_id: str, request: TokenRequest, now: datetime) -> JoinToken:
    return JoinToken(
        project_id=project_id,
        room_id=room_id,
        token_id=ids.new_id(TOKEN_ID_PREFIX),
        user_ref=request.user_ref,
        name=request.name,
        role=request.role,
        single_use=request.single_use,
        issued_at=now,
        expires_at=now + timedelta(seconds=request.ttl),
    )


def encode(token: JoinToken, key: bytes, issuer: str) -> str:
    claims = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": token.user_ref,
        "jti": token.token_id,
        "pid": token.project_id,
        "rid": token.room_id,
        "role": token.role.value,
        "name": token.name,
        "once": token.single_use,
        "iat": epoch_seconds(token.issued_at),
        "nbf": epoch_seconds(token.issued_at),
        "exp": epoch_seconds(token.expires_at),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": token.room_id})


@dataclass(frozen=True)
class Addressed:
    """Where a token says it belongs, read before its signature can be checked (the key is the
    room's): nothing here is trusted until `verify` passes."""

    project_id: str
    room_id: str


def address(token: str) -> Addressed:
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise JoinTokenInvalid() from exc
    project_id, room_id = claims.get("pid"), claims.get("rid")
    if header.get("alg") != ALGORITHM or header.get("kid") != room_id:
        raise JoinTokenInvalid()
    if not (isinstance(project_id, str) and ids.is_id(project_id, "pr")):
        raise JoinTokenInvalid()
    if not (isinstance(room_id, str) and ids.is_id(room_id, ROOM_ID_PREFIX)):
        raise JoinTokenInvalid()
    return Addressed(project_id, room_id)


@dataclass(frozen=True)
class Claims:
    project_id: str
    room_id: str
    token_id: str
    user_ref: str
    name: str
    role: Role
    single_use: bool
    expires_at: int


def verify(token: str, key: bytes, issuer: str, now: datetime) -> Claims:
    """The claims of a token signed with `key`; expired and malformed tokens are refused apart."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "jti", "aud", "iss"], "verify_exp": False},
        )
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise JoinTokenInvalid() from exc
    parsed = _claims(claims)
    # Checked here, against the service's clock, rather than by PyJWT against the machine's.
    if parsed.expires_at + LEEWAY_SECONDS <= epoch_seconds(now):
        raise JoinTokenExpired()
    return parsed


def _claims(claims: dict[str, Any]) -> Claims:
    role, token_id, exp = claims.get("role"), claims.get("jti"), claims.get("exp")
    if not (
        isinstance(role, str)
        and role in Role.__members__.values()
        and isinstance(token_id, str)
        and ids.is_id(token_id, TOKEN_ID_PREFIX)
        and isinstance(exp, int)
        and isinstance(claims.get("sub"), str)
        and isinstance(claims.get("name"), str)
        and isinstance(claims.get("once"), bool)
    ):
        raise JoinTokenInvalid()
    return Claims(
        project_id=claims["pid"],
        room_id=claims["rid"],
        token_id=token_id,
        user_ref=claims["sub"],
        name=claims["name"],
        role=Role(role),
        single_use=claims["once"],
        expires_at=exp,
    )


# -- the join ------------------------------------------------------------------------------------


class JoinRequest(BaseModel):
    """`POST /rooms/join` body: the token, and optionally the capabilities the client wants (by
    default all its role has)."""

    model_config = ConfigDict(populate_by_name=True)
    token: Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_JOIN_TOKEN_CHARS)]
    capabilities: Annotated[list[Capability], Field(max_length=2)] | None = None


def granted(mode: Mode, role: Role, asked: Iterable[Capability] | None) -> frozenset[Capability]:
    allowed = capabilities(mode, role)
    if asked is None:
        return allowed
    wanted = frozenset(asked)
    if not wanted <= allowed:
        missing = ", ".join(sorted(c.value for c in wanted - allowed))
        raise CapabilityNotGranted(detail=f"A {role.value} in a {mode.value} room cannot {missing}.")
    return wanted


MODERATOR_SEATS, PARTICIPANT_SEATS = "moderator", "participant"


def seat_group(role: Role) -> str:
    """The cap a role counts against: moderators, and everyone else (participants, viewers)."""
    return MODERATOR_SEATS if role is Role.MODERATOR else PARTICIPANT_SEATS


@dataclass(frozen=True)
class SeatClaim:
    """How a join takes its seat, as conditions the store checks in the join's own write (so two
    joins racing for the last seat cannot both win). `holder`: the user already holds a seat of
    this group (a rejoin after a reload), which the join shares without counting; otherwise the
    group's count must still be below `below`. `moderators_above`: the moderator count must be
    above it (`waitForModerator`)."""

    group: str
    holder: bool
    below: int
    moderators_above: int | None = None


def seat_claim(
    settings: RoomSettings, role: Role, taken: Mapping[str, int], own: Collection[str]
) -> SeatClaim | JoinRefused:
    """Why this user cannot take a seat now, or the conditions of taking it, from the counts the store
    keeps: `taken` seats per group (`seat_group`), `own` the groups in which this user already holds
    one (a rejoin after a reload takes the same seat, so the user's own seats do not count)."""
    group = seat_group(role)
    mine = {g: 1 if g in own else 0 for g in (MODERATOR_SEATS, PARTICIPANT_SEATS)}
    moderators = taken.get(MODERATOR_SEATS, 0) - mine[MODERATOR_SEATS]
    others = taken.get(PARTICIPANT_SEATS, 0) - mine[PARTICIPANT_SEATS]
    if role is Role.MODERATOR:
        if moderators >= settings.max_moderators:
            return RoomFull(detail=f"All {settings.max_moderators} moderator seats are taken.")
        return SeatClaim(group, group in own, settings.max_moderators)
    if others >= settings.max_participants:
        return RoomFull(detail=f"All {settings.max_participants} participant seats are taken.")
    if settings.wait_for_moderator and moderators == 0:
        return WaitingForModerator(headers={"Retry-After": "5"})
    waiting = mine[MODERATOR_SEATS] if settings.wait_for_moderator else None
    return SeatClaim(group, group in own, settings.max_participants, waiting)


def media_minutes(token_expires_at: int, now: datetime, room_closes_at: datetime | None, limit: int | None) -> int:
    """How long the IVS participant token lasts: no longer than the join token, the scheduled
    room's window or the room's duration limit."""
    seconds = token_expires_at - epoch_seconds(now)
    if room_closes_at is not None:
        seconds = min(seconds, epoch_seconds(room_closes_at) - epoch_seconds(now))
    if limit is not None:
        seconds = min(seconds, limit * 60)
    return max(MIN_MEDIA_MINUTES, min(MAX_MEDIA_MINUTES, seconds // 60))
