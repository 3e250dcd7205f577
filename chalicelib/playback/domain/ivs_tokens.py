"""Playback tokens for Amazon IVS private channels: pure rules.

A private live stream's channel is `authorized`: IVS plays it only with `?token=<JWT>` on its
playback URL, an **ES384** JWT signed with a key pair whose public half was imported into IVS
(ImportPlaybackKeyPair), carrying the channel's ARN (`aws:channel-arn`), the origin allowed to
fetch it (`aws:access-control-allow-origin`) and `exp`. IVS checks it when a viewer's session
starts (a session outlives the token), so a short life is enough: the embed page starts playing
within seconds of receiving it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# Enough to load the page and start hls.js; IVS does not re-check a running session.
IVS_TOKEN_TTL = timedelta(minutes=10)
# How long a function keeps the signing key it read from the stack's secret: a rotation
# (infra/keys_live.py) reaches every function within it, and retires the old key after both.
LIVE_PLAYBACK_KEY_CACHE = timedelta(minutes=5)
CHANNEL_CLAIM = "aws:channel-arn"
ORIGIN_CLAIM = "aws:access-control-allow-origin"


def ivs_token(channel_arn: str, signing_key_pem: str, now: datetime, origin: str | None = None) -> str:
    """The JWT IVS takes for one private channel; `origin` (the embedding page's) limits which site's
    player may fetch it, else any (`*`)."""
    key = serialization.load_pem_private_key(signing_key_pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp384r1":
        raise ValueError("the IVS playback key must be an EC P-384 private key (ES384)")
    claims = {CHANNEL_CLAIM: channel_arn, ORIGIN_CLAIM: origin or "*", "exp": int((now + IVS_TOKEN_TTL).timestamp())}
    return jwt.encode(claims, key, algorithm="ES384")


def token_denial(token: str, channel_arn: str, public_keys_pem: list[str], now: datetime) -> str | None:
    """What IVS checks, for the devstack's stand-in: None when one of the imported public keys
    verifies the token for this channel at `now`; else why not."""
    for pem in public_keys_pem:
        try:
            claims = jwt.decode(
                token,
                serialization.load_pem_public_key(pem.encode()),  # type: ignore[arg-type]
                algorithms=["ES384"],
                options={"require": ["exp"], "verify_exp": False},
            )
        except (jwt.InvalidTokenError, ValueError):
            continue
        if claims.get(CHANNEL_CLAIM) != channel_arn:
            return "other-channel"
        return "expired" if now.timestamp() >= int(claims["exp"]) else None
    return "bad-signature"
