"""Identifier and secret generation in api.video's formats (prefix + base62)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_BODY_LENGTH = 22


def random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def new_id(prefix: str) -> str:
    """`vi` + 22 base62 characters and the like (about 131 bits of randomness)."""
    return prefix + random_base62(ID_BODY_LENGTH)


def is_id(value: str, prefix: str) -> bool:
    body = value[len(prefix) :]
    return value.startswith(prefix) and len(body) == ID_BODY_LENGTH and all(ch in BASE62 for ch in body)


def hash_secret(secret: str) -> str:
    """Secrets are high-entropy random strings, so a plain SHA-256 is enough (no KDF needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_match(secret: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), expected_hash)
