"""Identifier and secret generation in api.video's formats (prefix + base62)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_BODY_LENGTH = 22
TIME_PREFIX_LENGTH = 8  # 62**8 milliseconds is about 6,900 years


def random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def new_id(prefix: str) -> str:
    """`vi` + 22 base62 characters and the like (about 131 bits of randomness)."""
    return prefix + random_base62(ID_BODY_LENGTH)


def new_sortable_id(prefix: str) -> str:
    """Like `new_id`, but ids made later sort later (millisecond time first, then randomness)."""
    millis = time.time_ns() // 1_000_000
    stamp = ""
    for _ in range(TIME_PREFIX_LENGTH):
        millis, digit = divmod(millis, 62)
        stamp = BASE62[digit] + stamp
    return prefix + stamp + random_base62(ID_BODY_LENGTH - TIME_PREFIX_LENGTH)


def is_id(value: str, prefix: str) -> bool:
    body = value[len(prefix) :]
    return value.startswith(prefix) and len(body) == ID_BODY_LENGTH and all(ch in BASE62 for ch in body)


def hash_secret(secret: str) -> str:
    """Secrets are high-entropy random strings, so a plain SHA-256 is enough (no KDF needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_match(secret: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), expected_hash)
