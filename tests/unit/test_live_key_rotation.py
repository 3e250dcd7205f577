"""Rotating the live playback key (infra/keys_live.py): Secrets Manager on moto, IVS through
botocore's Stubber and the strict model walk (tests/unit/strict_model.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.playback.domain import ivs_tokens
from infra import ivs_key_provider, keys_live
from infra.keys_live import RETIRE_AFTER, RotationRefused
from tests.unit.test_ivs_key_provider import PREFIX, ImportOf, checked, ivs, public_pem_of
from tests.unit.test_ivs_key_provider import secrets as secrets  # noqa: PLC0414 - the fixture

OLD_PAIR = "arn:aws:ivs:us-east-1:123456789012:playback-key/OldPair000001"
NEW_PAIR = "arn:aws:ivs:us-east-1:123456789012:playback-key/NewPair000002"
# Pairs that are not this stack's: another stack's (a longer prefix), and one named by hand.
FOREIGN = [
    {"arn": "arn:aws:ivs:us-east-1:123456789012:playback-key/Other0000003", "name": f"{PREFIX}-2-0123456789abcdef"},
    {"arn": "arn:aws:ivs:us-east-1:123456789012:playback-key/Manual000004", "name": f"{PREFIX}-manual"},
]
CHANNEL = "arn:aws:ivs:us-east-1:123456789012:channel/AbCdEf123456"


def pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    encoded = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return encoded.decode()


def listed(*pairs: dict[str, str]) -> dict[str, Any]:
    return {"keyPairs": [*pairs, *FOREIGN]}


def pair(arn: str, key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    return {"arn": arn, "name": ivs_key_provider.pair_name(PREFIX, public_pem_of(key))}


@pytest.fixture
def old_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture
def secret_id(secrets: Any, old_key: ec.EllipticCurvePrivateKey) -> str:
    """The secret as the stack's custom resource left it: the key it made."""
    return str(secrets.create_secret(Name="live-playback-key", SecretString=pem_of(old_key))["ARN"])


def current_key(secrets: Any, secret_id: str) -> ec.EllipticCurvePrivateKey:
    key = ivs_key_provider.stored_key(secrets, secret_id)
    assert key is not None
    return key


def test_rotate_imports_then_writes_and_retire_deletes_the_old_pair_after_the_overlap(
    secrets: Any, secret_id: str, old_key: ec.EllipticCurvePrivateKey
) -> None:
    client = ivs()
    imported = ImportOf()
    now = datetime.now(UTC)
    with Stubber(client) as stubber:
        checked(stubber, "ListPlaybackKeyPairs", listed(pair(OLD_PAIR, old_key)), {"maxResults": 100})
        checked(stubber, "ImportPlaybackKeyPair", {"keyPair": {"arn": NEW_PAIR}}, imported)
        rotation = keys_live.rotate(secrets, client, secret_id, PREFIX, now)
        stubber.assert_no_pending_responses()
    assert rotation == keys_live.Rotation(new_pair=NEW_PAIR, old_pair=OLD_PAIR, retire_at=now + RETIRE_AFTER)
    assert RETIRE_AFTER >= ivs_tokens.IVS_TOKEN_TTL + ivs_tokens.LIVE_PLAYBACK_KEY_CACHE
    # The secret holds the new key, whose public half is what IVS was given, under the provider's name.
    new_key = current_key(secrets, secret_id)
    assert public_pem_of(new_key) != public_pem_of(old_key)
    request = imported.params
    assert request == {
        "publicKeyMaterial": public_pem_of(new_key),
        "name": ivs_key_provider.pair_name(PREFIX, public_pem_of(new_key)),
    }
    signed = ivs_tokens.ivs_token(CHANNEL, pem_of(new_key), now)
    assert ivs_tokens.token_denial(signed, CHANNEL, [request["publicKeyMaterial"]], now) is None

    # Before the overlap is over (functions still sign with the old key, its JWTs still play): refused.
    with Stubber(client) as stubber, pytest.raises(RotationRefused, match="retire after"):
        keys_live.retire(secrets, client, secret_id, PREFIX, now + RETIRE_AFTER - timedelta(seconds=30))
    later = datetime.now(UTC) + RETIRE_AFTER
    with Stubber(client) as stubber:
        pairs = listed(pair(OLD_PAIR, old_key), pair(NEW_PAIR, new_key))
        checked(stubber, "ListPlaybackKeyPairs", pairs, {"maxResults": 100})
        checked(stubber, "DeletePlaybackKeyPair", {}, {"arn": OLD_PAIR})
        assert keys_live.retire(secrets, client, secret_id, PREFIX, later) == [OLD_PAIR]
        stubber.assert_no_pending_responses()
    # Retired: only the new pair is left, so a second retire deletes nothing.
    with Stubber(client) as stubber:
        checked(stubber, "ListPlaybackKeyPairs", listed(pair(NEW_PAIR, new_key)), {"maxResults": 100})
        assert keys_live.retire(secrets, client, secret_id, PREFIX, later) == []
        stubber.assert_no_pending_responses()


