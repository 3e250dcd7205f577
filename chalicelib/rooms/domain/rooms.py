"""The room aggregate: payloads, entity and the pure rules that create and change it.

One room is one IVS real-time stage. As with live streams' channels, a room is first stored
`provisioning` under its stage's deterministic name with an expiry, then `ready` once the stage
exists; a provisioning item that never becomes ready expires and its stage is released by name
(docs/rooms.md, "Creating a stage without leaking one").

Modes and IVS's 12 publishers per stage (docs/rooms.md, "Modes on IVS"): in `group` everyone
publishes, so moderators + participants fit in 12; in `lecture` only moderators publish (at most 12)
and up to 2,000 others watch; `p2p` is exactly two peers.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, StringConstraints, model_validator

from chalicelib.core import ids
from chalicelib.core.domain.pagination import SortOrder

ROOM_ID_PREFIX = "ro"
STAGE_NAME_PREFIX = "videoplane"
# A provisioning item outlives any request that could still be creating its stage.
PROVISIONING_TTL = timedelta(hours=1)
# IVS real-time: publishers per stage.
MAX_PUBLISHERS = 12
MAX_LECTURE_AUDIENCE = 2000
P2P_PEERS = 2
# A scheduled room opens this long before its start.
EARLY_ENTRY = timedelta(minutes=15)
MAX_DURATION_MINUTES = 24 * 60  # IVS: publish and subscribe last at most 24 h per participant
TOKEN_SECRET_BYTES = 32

Name = Annotated[StrictStr, StringConstraints(min_length=1, max_length=256, pattern=r"\S")]
OwnerRef = Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]
Minutes = Annotated[StrictInt, Field(ge=1, le=MAX_DURATION_MINUTES)]
Seats = Annotated[StrictInt, Field(ge=0, le=MAX_LECTURE_AUDIENCE)]


class Mode(StrEnum):
    GROUP = "group"
    LECTURE = "lecture"
    P2P = "p2p"


class Lifetime(StrEnum):
    PERMANENT = "permanent"
    SCHEDULED = "scheduled"
    ADHOC = "adhoc"


Quality = Literal["HD", "SD", "LD"]
# (moderators, participants) when a creation leaves them out.
DEFAULT_SEATS = {Mode.GROUP: (1, 11), Mode.LECTURE: (1, 100), Mode.P2P: (0, 2)}


class RoomSettings(BaseModel):
    """What a room is and admits. Stored as validated; `mode` never changes."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    mode: Mode
    lifetime: Lifetime = Lifetime.PERMANENT
    starts_at: datetime | None = Field(default=None, alias="startsAt")
    duration: Minutes | None = Field(default=None, description="Minutes: a session's limit; a scheduled room's window")
    max_moderators: Seats = Field(alias="maxModerators")
    max_participants: Seats = Field(alias="maxParticipants", description="Every non-moderator: participants, viewers")
    auto_recording: bool = Field(default=False, alias="autoRecording")
    quality: Quality = "SD"
    wait_for_moderator: bool = Field(default=False, alias="waitForModerator")

    @model_validator(mode="after")
    def _consistent(self) -> RoomSettings:
        problem = settings_problem(self)
        if problem:
            raise ValueError(problem)
        return self


def settings_problem(s: RoomSettings) -> str | None:
    """Why these settings cannot be a room's, or None."""
    if s.lifetime is Lifetime.SCHEDULED and (s.starts_at is None or s.duration is None):
        return "A scheduled room needs `startsAt` and `duration`."
    if s.lifetime is not Lifetime.SCHEDULED and s.starts_at is not None:
        return "Only a scheduled room has `startsAt`."
    if s.starts_at is not None and s.starts_at.tzinfo is None:
        return "`startsAt` needs a time zone offset."
    seats = s.max_moderators + s.max_participants
    if seats < 1:
        return "A room needs at least one seat."
    if s.mode is Mode.GROUP and seats > MAX_PUBLISHERS:
        return f"In group mode everyone publishes: maxModerators + maxParticipants is at most {MAX_PUBLISHERS}."
    if s.mode is Mode.LECTURE and s.max_moderators > MAX_PUBLISHERS:
        return f"In lecture mode moderators publish: maxModerators is at most {MAX_PUBLISHERS}."
    if s.mode is Mode.P2P and seats != P2P_PEERS:
        return "A p2p room has exactly two peers: maxModerators + maxParticipants is 2."
    if s.wait_for_moderator and s.max_moderators == 0:
        return "`waitForModerator` needs at least one moderator seat."
    return None


