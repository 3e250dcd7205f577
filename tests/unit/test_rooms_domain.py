"""Rooms: the pure rules (settings by mode, the schedule window, role capabilities, seats, token
claims and the media token's lifetime)."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from chalicelib.core import ids
from chalicelib.core.clock import epoch_seconds
from chalicelib.rooms.domain import rooms, tokens
from chalicelib.rooms.domain.errors import (
    CapabilityNotGranted,
    JoinTokenExpired,
    JoinTokenInvalid,
    RoomFull,
    WaitingForModerator,
)
from chalicelib.rooms.domain.rooms import Mode, RoomCreation, RoomSettings, RoomUpdate
from chalicelib.rooms.domain.tokens import BOTH, WATCH, Capability, Role, TokenRequest

NOW = datetime(2026, 3, 4, 10, 0, 0, tzinfo=UTC)
PROJECT = ids.new_id("pr")
KEY = b"k" * 32
ISSUER = "videoplane"


def creation(**settings: Any) -> RoomCreation:
    return RoomCreation.model_validate({"name": "Room", "settings": settings})


def settings(**fields: Any) -> rooms.RoomSettings:
    return creation(**fields).settings.settings()


# -- settings by mode ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "seats"), [("group", (1, 11)), ("lecture", (1, 100)), ("p2p", (0, 2))], ids=["group", "lecture", "p2p"]
)
def test_seats_default_by_mode(mode: str, seats: tuple[int, int]) -> None:
    made = settings(mode=mode)
    assert (made.max_moderators, made.max_participants) == seats


@pytest.mark.parametrize(
    "fields",
    [
        {"mode": "group", "maxModerators": 2, "maxParticipants": 11},  # 13 publishers
        {"mode": "lecture", "maxModerators": 13},
        {"mode": "lecture", "maxParticipants": 2001},
        {"mode": "p2p", "maxModerators": 1, "maxParticipants": 2},
        {"mode": "group", "maxModerators": 0, "maxParticipants": 0},
        {"mode": "group", "lifetime": "scheduled", "duration": 30},
        {"mode": "group", "startsAt": "2026-03-04T10:00:00+00:00"},
        {"mode": "group", "lifetime": "scheduled", "startsAt": "2026-03-04T10:00:00", "duration": 30},
        {"mode": "p2p", "waitForModerator": True},
        {"mode": "group", "duration": 0},
        {"mode": "meeting"},
    ],
)
def test_settings_that_no_room_can_have_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        creation(**fields)


def test_a_lecture_seats_twelve_publishing_moderators_and_two_thousand_watchers() -> None:
    made = settings(mode="lecture", maxModerators=12, maxParticipants=2000)
    assert (made.max_moderators, made.max_participants) == (12, 2000)


def test_the_mode_cannot_change_but_may_be_repeated() -> None:
    room = rooms.new_room(PROJECT, creation(mode="group"), NOW)
    with pytest.raises(rooms.ModeChange):
        rooms.apply_update(room, RoomUpdate.model_validate({"settings": {"mode": "lecture"}}), NOW)
    same = rooms.apply_update(room, RoomUpdate.model_validate({"settings": {"mode": "group", "quality": "HD"}}), NOW)
    assert same.settings.mode is Mode.GROUP and same.settings.quality == "HD" and same.version == room.version + 1
    assert rooms.changed_fields(room, same) == ["settings.quality"]


def test_an_update_is_checked_against_the_mode() -> None:
    room = rooms.new_room(PROJECT, creation(mode="p2p"), NOW)
    with pytest.raises(ValidationError):
        rooms.apply_update(room, RoomUpdate.model_validate({"settings": {"maxParticipants": 3}}), NOW)


def test_stage_names_fit_ivs_and_name_the_room() -> None:
    room = rooms.new_room(PROJECT, creation(mode="group"), NOW)
    assert room.stage_name == f"videoplane-{PROJECT}-{room.room_id}" and len(room.stage_name) <= 128
    assert room.expires_at == NOW + rooms.PROVISIONING_TTL and not room.ready
    assert len(room.token_key()) == rooms.TOKEN_SECRET_BYTES


def test_the_audit_snapshot_never_holds_the_token_secret() -> None:
    room = rooms.new_room(PROJECT, creation(mode="group"), NOW)
    assert "token_secret" not in rooms.snapshot(room) and room.token_secret not in str(rooms.snapshot(room))


# -- the schedule -------------------------------------------------------------------------------


def test_a_scheduled_room_opens_fifteen_minutes_early_and_closes_after_its_duration() -> None:
    made = settings(mode="group", lifetime="scheduled", startsAt="2026-03-04T11:00:00+00:00", duration=45)
    opens, closes = datetime(2026, 3, 4, 10, 45, tzinfo=UTC), datetime(2026, 3, 4, 11, 45, tzinfo=UTC)
    assert rooms.window(made) == (opens, closes)
    assert not rooms.open_at(made, opens - timedelta(seconds=1))
    assert rooms.open_at(made, opens) and rooms.open_at(made, closes - timedelta(seconds=1))
    assert not rooms.open_at(made, closes)


@pytest.mark.parametrize("lifetime", ["permanent", "adhoc"])
def test_unscheduled_rooms_are_always_open(lifetime: str) -> None:
    made = settings(mode="group", lifetime=lifetime, duration=30)
    assert rooms.window(made) is None and rooms.open_at(made, NOW) and rooms.closes_at(made) is None


# -- roles and capabilities ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "role", "expected"),
    [
        (Mode.GROUP, Role.MODERATOR, BOTH),
        (Mode.GROUP, Role.PARTICIPANT, BOTH),
        (Mode.GROUP, Role.VIEWER, WATCH),
        (Mode.LECTURE, Role.MODERATOR, BOTH),
        (Mode.LECTURE, Role.PARTICIPANT, WATCH),
        (Mode.LECTURE, Role.VIEWER, WATCH),
        (Mode.P2P, Role.PARTICIPANT, BOTH),
        (Mode.P2P, Role.MODERATOR, BOTH),
    ],
)
def test_capabilities_come_from_the_role_and_the_mode(mode: Mode, role: Role, expected: frozenset[Capability]) -> None:
    assert tokens.capabilities(mode, role) == expected


def test_a_client_may_ask_for_less_but_not_more() -> None:
    assert tokens.granted(Mode.GROUP, Role.PARTICIPANT, [Capability.SUBSCRIBE]) == WATCH
    assert tokens.granted(Mode.GROUP, Role.PARTICIPANT, None) == BOTH
    with pytest.raises(CapabilityNotGranted, match="lecture room cannot publish"):
        tokens.granted(Mode.LECTURE, Role.PARTICIPANT, [Capability.PUBLISH])


def test_roles_a_room_has_no_seat_for_are_refused_at_minting() -> None:
    p2p = settings(mode="p2p")
    assert tokens.role_problem(Mode.P2P, Role.VIEWER, p2p) is not None
    assert tokens.role_problem(Mode.P2P, Role.MODERATOR, p2p) == "The room has no moderator seat."
    assert tokens.role_problem(Mode.P2P, Role.PARTICIPANT, p2p) is None


# -- seats --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    user_ref: str
    role: Role


def seat_refusal(made: RoomSettings, role: Role, user_ref: str, seats: list[Seat]) -> Exception | None:
    """The caps stated over the list of who holds a seat: the reference `seat_claim`'s counts must
    agree with. The user's own seats do not count (a rejoin after a reload takes the same seat)."""
    others = {seat.user_ref: seat.role for seat in seats if seat.user_ref != user_ref}
    moderators = sum(1 for r in others.values() if r is Role.MODERATOR)
    if role is Role.MODERATOR:
        return RoomFull() if moderators >= made.max_moderators else None
    if len(others) - moderators >= made.max_participants:
        return RoomFull()
    if made.wait_for_moderator and moderators == 0:
        return WaitingForModerator()
    return None


