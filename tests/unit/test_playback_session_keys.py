"""Rotation of the playback session keys (chalicelib/playback/domain/session_keys.py) and the order
in which the secret and the edge's copy change (services/session_keys.py): a session signed at any
moment of a rotation keeps verifying, at the API and at the edge, until it expires."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from chalicelib.playback.domain import access
from chalicelib.playback.domain.edge import SESSION_KEY_PREFIX, encode_secret, session_key_entry
from chalicelib.playback.domain.session_keys import (
    RETENTION,
    ROTATION_PERIOD,
    KeyState,
    SessionKeySet,
    rotate,
)
from chalicelib.playback.services.session_keys import SessionKeyService

START = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
VIDEO = "vi" + "a" * 22


def fresh_secrets() -> Callable[[], bytes]:
    counter = itertools.count(1)

    def new_secret() -> bytes:
        return f"secret-{next(counter):04d}-{'x' * 20}".encode()

    return new_secret


def test_the_first_rotation_signs_at_once_and_prepares_the_next_key() -> None:
    keys = rotate(SessionKeySet(), START, fresh_secrets())
    assert [stored.state for stored in keys.keys] == [KeyState.SIGNING, KeyState.PENDING]
    assert keys.verifying()[0] == keys.keys[0].key and len(set(keys.kids())) == 2


def test_a_rotation_promotes_the_pending_key_and_retires_the_signing_one() -> None:
    first = rotate(SessionKeySet(), START, fresh_secrets())
    pending = first.keys[1].key
    second = rotate(first, START + ROTATION_PERIOD, fresh_secrets())
    assert second.signing is not None and second.signing.key == pending
    retired = [stored for stored in second.keys if stored.state is KeyState.RETIRED]
    assert [stored.key for stored in retired] == [first.keys[0].key]
    assert retired[0].retired_at == START + ROTATION_PERIOD


def test_a_session_verifies_until_it_expires_across_daily_rotations() -> None:
    """Signed with the signing key just before it retires, the session lives 24 h; the rotations
    of the following days keep its key until then (the overlap)."""
    new_secret = fresh_secrets()
    keys = rotate(SessionKeySet(), START, new_secret)
    signing = keys.verifying()[0]
    signed_at = START + ROTATION_PERIOD - timedelta(seconds=1)
    session = access.issue_session(VIDEO, signed_at, signing)
    now = START
    for _ in range(4):
        now += ROTATION_PERIOD
        keys = rotate(keys, now, new_secret)
        verifying = {key.kid: key.secret for key in keys.verifying()}
        expected = None if now < signed_at + access.SESSION_TTL else access.Denial.EXPIRED
        if signing.kid in verifying:
            assert access.check_session(session, VIDEO, now, verifying) is expected
        else:  # dropped only once every session it signed has expired
            assert now >= START + ROTATION_PERIOD + RETENTION
    assert signing.kid not in {key.kid for key in keys.verifying()}
    assert len(keys.keys) <= 4


def test_the_key_set_round_trips_through_the_secret_json() -> None:
    keys = rotate(rotate(SessionKeySet(), START, fresh_secrets()), START + ROTATION_PERIOD, fresh_secrets())
    assert SessionKeySet.from_json(json.loads(json.dumps(keys.to_json()))) == keys
    # The secret as the stack creates it: no keys, a random filler.
    empty = SessionKeySet.from_json({"keys": [], "filler": "abc"})
    assert empty.verifying() == () and empty.signing is None


class MemorySecret:
    def __init__(self, log: list[str]) -> None:
        self.keyset = SessionKeySet()
        self.log = log

    def load(self, refresh: bool = False) -> SessionKeySet:
        return self.keyset

    def store(self, keyset: SessionKeySet) -> None:
        self.log.append(f"secret:{','.join(sorted(keyset.kids()))}")
        self.keyset = keyset


class MemoryEdge:
    def __init__(self, log: list[str]) -> None:
        self.entries: dict[str, str] = {}
        self.log = log

    def put(self, key: str, value: str) -> None:
        self.log.append(f"put:{key}")
        self.entries[key] = value

    def delete(self, key: str) -> None:
        self.log.append(f"delete:{key}")
        self.entries.pop(key, None)


def test_the_edge_learns_keys_before_the_secret_and_forgets_them_after() -> None:
    log: list[str] = []
    now = [START]
    secret, edge = MemorySecret(log), MemoryEdge(log)
    service = SessionKeyService(secret, edge, lambda: now[0], fresh_secrets())
    first = service.ensure()
    assert service.ensure() == first  # a second seed changes nothing
    assert [line.split(":")[0] for line in log] == ["put", "put", "secret"]
    for _ in range(3):
        now[0] += ROTATION_PERIOD
        log.clear()
        service.rotate()
        kinds = [line.split(":")[0] for line in log]
        assert kinds.index("secret") == kinds.count("put")  # every put before, every delete after
        assert kinds[kinds.index("secret") + 1 :] == ["delete"] * kinds.count("delete")
    # The edge holds exactly the keys that verify, with their secrets.
    assert edge.entries == {session_key_entry(k.kid): encode_secret(k.secret) for k in service.verifying()}
    assert all(key.startswith(SESSION_KEY_PREFIX) for key in edge.entries)
