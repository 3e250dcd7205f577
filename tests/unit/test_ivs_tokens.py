"""IVS playback JWTs of private live streams: ES384, bound to one channel, with an expiry; the
devstack's IVS plane checks them with the same rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.playback.domain.ivs_tokens import IVS_TOKEN_TTL, ivs_token, token_denial

CHANNEL = "arn:aws:ivs:us-east-1:123456789012:channel/AbCdEfGhIjKl"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def pem_pair(curve: ec.EllipticCurve) -> tuple[str, str]:
    key = ec.generate_private_key(curve)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_a_token_is_es384_for_one_channel_until_it_expires() -> None:
    private, public = pem_pair(ec.SECP384R1())
    token = ivs_token(CHANNEL, private, NOW)
    assert jwt.get_unverified_header(token)["alg"] == "ES384"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {
        "aws:channel-arn": CHANNEL,
        "aws:access-control-allow-origin": "*",
        "exp": int((NOW + IVS_TOKEN_TTL).timestamp()),
    }
    assert token_denial(token, CHANNEL, [public], NOW) is None
    assert token_denial(token, CHANNEL + "x", [public], NOW) == "other-channel"
    assert token_denial(token, CHANNEL, [public], NOW + IVS_TOKEN_TTL + timedelta(seconds=1)) == "expired"
    _, other_public = pem_pair(ec.SECP384R1())
    assert token_denial(token, CHANNEL, [other_public], NOW) == "bad-signature"
    assert token_denial(token, CHANNEL, [other_public, public], NOW) is None  # any imported key pair
    assert token_denial("not.a.jwt", CHANNEL, [public], NOW) == "bad-signature"


def test_only_a_p384_key_signs() -> None:
    private, _ = pem_pair(ec.SECP256R1())
    with pytest.raises(ValueError, match="P-384"):
        ivs_token(CHANNEL, private, NOW)
