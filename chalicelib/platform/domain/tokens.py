"""Access tokens: HS256 JWTs with a `kid`, verified against a rotating key set."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from chalicelib.core import ids
from chalicelib.core.clock import epoch_seconds, to_atom
from chalicelib.core.domain.access import Principal, Role
from chalicelib.core.domain.errors import InvalidAccessToken
from chalicelib.platform.domain.credentials import KEY_ID_PREFIX, PROJECT_ID_PREFIX

ALGORITHM = "HS256"
AUDIENCE = "videoplane-api"
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: bytes
    created_at: datetime


@dataclass(frozen=True)
class SigningKeySet:
    """`active` signs new tokens; every key in `keys` still verifies, so rotation logs no one out."""

    active_kid: str
    keys: tuple[SigningKey, ...]

    def active(self) -> SigningKey:
        return self.find(self.active_kid)

    def find(self, kid: str) -> SigningKey:
        for key in self.keys:
            if key.kid == kid:
                return key
        raise KeyError(kid)

    def to_json(self) -> dict[str, Any]:
        return {
            "active": self.active_kid,
            "keys": [
                {"kid": k.kid, "secret": base64.b64encode(k.secret).decode(), "createdAt": to_atom(k.created_at)}
                for k in self.keys
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SigningKeySet:
        from chalicelib.core.clock import from_atom

        keys = tuple(
            SigningKey(k["kid"], base64.b64decode(k["secret"]), from_atom(k["createdAt"])) for k in data["keys"]
        )
        return cls(active_kid=data["active"], keys=keys)


def new_signing_key(now: datetime) -> SigningKey:
    return SigningKey(kid=ids.new_id("sk"), secret=secrets.token_bytes(32), created_at=now)


def rotate(keyset: SigningKeySet | None, now: datetime, retain: timedelta) -> SigningKeySet:
    """Add a fresh active key; keep older keys younger than `retain` (at least the token lifetime)."""
    fresh = new_signing_key(now)
    kept = () if keyset is None else tuple(k for k in keyset.keys if now - k.created_at < retain)
    return SigningKeySet(active_kid=fresh.kid, keys=(fresh, *kept))


def issue_access_token(principal: Principal, keyset: SigningKeySet, now: datetime, ttl: timedelta, issuer: str) -> str:
    key = keyset.active()
    claims = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": principal.key_id,
        "pid": principal.project_id,
        "role": principal.role.value,
        "iat": epoch_seconds(now),
        "nbf": epoch_seconds(now),
        "exp": epoch_seconds(now + ttl),
        "jti": ids.random_base62(16),
    }
    return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})


def token_kid(token: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidAccessToken() from exc
    kid = header.get("kid")
    if not isinstance(kid, str) or header.get("alg") != ALGORITHM:
        raise InvalidAccessToken()
    return kid


def verify_access_token(token: str, keyset: SigningKeySet, issuer: str) -> Principal:
    try:
        key = keyset.find(token_kid(token))
    except KeyError as exc:
        raise InvalidAccessToken() from exc
    try:
        claims = jwt.decode(
            token,
            key.secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    # TypeError: PyJWT raises it for some wrong-typed registered claims (an `iss` list).
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise InvalidAccessToken() from exc
    return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    """Our own claims, checked for type and format: they become table keys and the tenant."""
    project_id, key_id, role = claims.get("pid"), claims.get("sub"), claims.get("role")
    if not (
        isinstance(project_id, str)
        and ids.is_id(project_id, PROJECT_ID_PREFIX)
        and isinstance(key_id, str)
        and ids.is_id(key_id, KEY_ID_PREFIX)
        and isinstance(role, str)
        and role in Role.__members__.values()
    ):
        raise InvalidAccessToken()
    return Principal(project_id=project_id, key_id=key_id, role=Role(role))