def test_caps_are_per_role_and_a_user_keeps_their_own_seat() -> None:
    made = settings(mode="group", maxModerators=1, maxParticipants=2)
    taken = {"moderator": 1, "participant": 2}
    assert isinstance(tokens.seat_claim(made, Role.PARTICIPANT, taken, set()), RoomFull)
    assert isinstance(tokens.seat_claim(made, Role.MODERATOR, taken, set()), RoomFull)
    assert not refused(tokens.seat_claim(made, Role.PARTICIPANT, taken, {"participant"}))  # a rejoin
    assert not refused(tokens.seat_claim(made, Role.MODERATOR, taken, {"moderator"}))


def refused(claim: tokens.SeatClaim | Exception) -> bool:
    return isinstance(claim, Exception)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("wait", [False, True])
def test_seats_by_count_refuse_exactly_as_seats_by_list(role: Role, wait: bool) -> None:
    """Every way two moderators' and three others' seats can be held, joined by a newcomer or a
    holder: the counts the store keeps give the same answer as the list of seats."""
    made = settings(mode="group", maxModerators=2, maxParticipants=3, waitForModerator=wait)
    held = {"m1": Role.MODERATOR, "m2": Role.MODERATOR, "p1": Role.PARTICIPANT, "p2": Role.VIEWER, "p3": Role.VIEWER}
    for n in range(len(held) + 1):
        for users in itertools.combinations(held, n):
            seats = [Seat(u, held[u]) for u in users]
            taken = {
                "moderator": sum(1 for s in seats if s.role is Role.MODERATOR),
                "participant": sum(1 for s in seats if s.role is not Role.MODERATOR),
            }
            for user in ("new", *users):
                own = {tokens.seat_group(held[user])} if user in users else set()
                claim = tokens.seat_claim(made, role, taken, own)
                expected = seat_refusal(made, role, user, seats)
                assert type(claim) is type(expected) if expected is not None else not refused(claim)


