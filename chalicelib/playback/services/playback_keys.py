"""Playback signing keys: create (the private half shown once), list, delete (revocation), and
the project's public JWKS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.domain import audit
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import InvalidPayload, NotFound
from chalicelib.playback.domain import playback_keys
from chalicelib.playback.domain.playback_keys import PlaybackKey
from chalicelib.playback.ports import PlaybackKeys

RESOURCE = "playback_key"


class PlaybackKeyService:
    def __init__(self, keys: PlaybackKeys, clock: Callable[[], datetime]) -> None:
        self.keys = keys
        self.clock = clock

    def create(self, actor: Actor) -> tuple[PlaybackKey, str]:
        if len(self.keys.list_all(actor.project_id)) >= playback_keys.MAX_ACTIVE_KEYS:
            raise InvalidPayload(
                detail=f"A project has at most {playback_keys.MAX_ACTIVE_KEYS} playback keys; delete one first."
            )
        now = self.clock()
        key, private_pem = playback_keys.new_key(actor.project_id, now)
        entry = audit.record(actor, "playback_key.create", RESOURCE, key.key_id, now, after=playback_keys.snapshot(key))
        self.keys.create(key, entry)
        return key, private_pem

    def list(self, actor: Actor) -> list[PlaybackKey]:
        return sorted(self.keys.list_all(actor.project_id), key=lambda k: k.key_id)

    def delete(self, actor: Actor, key_id: str) -> None:
        key = next((k for k in self.keys.list_all(actor.project_id) if k.key_id == key_id), None)
        if key is None:
            raise NotFound(name="playbackKeyId")
        entry = audit.record(
            actor, "playback_key.delete", RESOURCE, key_id, self.clock(), before=playback_keys.snapshot(key)
        )
        self.keys.delete(key, entry)

    def jwks(self, project_id: str) -> dict[str, Any]:
        return playback_keys.jwks(self.keys.list_all(project_id))
