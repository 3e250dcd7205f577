"""What the playback services need from the outside world."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.core.domain.audit import AuditEvent
    from chalicelib.core.domain.events import DomainEvent
    from chalicelib.playback.domain.players import Player


class PlayerRepository(Protocol):
    def get(self, project_id: str, player_id: str) -> Player | None: ...
    def list_all(self, project_id: str) -> list[Player]: ...
    def create(self, player: Player, audit: AuditEvent, event: DomainEvent) -> None: ...
    def save(self, player: Player, expected_version: int, audit: AuditEvent, event: DomainEvent | None) -> None: ...
    def delete(self, player: Player, expected_version: int, audit: AuditEvent, event: DomainEvent) -> None: ...
