"""The keys that sign playback sessions (access.py), their rotation and its overlap. Pure rules; the
secret holding them and the edge's copy are adapters'.

A key is `pending`, then `signing`, then `retired`:

- a rotation promotes the pending key to signing, retires the signing one, and adds a new pending
  key. A key is pending for one rotation period before it signs: by then the edge (a CloudFront
  KeyValueStore, propagated within seconds) and every function's cached copy of the secret know it,
  so no session is ever signed with a key a checker does not have;
- a retired key still verifies until the last session it may have signed has expired: it retired
  at `retired_at`, functions may have kept signing with it for their cache time after that, and a
  session lasts SESSION_TTL. RETENTION covers both; the rotation after that drops it.

Every key that is not dropped verifies; the signing one comes first (access.session_keys' order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.playback.domain.access import SESSION_TTL, SessionKey
from chalicelib.playback.domain.edge import encode_secret

# The rotation runs daily (consumers.session_keys); a function keeps the key set for 5 minutes.
ROTATION_PERIOD = timedelta(days=1)
KEY_CACHE = timedelta(minutes=5)
RETENTION = SESSION_TTL + KEY_CACHE + timedelta(minutes=5)


class KeyState(StrEnum):
    PENDING = "pending"
    SIGNING = "signing"
    RETIRED = "retired"


@dataclass(frozen=True)
class StoredKey:
    key: SessionKey
    state: KeyState
    created_at: datetime
    retired_at: datetime | None = None


@dataclass(frozen=True)
class SessionKeySet:
    keys: tuple[StoredKey, ...] = ()

    @property
    def signing(self) -> StoredKey | None:
        return next((stored for stored in self.keys if stored.state is KeyState.SIGNING), None)

    def verifying(self) -> tuple[SessionKey, ...]:
        """Every key that verifies, the signing one first (none: private videos cannot play)."""
        signing = self.signing
        if signing is None:
            return ()
        return (signing.key, *(stored.key for stored in self.keys if stored is not signing))

    def kids(self) -> set[str]:
        return {stored.key.kid for stored in self.keys}

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": [
                {
                    "kid": stored.key.kid,
                    "secret": encode_secret(stored.key.secret),
                    "state": stored.state.value,
                    "createdAt": stored.created_at.isoformat(),
                    **({"retiredAt": stored.retired_at.isoformat()} if stored.retired_at else {}),
                }
                for stored in self.keys
            ]
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SessionKeySet:
        """The set as the secret holds it; the empty set the stack creates (other fields ignored)."""
        from chalicelib.playback.domain.access import session_keys

        keys = []
        for item in value.get("keys", []):
            (key,) = session_keys(f"{item['kid']}:{item['secret']}")
            retired = item.get("retiredAt")
            keys.append(
                StoredKey(
                    key=key,
                    state=KeyState(item["state"]),
                    created_at=datetime.fromisoformat(item["createdAt"]),
                    retired_at=datetime.fromisoformat(retired) if retired else None,
                )
            )
        return cls(tuple(keys))


def rotate(current: SessionKeySet, now: datetime, new_secret: Callable[[], bytes]) -> SessionKeySet:
    """The next key set: the pending key signs (a new key at once for the very first rotation), the
    signing key retires, a new key is pending, and retired keys past RETENTION are dropped."""
    taken = current.kids()

    def fresh() -> SessionKey:
        kid = new_kid(taken, now)
        taken.add(kid)
        return SessionKey(kid, new_secret())

    pending = next((stored for stored in current.keys if stored.state is KeyState.PENDING), None)
    kept: list[StoredKey] = []
    for stored in current.keys:
        if stored.state is KeyState.SIGNING:
            kept.append(replace(stored, state=KeyState.RETIRED, retired_at=now))
        elif stored.state is KeyState.RETIRED and not _expired(stored, now):
            kept.append(stored)
    signing = (
        replace(pending, state=KeyState.SIGNING) if pending is not None else StoredKey(fresh(), KeyState.SIGNING, now)
    )
    return SessionKeySet((signing, StoredKey(fresh(), KeyState.PENDING, now), *kept))


def added_and_dropped(before: SessionKeySet, after: SessionKeySet) -> tuple[list[SessionKey], list[str]]:
    """The keys `after` has that `before` lacks, and the kids it dropped."""
    added = [stored.key for stored in after.keys if stored.key.kid not in before.kids()]
    return added, sorted(before.kids() - after.kids())


def _expired(stored: StoredKey, now: datetime) -> bool:
    return stored.retired_at is not None and stored.retired_at + RETENTION <= now


def new_kid(existing: Iterable[str], now: datetime) -> str:
    """`s<yyyymmddhhmm>`, unique in the set (a suffix when two rotations share a minute)."""
    base = f"s{now:%Y%m%d%H%M}"
    taken = set(existing)
    kid, n = base, 1
    while kid in taken:
        kid, n = f"{base}{n}", n + 1
    return kid
