"""Room use-cases: create (with its IVS stage), read, list, update, delete; and releasing the stage of
a room that is gone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import ValidationError

from chalicelib.core.domain import audit, events
from chalicelib.core.domain.access import Actor, Principal
from chalicelib.core.domain.access import Role as AccessRole
from chalicelib.core.domain.errors import Conflict, InvalidInput, NotFound, Problem
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.core.observability import logger
from chalicelib.core.ports import AuditLog
from chalicelib.rooms.domain import rooms
from chalicelib.rooms.domain.errors import ModeIsFixed
from chalicelib.rooms.domain.rooms import Room, RoomCreation, RoomQuery, RoomUpdate
from chalicelib.rooms.ports import RoomRepository, Stages

# A PATCH merges fields, so re-reading and re-applying after a lost race is safe.
UPDATE_ATTEMPTS = 3
RESOURCE = "room"
REMOVED_REASON = "Removed from the room by a moderator."
# Who the audit log names for what the rooms context does on its own (an ad hoc room's deletion).
SYSTEM_KEY = "system:rooms"


class RoomService:
    def __init__(
        self,
        repository: RoomRepository,
        stages: Callable[[], Stages],
        clock: Callable[[], datetime],
        audit_log: Callable[[], AuditLog],
        on_removed: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.repository = repository
        # Told (project, room, participant) after a removal: the session records it (SessionService.removed).
        self.on_removed = on_removed
        self.audit_log = audit_log
        # Built on first use: reads and lists never touch IVS.
        self.stages = stages
        self.clock = clock

    def create(self, actor: Actor, payload: RoomCreation) -> Room:
        """1. store the room `provisioning` under its stage's name, expiring in an hour; 2. create
        the stage; 3. store it `ready` with its audit entry and event. A crash after 1 or 2 leaves
        an expiring item whose removal deletes the stage by name (release)."""
        pending = rooms.new_room(actor.project_id, payload, self.clock())
        self.repository.reserve(pending)
        tags = rooms.stage_tags(actor.project_id, pending.room_id)
        try:
            ready = rooms.provisioned(pending, self.stages().create_stage(pending.stage_name, tags))
            entry = audit.record(
                actor, "room.create", RESOURCE, ready.room_id, self.clock(), after=rooms.snapshot(ready)
            )
            created = events.RoomCreated(
                **self._envelope(actor), roomId=ready.room_id, name=ready.name, mode=ready.settings.mode.value
            )
            self.repository.save(ready, pending.version, entry, [created])
        except Exception:
            self._give_up(pending)
            raise
        return ready

    def _give_up(self, pending: Room) -> None:
        """Best effort, now; the item's expiry does the same later if this fails too."""
        try:
            self.repository.delete(pending, pending.version, None, [])
        except Exception:  # noqa: BLE001 - the expiry is the safety net
            logger.warning("provisioning room left to expire", extra={"roomId": pending.room_id})

    def get(self, actor: Actor, room_id: str) -> Room:
        return self.find(actor.project_id, room_id)

    def find(self, project_id: str, room_id: str) -> Room:
        room = self.repository.get(project_id, room_id)
        if room is None or not room.ready:
            raise NotFound(name="roomId")
        return room

    def list(self, actor: Actor, query: RoomQuery, page: PageRequest) -> Page[Room]:
        return paginate(rooms.select(self.repository.list_all(actor.project_id), query), page)

    def update(self, actor: Actor, room_id: str, payload: RoomUpdate) -> Room:
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, room_id)
            updated = _updated(current, payload, self.clock())
            entry = audit.record(
                actor, "room.update", RESOURCE, room_id, self.clock(),
                before=rooms.snapshot(current), after=rooms.snapshot(updated),
            )  # fmt: skip
            changed = rooms.changed_fields(current, updated)
            emitted = [events.RoomUpdated(**self._envelope(actor), roomId=room_id, changed=changed)] if changed else []
            try:
                self.repository.save(updated, current.version, entry, emitted)
                return updated
            except Conflict:
                continue
        raise Conflict(name="roomId")

    def delete(self, actor: Actor, room_id: str) -> None:
        """The item goes with its audit entry and event; its removal releases the stage."""
        current = self.get(actor, room_id)
        entry = audit.record(actor, "room.delete", RESOURCE, room_id, self.clock(), before=rooms.snapshot(current))
        deleted = events.RoomDeleted(**self._envelope(actor), roomId=room_id)
        self.repository.delete(current, current.version, entry, [deleted])

    def remove_participant(self, actor: Actor, room_id: str, participant_id: str) -> None:
        """Disconnects a participant from the room's stage (a moderator's call, made by the tenant's
        backend). Its token still admits it again until revoked."""
        room = self.get(actor, room_id)
        assert room.stage is not None
        if not self.stages().disconnect(room.stage.arn, participant_id, REMOVED_REASON):
            raise NotFound(name="participantId")
        self.audit_log().append(
            audit.record(actor, "room.participant.remove", RESOURCE, room_id, self.clock(), detail=participant_id)
        )
        if self.on_removed is not None:
            self.on_removed(actor.project_id, room_id, participant_id)

    def close_adhoc(self, project_id: str, room_id: str, session_id: str) -> bool:
        """An ad hoc room is gone after its session (`room.session.ended` came back from the bus):
        deleted as by `DELETE /rooms/{roomId}`, audited as the rooms context's own act. False when
        there is nothing to do (not ad hoc, or already gone: a redelivered event)."""
        room = self.repository.get(project_id, room_id)
        if room is None or not room.ready or room.settings.lifetime is not rooms.Lifetime.ADHOC:
            return False
        self.delete(Actor(Principal(project_id, SYSTEM_KEY, AccessRole.OPERATOR), session_id), room_id)
        return True

    def release(self, room: Room) -> int:
        """Deletes the stage of a room whose item left the table (deleted, or expired while
        provisioning). Idempotent: a stage already gone counts as released."""
        return self.stages().delete_stages(room.stage_name, room.stage.arn if room.stage else None)

    def _envelope(self, actor: Actor) -> dict[str, str]:
        return events.envelope(actor.project_id, self.clock())


def _updated(current: Room, payload: RoomUpdate, now: datetime) -> Room:
    try:
        return rooms.apply_update(current, payload, now)
    except rooms.ModeChange as error:
        raise ModeIsFixed(name="settings[mode]") from error
    except ValidationError as error:
        reason = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput([Problem("invalid-attribute", "An attribute is invalid.", "settings", reason)]) from error