def test_a_claim_carries_the_conditions_of_its_write() -> None:
    made = settings(mode="lecture", maxModerators=2, maxParticipants=2000, waitForModerator=True)
    claim = tokens.seat_claim(made, Role.VIEWER, {"moderator": 1, "participant": 1999}, set())
    assert claim == tokens.SeatClaim("participant", holder=False, below=2000, moderators_above=0)
    full = tokens.seat_claim(made, Role.VIEWER, {"moderator": 1, "participant": 2000}, set())
    assert isinstance(full, RoomFull)
    rejoin = tokens.seat_claim(made, Role.VIEWER, {"moderator": 1, "participant": 2000}, {"participant"})
    assert rejoin == tokens.SeatClaim("participant", holder=True, below=2000, moderators_above=0)
    # A moderator rejoining as a viewer does not count as the moderator it waits for.
    assert isinstance(tokens.seat_claim(made, Role.VIEWER, {"moderator": 1}, {"moderator"}), WaitingForModerator)
    assert tokens.seat_claim(made, Role.MODERATOR, {}, set()) == tokens.SeatClaim("moderator", False, 2)


def test_a_room_waiting_for_its_moderator_holds_participants_back() -> None:
    made = settings(mode="group", waitForModerator=True)
    refusal = tokens.seat_claim(made, Role.PARTICIPANT, {}, set())
    assert isinstance(refusal, WaitingForModerator) and refusal.headers == {"Retry-After": "5"}
    assert not refused(tokens.seat_claim(made, Role.PARTICIPANT, {"moderator": 1}, set()))
    assert not refused(tokens.seat_claim(made, Role.MODERATOR, {}, set()))


# -- token claims -------------------------------------------------------------------------------


def minted(**fields: Any) -> tokens.JoinToken:
    request = TokenRequest.model_validate({"userRef": "u1", "name": "Ada", "role": "moderator", **fields})
    return tokens.new_join_token(PROJECT, ids.new_id("ro"), request, NOW)


