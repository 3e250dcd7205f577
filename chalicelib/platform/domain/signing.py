"""Webhook signatures: api.video's and Standard Webhooks', from one secret per endpoint.

One `signatureSecret` serves both schemes. It is `whsec_` + base64 of 32 CSPRNG bytes, the
Standard Webhooks format, so `standardwebhooks.Webhook(secret)` takes it as is (the library
strips `whsec_` and base64-decodes the rest into the HMAC key). api.video receivers instead
HMAC with the whole string as the key (`hash_hmac("sha256", $body, $secret)`), which is what
`api_video_signature` does. Both keys carry the same 256 bits of entropy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for at least 24
SCHEME = "v1"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key Standard Webhooks derives from a `whsec_` secret."""
    body = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    return base64.b64decode(body)


def api_video_signature(secret: str, body: bytes) -> str:
    """`X-Api-Video-Signature`: lowercase hex HMAC-SHA256 of the raw body, keyed with the whole secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` entry over `{id}.{timestamp}.{body}`, the exact bytes sent."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SCHEME},{base64.b64encode(digest).decode()}"


def standard_headers(secrets_: Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """`webhook-*` headers; during a rotation overlap the signature list holds one entry per secret."""
    if "." in message_id:
        raise ValueError("a webhook message id must not contain '.'")
    signature = " ".join(standard_signature(s, message_id, timestamp, body) for s in secrets_)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(timestamp)), "webhook-signature": signature}
