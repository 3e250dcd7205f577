"""Rotation of the playback session keys: the secret (read by the API) and the edge's copy (read
by the CloudFront Function) move together. The edge learns a key before the secret names it, and
forgets it only after the secret has dropped it, so the edge never refuses a session the API
signed (docs/playback.md, "Session keys")."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chalicelib.playback.domain.access import SessionKey
from chalicelib.playback.domain.edge import encode_secret, session_key_entry
from chalicelib.playback.domain.session_keys import SessionKeySet, added_and_dropped, rotate
from chalicelib.playback.ports import EdgeStore

SECRET_BYTES = 32


class SessionKeySecret(Protocol):
    def load(self, refresh: bool = False) -> SessionKeySet: ...
    def store(self, keyset: SessionKeySet) -> None: ...


class SessionKeyService:
    def __init__(
        self,
        secret: SessionKeySecret,
        edge: EdgeStore | None,
        clock: Callable[[], datetime],
        new_secret: Callable[[], bytes] = lambda: secrets.token_bytes(SECRET_BYTES),
    ) -> None:
        self.secret = secret
        self.edge = edge
        self.clock = clock
        self.new_secret = new_secret

    def verifying(self) -> tuple[SessionKey, ...]:
        """The keys sessions are signed (the first) and checked with, as cached."""
        return self.secret.load().verifying()

    def rotate(self) -> SessionKeySet:
        current = self.secret.load(refresh=True)
        rotated = rotate(current, self.clock(), self.new_secret)
        added, dropped = added_and_dropped(current, rotated)
        if self.edge is not None:
            for key in added:
                self.edge.put(session_key_entry(key.kid), encode_secret(key.secret))
        self.secret.store(rotated)
        if self.edge is not None:
            for kid in dropped:
                self.edge.delete(session_key_entry(kid))
        return rotated

    def ensure(self) -> SessionKeySet:
        """A first key set when there is none (a new stack); else the set as it is."""
        current = self.secret.load(refresh=True)
        return current if current.signing is not None else self.rotate()