class SettingsInput(BaseModel):
    """`settings` in a creation: the seats default by mode."""

    model_config = ConfigDict(populate_by_name=True)
    mode: Mode
    lifetime: Lifetime = Lifetime.PERMANENT
    starts_at: datetime | None = Field(default=None, alias="startsAt")
    duration: Minutes | None = None
    max_moderators: Seats | None = Field(default=None, alias="maxModerators")
    max_participants: Seats | None = Field(default=None, alias="maxParticipants")
    auto_recording: StrictBool = Field(default=False, alias="autoRecording")
    quality: Quality = "SD"
    wait_for_moderator: StrictBool = Field(default=False, alias="waitForModerator")

    @model_validator(mode="after")
    def _consistent(self) -> SettingsInput:
        problem = settings_problem(RoomSettings.model_construct(**self._fields()))
        if problem:
            raise ValueError(problem)
        return self

    def _fields(self) -> dict[str, Any]:
        moderators, participants = DEFAULT_SEATS[self.mode]
        fields = self.model_dump()
        fields["max_moderators"] = moderators if self.max_moderators is None else self.max_moderators
        fields["max_participants"] = participants if self.max_participants is None else self.max_participants
        return fields

    def settings(self) -> RoomSettings:
        return RoomSettings(**self._fields())


class RoomCreation(BaseModel):
    """`POST /rooms` body."""

    model_config = ConfigDict(populate_by_name=True)
    name: Name
    owner_ref: OwnerRef | None = Field(default=None, alias="ownerRef")
    settings: SettingsInput


class SettingsUpdate(BaseModel):
    """`settings` in a PATCH: absent keys are left. `mode` may be repeated, never changed."""

    model_config = ConfigDict(populate_by_name=True)
    mode: Mode | None = None
    lifetime: Lifetime | None = None
    starts_at: datetime | None = Field(default=None, alias="startsAt")
    duration: Minutes | None = None
    max_moderators: Seats | None = Field(default=None, alias="maxModerators")
    max_participants: Seats | None = Field(default=None, alias="maxParticipants")
    auto_recording: StrictBool | None = Field(default=None, alias="autoRecording")
    quality: Quality | None = None
    wait_for_moderator: StrictBool | None = Field(default=None, alias="waitForModerator")

    # `null` clears these (a scheduled room's start goes with its lifetime; no duration limit).
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"starts_at", "duration"})


class RoomUpdate(BaseModel):
    """`PATCH /rooms/{roomId}` body. `ownerRef: null` clears the owner; other nulls are refused."""

    model_config = ConfigDict(populate_by_name=True)
    name: Name | None = None
    owner_ref: OwnerRef | None = Field(default=None, alias="ownerRef")
    settings: SettingsUpdate | None = None

    def null_violations(self) -> list[str]:
        """Wire names of the attributes sent as null that cannot be."""
        found: list[str] = [n for n in ("name", "settings") if n in self.model_fields_set and getattr(self, n) is None]
        if self.settings is not None:
            fields = SettingsUpdate.model_fields
            found.extend(
                f"settings[{fields[name].alias or name}]"
                for name in self.settings.model_fields_set - SettingsUpdate.NULLABLE
                if getattr(self.settings, name) is None
            )
        return found


class RoomState(StrEnum):
    PROVISIONING = "provisioning"
    READY = "ready"


class Stage(BaseModel):
    """The IVS real-time stage behind a room, as the adapter reads it."""

    model_config = ConfigDict(frozen=True)
    arn: str
    whip_endpoint: str = ""
    events_endpoint: str = ""
    # The devstack's WHEP-style subscribe; none on IVS (its SDK subscribes with the participant token).
    whep_endpoint: str = ""


class Room(BaseModel):
    """The stored room. Only the API layer decides its wire shape."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    room_id: str
    name: str
    owner_ref: str | None = None
    settings: RoomSettings
    state: RoomState = RoomState.PROVISIONING
    stage_name: str
    stage: Stage | None = None
    # HMAC key of this room's join tokens (base64); never leaves the table (docs/rooms.md, "Join tokens").
    token_secret: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    version: int = 1

    @property
    def ready(self) -> bool:
        return self.state is RoomState.READY and self.stage is not None

    def token_key(self) -> bytes:
        return base64.b64decode(self.token_secret)


def stage_name(project_id: str, room_id: str) -> str:
    """Deterministic, so a room's stage can be found (and released) from the room alone. IVS stage
    names allow [a-zA-Z0-9-_]{0,128}; ids are base62."""
    return f"{STAGE_NAME_PREFIX}-{project_id}-{room_id}"


# Tags on every stage, so an operator (or a sweep) can tell whose it is, and a stage's events find their room.
APP_TAG, TAG_APP, TAG_PROJECT, TAG_ROOM = "videoplane", "videoplane:app", "videoplane:projectId", "videoplane:roomId"


def stage_tags(project_id: str, room_id: str) -> dict[str, str]:
    return {TAG_APP: APP_TAG, TAG_PROJECT: project_id, TAG_ROOM: room_id}


def tagged_room(tags: dict[str, str]) -> tuple[str, str] | None:
    """(project id, room id) of a stage with this app's tags, or None."""
    if tags.get(TAG_APP) != APP_TAG or not tags.get(TAG_PROJECT) or not tags.get(TAG_ROOM):
        return None
    return tags[TAG_PROJECT], tags[TAG_ROOM]


