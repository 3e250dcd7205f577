"""Project playback signing keys and the playback JWTs a tenant's backend signs with them
(a Videoplane extension of api.video's private videos): pure rules.

A key is an ES256 (P-256) pair made by the API: the private half is shown once, in the creation
response, and never stored; the public half is kept and published in the project's JWKS. Up to
`MAX_ACTIVE_KEYS` keys are valid at once, so a rotation creates the new key, moves the backend to
it, then deletes the old one (deleting is revocation: tokens signed with it stop working at once).

A playback JWT: header `alg: ES256`, `kid` = the key's id; claims `sub` = the video id, `exp`
(required), and optionally `aud` = the origins allowed to embed it (`https://www.example.com`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from pydantic import BaseModel, ConfigDict

from chalicelib.core import ids
from chalicelib.playback.domain.access import Denial

KEY_ID_PREFIX = "pbk"
MAX_ACTIVE_KEYS = 5
ALGORITHM = "ES256"
# A JWT is three base64url parts; a private token is a UUID (domain/access.py).
MAX_TOKEN_LENGTH = 4096


class PlaybackKey(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    key_id: str
    created_at: datetime
    public_jwk: dict[str, str]


class JwtVerdict(BaseModel):
    """A playback JWT's outcome: the expiry it grants (epoch seconds), or why it is refused."""

    model_config = ConfigDict(frozen=True)
    expires: int | None = None
    denial: Denial | None = None


def new_key(project_id: str, now: datetime) -> tuple[PlaybackKey, str]:
    """A new key and its private half as PKCS#8 PEM (to show once)."""
    private = ec.generate_private_key(ec.SECP256R1())
    key_id = ids.new_sortable_id(KEY_ID_PREFIX)  # listed in creation order
    jwk: dict[str, str] = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    public_jwk = {**jwk, "kid": key_id, "alg": ALGORITHM, "use": "sig"}
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return PlaybackKey(project_id=project_id, key_id=key_id, created_at=now, public_jwk=public_jwk), pem


def jwks(keys: list[PlaybackKey]) -> dict[str, Any]:
    return {"keys": [key.public_jwk for key in sorted(keys, key=lambda k: k.key_id)]}


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and len(token) <= MAX_TOKEN_LENGTH


def origin_of(url: str | None) -> str | None:
    """`https://www.example.com` from a Referer or Origin header; None when absent or not http(s)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def verify(token: str, video_id: str, keys: list[PlaybackKey], now: datetime, origin: str | None) -> JwtVerdict:
    """Checks signature (one of the project's keys, by `kid`), `sub`, `exp` and `aud` against the
    embedding page's origin."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return JwtVerdict(denial=Denial.MALFORMED)
    key = next((k for k in keys if k.key_id == header.get("kid")), None)
    if key is None:
        return JwtVerdict(denial=Denial.UNKNOWN_KEY)
    public = ECAlgorithm.from_jwk(json.dumps(key.public_jwk))
    if not isinstance(public, ec.EllipticCurvePublicKey):
        return JwtVerdict(denial=Denial.UNKNOWN_KEY)
    try:
        claims = jwt.decode(
            token,
            public,
            algorithms=[ALGORITHM],
            # The expiry is checked against the service's clock below; `aud` is an origin list.
            options={"require": ["exp", "sub"], "verify_exp": False, "verify_aud": False},
        )
    except jwt.InvalidSignatureError:
        return JwtVerdict(denial=Denial.BAD_SIGNATURE)
    except jwt.InvalidTokenError:
        return JwtVerdict(denial=Denial.MALFORMED)
    if claims["sub"] != video_id:
        return JwtVerdict(denial=Denial.OTHER_VIDEO)
    expires = claims["exp"]
    if not isinstance(expires, int) or now.timestamp() >= expires:
        return JwtVerdict(denial=Denial.EXPIRED)
    audience = claims.get("aud")
    if audience is not None:
        allowed = {str(a).lower().rstrip("/") for a in (audience if isinstance(audience, list) else [audience])}
        if origin is None or origin not in allowed:
            return JwtVerdict(denial=Denial.REFERRER)
    return JwtVerdict(expires=expires)


def snapshot(key: PlaybackKey) -> dict[str, Any]:
    """What the audit log keeps of a key: its id and public half."""
    return {"keyId": key.key_id, "publicJwk": key.public_jwk}