def test_rotate_refuses_an_unretired_rotation_and_a_stack_without_a_key(
    secrets: Any, secret_id: str, old_key: ec.EllipticCurvePrivateKey
) -> None:
    client = ivs()
    other = ec.generate_private_key(ec.SECP384R1())
    with Stubber(client) as stubber:
        checked(
            stubber, "ListPlaybackKeyPairs", listed(pair(OLD_PAIR, old_key), pair(NEW_PAIR, other)), {"maxResults": 100}
        )
        with pytest.raises(RotationRefused, match="run `retire` first"):
            keys_live.rotate(secrets, client, secret_id, PREFIX, datetime.now(UTC))
        stubber.assert_no_pending_responses()
    assert public_pem_of(current_key(secrets, secret_id)) == public_pem_of(old_key)
    placeholder = str(secrets.create_secret(Name="fresh-stack", SecretString="Zx81placeholder0000")["ARN"])
    with Stubber(client), pytest.raises(RotationRefused, match="deploy the stack first"):
        keys_live.rotate(secrets, client, placeholder, PREFIX, datetime.now(UTC))


class FailingWrite:
    """Secrets Manager refusing the write (a rotation that dies between its two steps)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get_secret_value(self, **kwargs: Any) -> Any:
        return self.client.get_secret_value(**kwargs)

    def put_secret_value(self, **kwargs: Any) -> Any:
        raise RuntimeError("AccessDenied")


def test_a_rotation_that_failed_to_write_leaves_a_pair_that_retire_deletes_at_once(
    secrets: Any, secret_id: str, old_key: ec.EllipticCurvePrivateKey
) -> None:
    client = ivs()
    imported = ImportOf()
    with Stubber(client) as stubber:
        checked(stubber, "ListPlaybackKeyPairs", listed(pair(OLD_PAIR, old_key)), {"maxResults": 100})
        checked(stubber, "ImportPlaybackKeyPair", {"keyPair": {"arn": NEW_PAIR}}, imported)
        with pytest.raises(RuntimeError):
            keys_live.rotate(FailingWrite(secrets), client, secret_id, PREFIX, datetime.now(UTC))
    orphan = {"arn": NEW_PAIR, "name": imported.params["name"]}
    # The secret still holds the old key, written long enough ago: its pair stays, the orphan goes.
    later = datetime.now(UTC) + RETIRE_AFTER
    with Stubber(client) as stubber:
        checked(stubber, "ListPlaybackKeyPairs", listed(pair(OLD_PAIR, old_key), orphan), {"maxResults": 100})
        checked(stubber, "DeletePlaybackKeyPair", {}, {"arn": NEW_PAIR})
        assert keys_live.retire(secrets, client, secret_id, PREFIX, later) == [NEW_PAIR]
        stubber.assert_no_pending_responses()


def test_retire_never_deletes_the_last_pair_that_verifies_the_secrets_key(
    secrets: Any, secret_id: str, old_key: ec.EllipticCurvePrivateKey
) -> None:
    """A secret whose key has no pair (its import was deleted by hand): nothing is deleted, and
    the pairs are listed page by page."""
    client = ivs()
    stranger = ec.generate_private_key(ec.SECP384R1())
    with Stubber(client) as stubber:
        checked(stubber, "ListPlaybackKeyPairs", {"keyPairs": FOREIGN, "nextToken": "page2"}, {"maxResults": 100})
        page2 = {"keyPairs": [pair(OLD_PAIR, stranger)]}
        checked(stubber, "ListPlaybackKeyPairs", page2, {"maxResults": 100, "nextToken": "page2"})
        with pytest.raises(RotationRefused, match="run a deploy"):
            keys_live.retire(secrets, client, secret_id, PREFIX, datetime.now(UTC) + RETIRE_AFTER)
        stubber.assert_no_pending_responses()


def test_the_command_rotates_then_refuses_to_retire_early(
    secrets: Any, secret_id: str, old_key: ec.EllipticCurvePrivateKey, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import boto3

    client = ivs()
    monkeypatch.setattr(boto3, "client", lambda name: {"secretsmanager": secrets, "ivs": client}[name])
    imported = ImportOf()
    with Stubber(client) as stubber:
        checked(stubber, "ListPlaybackKeyPairs", listed(pair(OLD_PAIR, old_key)), {"maxResults": 100})
        checked(stubber, "ImportPlaybackKeyPair", {"keyPair": {"arn": NEW_PAIR}}, imported)
        assert keys_live.main(["rotate", "--stack", "videoplane", "--secret-id", secret_id]) == 0
        stubber.assert_no_pending_responses()
    assert imported.params["name"].startswith("videoplane-live-")
    out = capsys.readouterr().out
    assert f"imported {NEW_PAIR}" in out and f"old pair {OLD_PAIR}" in out and "infra.keys_live retire" in out
    assert keys_live.main(["retire", "--secret-id", secret_id]) == 1
    assert "refused: the key was replaced" in capsys.readouterr().err