def new_room(project_id: str, payload: RoomCreation, now: datetime) -> Room:
    room_id = ids.new_id(ROOM_ID_PREFIX)
    return Room(
        project_id=project_id,
        room_id=room_id,
        name=payload.name,
        owner_ref=payload.owner_ref,
        settings=payload.settings.settings(),
        stage_name=stage_name(project_id, room_id),
        token_secret=base64.b64encode(secrets.token_bytes(TOKEN_SECRET_BYTES)).decode(),
        created_at=now,
        updated_at=now,
        expires_at=now + PROVISIONING_TTL,
    )


def provisioned(room: Room, stage: Stage) -> Room:
    return room.model_copy(
        update={"state": RoomState.READY, "stage": stage, "expires_at": None, "version": room.version + 1}
    )


def apply_update(room: Room, payload: RoomUpdate, now: datetime) -> Room:
    """The room with the PATCH merged in (nulls already refused, see `RoomUpdate.null_violations`),
    validated whole; raises ModeChange, or pydantic's ValidationError for settings no room can have."""
    fields: dict[str, Any] = {name: getattr(payload, name) for name in payload.model_fields_set - {"settings"}}
    if payload.settings is not None:
        changes = {name: getattr(payload.settings, name) for name in payload.settings.model_fields_set}
        if changes.get("mode") not in (None, room.settings.mode):
            raise ModeChange()
        changes.pop("mode", None)
        merged = {**room.settings.model_dump(), **changes}
        if merged["lifetime"] is not Lifetime.SCHEDULED:
            merged["starts_at"] = None
        fields["settings"] = RoomSettings(**merged)
    return Room.model_validate({**dict(room), **fields, "updated_at": now, "version": room.version + 1})


class ModeChange(ValueError):
    """A PATCH asked for another mode."""


_WIRE_NAMES = {"owner_ref": "ownerRef"}


def changed_fields(before: Room, after: Room) -> list[str]:
    """Wire names of what a change really changed (`settings.<name>` for settings)."""
    changed = [_WIRE_NAMES.get(n, n) for n in ("name", "owner_ref") if getattr(before, n) != getattr(after, n)]
    old, new = before.settings.model_dump(by_alias=True), after.settings.model_dump(by_alias=True)
    changed.extend(f"settings.{name}" for name in old if old[name] != new[name])
    return changed


def snapshot(room: Room) -> dict[str, Any]:
    """The room for the audit log, without its token secret."""
    return room.model_dump(mode="json", exclude={"project_id", "token_secret"})


# -- the schedule --------------------------------------------------------------------------------


def window(settings: RoomSettings) -> tuple[datetime, datetime] | None:
    """When a scheduled room admits joins (from 15 minutes before its start to its end); None for
    rooms that are always open."""
    if settings.lifetime is not Lifetime.SCHEDULED or settings.starts_at is None or settings.duration is None:
        return None
    return settings.starts_at - EARLY_ENTRY, settings.starts_at + timedelta(minutes=settings.duration)


def open_at(settings: RoomSettings, now: datetime) -> bool:
    bounds = window(settings)
    return bounds is None or bounds[0] <= now < bounds[1]


def closes_at(settings: RoomSettings) -> datetime | None:
    bounds = window(settings)
    return None if bounds is None else bounds[1]


# -- listing -------------------------------------------------------------------------------------


class SortField(StrEnum):
    NAME = "name"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"


class RoomQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    owner_ref: Annotated[str, StringConstraints(max_length=128)] | None = Field(default=None, alias="ownerRef")
    mode: Mode | None = None
    sort_by: SortField = Field(default=SortField.CREATED_AT, alias="sortBy")
    sort_order: SortOrder = Field(default=SortOrder.ASC, alias="sortOrder")


def matches(room: Room, query: RoomQuery) -> bool:
    if not room.ready:
        return False
    if query.name is not None and query.name.casefold() not in room.name.casefold():
        return False
    if query.owner_ref is not None and room.owner_ref != query.owner_ref:
        return False
    return query.mode is None or room.settings.mode is query.mode


def select(rooms: list[Room], query: RoomQuery) -> list[Room]:
    chosen = [r for r in rooms if matches(r, query)]
    key = {
        SortField.NAME: lambda r: (r.name.casefold(), r.room_id),
        SortField.CREATED_AT: lambda r: (r.created_at, r.room_id),
        SortField.UPDATED_AT: lambda r: (r.updated_at, r.room_id),
    }[query.sort_by]
    return sorted(chosen, key=key, reverse=query.sort_order is SortOrder.DESC)