def test_a_token_carries_room_user_role_and_expiry() -> None:
    token = minted(ttl=3600, singleUse=True)
    encoded = tokens.encode(token, KEY, ISSUER)
    assert tokens.address(encoded) == tokens.Addressed(PROJECT, token.room_id)
    claims = tokens.verify(encoded, KEY, ISSUER, NOW)
    assert (claims.user_ref, claims.role, claims.token_id, claims.single_use) == (
        "u1",
        Role.MODERATOR,
        token.token_id,
        True,
    )
    assert claims.expires_at == epoch_seconds(NOW + timedelta(hours=1))
    assert jwt.get_unverified_header(encoded)["kid"] == token.room_id


def test_the_default_lifetime_is_a_day() -> None:
    assert minted().expires_at == NOW + timedelta(hours=24)


def test_an_expired_token_is_refused_as_expired() -> None:
    token = minted(ttl=60)
    encoded = tokens.encode(token, KEY, ISSUER)
    assert tokens.verify(encoded, KEY, ISSUER, NOW + timedelta(seconds=60))  # within the leeway
    with pytest.raises(JoinTokenExpired):
        tokens.verify(encoded, KEY, ISSUER, NOW + timedelta(seconds=60 + tokens.LEEWAY_SECONDS))


def test_another_rooms_key_or_issuer_does_not_verify() -> None:
    encoded = tokens.encode(minted(), KEY, ISSUER)
    with pytest.raises(JoinTokenInvalid):
        tokens.verify(encoded, b"x" * 32, ISSUER, NOW)
    with pytest.raises(JoinTokenInvalid):
        tokens.verify(encoded, KEY, "someone-else", NOW)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda claims: {**claims, "role": "admin"},
        lambda claims: {**claims, "jti": "jt1"},
        lambda claims: {**claims, "pid": "P#x#ROOM"},
        lambda claims: {k: v for k, v in claims.items() if k != "once"},
    ],
    ids=["unknown role", "malformed token id", "malformed project", "missing single-use flag"],
)
def test_claims_of_the_wrong_shape_are_refused_even_when_signed(mangle: Any) -> None:
    token = minted()
    claims = jwt.decode(tokens.encode(token, KEY, ISSUER), options={"verify_signature": False})
    signed = jwt.encode(mangle(claims), KEY, algorithm="HS256", headers={"kid": token.room_id})
    with pytest.raises(JoinTokenInvalid):
        tokens.address(signed)
        tokens.verify(signed, KEY, ISSUER, NOW)


def test_an_unsigned_token_is_refused_before_any_lookup() -> None:
    claims = jwt.decode(tokens.encode(minted(), KEY, ISSUER), options={"verify_signature": False})
    header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"x"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(JoinTokenInvalid):
        tokens.address(f"{header}.{body}.")


# -- the media token's lifetime ------------------------------------------------------------------


def test_the_media_token_ends_with_the_first_of_token_window_and_duration() -> None:
    in_a_day = epoch_seconds(NOW + timedelta(days=1))
    assert tokens.media_minutes(in_a_day, NOW, None, None) == 1440
    assert tokens.media_minutes(in_a_day, NOW, NOW + timedelta(minutes=25), None) == 25
    assert tokens.media_minutes(in_a_day, NOW, None, 45) == 45
    assert tokens.media_minutes(epoch_seconds(NOW + timedelta(seconds=30)), NOW, None, None) == 1  # IVS's minimum
    assert tokens.media_minutes(epoch_seconds(NOW + timedelta(days=30)), NOW, None, None) == 20160  # and maximum


def test_nulls_are_refused_except_where_they_clear_something() -> None:
    update = RoomUpdate.model_validate(
        {"name": None, "ownerRef": None, "settings": {"quality": None, "startsAt": None, "maxModerators": None}}
    )
    assert sorted(update.null_violations()) == ["name", "settings[maxModerators]", "settings[quality]"]
    assert RoomUpdate.model_validate({"ownerRef": None, "settings": {"duration": None}}).null_violations() == []
