"""Player use-cases (api.video PlayerThemesApi): create, read, list, update, delete, and the logo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.core import ids
from chalicelib.core.domain import audit, events, formdata, images
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import Conflict, InvalidInput, NotFound, Problem
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.core.ports import MediaFiles
from chalicelib.core.services import stored_images
from chalicelib.playback.domain import players
from chalicelib.playback.domain.players import (
    AllowedOrigins,
    Logo,
    Player,
    PlayerCreation,
    PlayerQuery,
    PlayerUpdate,
)
from chalicelib.playback.ports import PlayerRepository

# Changes merge fields, so re-reading and re-applying after a lost race is safe.
UPDATE_ATTEMPTS = 3
RESOURCE = "player"


class PlayerService:
    def __init__(self, repository: PlayerRepository, files: MediaFiles, clock: Callable[[], datetime]) -> None:
        self.repository = repository
        self.files = files
        self.clock = clock

    def create(self, actor: Actor, payload: PlayerCreation) -> Player:
        player = players.new_player(actor.project_id, payload, self.clock())
        entry = audit.record(
            actor, "player.create", RESOURCE, player.player_id, self.clock(), after=players.snapshot(player)
        )
        created = events.PlayerCreated(**self._envelope(actor), playerId=player.player_id, name=player.name)
        self.repository.create(player, entry, created)
        return player

    def get(self, actor: Actor, player_id: str) -> Player:
        player = self.repository.get(actor.project_id, player_id)
        if player is None:
            raise NotFound(name="playerId")
        return player

    def exists(self, project_id: str, player_id: str) -> bool:
        return self.repository.get(project_id, player_id) is not None

    def list(self, actor: Actor, query: PlayerQuery, page: PageRequest) -> Page[Player]:
        return paginate(players.select(self.repository.list_all(actor.project_id), query), page)

    def update(self, actor: Actor, player_id: str, payload: PlayerUpdate) -> Player:
        return self._change(actor, player_id, "player.update", lambda p: players.apply_update(p, payload, self.clock()))

    def set_allowed_origins(self, actor: Actor, player_id: str, payload: AllowedOrigins) -> Player:
        """Videoplane extension: the sites that may open the player's private videos."""
        return self._change(
            actor,
            player_id,
            "player.origins.update",
            lambda p: players.with_allowed_origins(p, payload.origins, self.clock()),
        )

    def upload_logo(self, actor: Actor, player_id: str, data: bytes, link: str | None) -> Player:
        """The image is checked by its bytes (format and pixel size from its header), never by
        its name. It is stored under a new name before the player points at it; the replaced one
        is deleted after."""
        self.get(actor, player_id)
        image = images.require_image(data, players.LOGO_FORMATS, players.LOGO_EXTENSIONS)
        problem = players.logo_problem(image, len(data))
        if problem is not None:
            raise formdata.file_problem("uploaded-file-invalid-file", problem)
        link = _logo_link(link)
        key = players.logo_key(player_id, image, ids.random_base62(12))
        logo = Logo(
            key=key, content_type=image.format.content_type, width=image.width, height=image.height,
            size=len(data), link=link,
        )  # fmt: skip
        return stored_images.replace(
            self.files,
            key,
            data,
            logo.content_type,
            current_key=lambda: _key(self.get(actor, player_id).logo),
            point_at=lambda: self._change(
                actor, player_id, "player.logo.upload", lambda p: players.with_logo(p, logo, self.clock())
            ),
        )

    def delete_logo(self, actor: Actor, player_id: str) -> None:
        before = self.get(actor, player_id).logo
        if before is None:
            return
        self._change(actor, player_id, "player.logo.delete", lambda p: players.without_logo(p, self.clock()))
        stored_images.forget(self.files, before.key)

    def delete(self, actor: Actor, player_id: str) -> None:
        current = self.get(actor, player_id)
        entry = audit.record(
            actor, "player.delete", RESOURCE, player_id, self.clock(), before=players.snapshot(current)
        )
        deleted = events.PlayerDeleted(**self._envelope(actor), playerId=player_id)
        self.repository.delete(current, current.version, entry, deleted)
        if current.logo is not None:
            stored_images.forget(self.files, current.logo.key)

    def _change(self, actor: Actor, player_id: str, action: str, change: Callable[[Player], Player]) -> Player:
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, player_id)
            updated = change(current)
            entry = audit.record(
                actor, action, RESOURCE, player_id, self.clock(),
                before=players.snapshot(current), after=players.snapshot(updated),
            )  # fmt: skip
            changed = players.changed_fields(current, updated)
            emitted = (
                events.PlayerUpdated(**self._envelope(actor), playerId=player_id, changed=changed) if changed else None
            )
            try:
                self.repository.save(updated, current.version, entry, emitted)
                return updated
            except Conflict:
                continue
        raise Conflict(name="playerId")

    def _envelope(self, actor: Actor) -> dict[str, str]:
        return events.envelope(actor.project_id, self.clock())


def _logo_link(value: str | None) -> str | None:
    """The click-through URL: http(s) only, since it becomes an `href` on every embed page."""
    if value is None or value == "":
        return None
    if not players.is_logo_link(value):
        raise InvalidInput([Problem("invalid-attribute", "The link must be an http or https URL.", "link")])
    return value


def _key(image: Logo | None) -> str | None:
    return None if image is None else image.key
