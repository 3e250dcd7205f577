"""What the rooms services need from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.core.domain.audit import AuditEvent
    from chalicelib.core.domain.events import DomainEvent
    from chalicelib.rooms.domain.rooms import Room, Stage
    from chalicelib.rooms.domain.tokens import Capability, Join, JoinToken


class RoomRepository(Protocol):
    def get(self, project_id: str, room_id: str) -> Room | None: ...
    def list_all(self, project_id: str) -> list[Room]: ...
    def reserve(self, room: Room) -> None:
        """Stores a provisioning room (create-only); it expires unless activated."""
        ...

    def save(self, room: Room, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        """The room, its audit entry and its events, in one transaction."""
        ...

    def delete(
        self, room: Room, expected_version: int, audit: AuditEvent | None, events: Sequence[DomainEvent]
    ) -> None: ...


class JoinTokenRepository(Protocol):
    def add(self, token: JoinToken, audit: AuditEvent) -> None: ...
    def get(self, project_id: str, room_id: str, token_id: str) -> JoinToken | None: ...
    def of_user(self, project_id: str, room_id: str, user_ref: str) -> list[JoinToken]: ...
    def revoke(self, token: JoinToken, audit: AuditEvent) -> bool:
        """Deletes the token's record; False when it was already gone."""
        ...

    def use_once(self, token: JoinToken, now: datetime) -> bool:
        """Marks a single-use token used; False when it already was."""
        ...


class JoinLog(Protocol):
    """Who exchanged a token for a seat, and when (sessions and call records build on it)."""

    def record(self, join: Join, events: Sequence[DomainEvent]) -> None:
        """The join and its events, in one transaction."""
        ...

    def since(self, project_id: str, room_id: str, moment: datetime) -> list[Join]: ...


class Stages(Protocol):
    """The real-time plane's control API (IVS real-time): one stage per room."""

    def create_stage(self, name: str, tags: dict[str, str]) -> Stage: ...
    def delete_stages(self, name: str, arn: str | None) -> int:
        """Deletes the stage with this ARN, or every stage with this name (0 when none is left)."""
        ...

    def presence(self, stage_arn: str) -> tuple[Stage, set[str]]:
        """The stage as it is now (its endpoints), and the ids of the participants connected to its
        active session (none without one)."""
        ...

    def disconnect(self, stage_arn: str, participant_id: str, reason: str) -> bool:
        """Removes a connected participant; False when it is not connected (or unknown)."""
        ...

    def participant_token(
        self,
        stage_arn: str,
        user_id: str,
        minutes: int,
        capabilities: frozenset[Capability],
        attributes: dict[str, str],
    ) -> tuple[str, str, datetime | None]:
        """(participant id, token, expiry) of a new IVS participant token."""
        ...
