"""The live playback key on AWS: read from the stack's secret and kept a few minutes per container
(moto), so a rotation reaches every container; the placeholder the stack creates it with counts as
no key yet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from moto import mock_aws

from chalicelib.core import config
from chalicelib.core.domain.errors import RepositoryUnavailable
from chalicelib.playback.adapters import live_playback_key
from chalicelib.playback.adapters.live_playback_key import SecretsManagerLivePlaybackKey
from chalicelib.playback.domain.ivs_tokens import LIVE_PLAYBACK_KEY_CACHE

PEM = (
    ec.generate_private_key(ec.SECP384R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")


class Counting:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = 0

    def get_secret_value(self, **kwargs: Any) -> Any:
        self.calls += 1
        return self.client.get_secret_value(**kwargs)


def test_the_key_is_read_once_and_the_placeholder_is_no_key(secrets: Any) -> None:
    arn = secrets.create_secret(Name="live-key", SecretString="GeneratedPlaceholder0")["ARN"]
    counting = Counting(secrets)
    key = SecretsManagerLivePlaybackKey(counting, arn, 300)  # type: ignore[arg-type]
    assert key.value() == "" and key.value() == ""
    assert counting.calls == 2  # not cached: the deploy writes the key moments later
    secrets.put_secret_value(SecretId=arn, SecretString=PEM)
    assert key.value() == PEM and key.value() == PEM
    assert counting.calls == 3


def test_a_rotated_key_is_read_once_the_cache_has_run_out(secrets: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    arn = secrets.create_secret(Name="live-key", SecretString=PEM)["ARN"]
    counting = Counting(secrets)
    key = SecretsManagerLivePlaybackKey(counting, arn, LIVE_PLAYBACK_KEY_CACHE.total_seconds())  # type: ignore[arg-type]
    clock = [1000.0]
    monkeypatch.setattr(live_playback_key.time, "monotonic", lambda: clock[0])
    assert key.value() == PEM
    rotated = PEM.replace("PRIVATE", "PRIVATE", 1) + "\n"
    secrets.put_secret_value(SecretId=arn, SecretString=rotated)
    clock[0] += LIVE_PLAYBACK_KEY_CACHE.total_seconds() - 1
    assert key.value() == PEM and counting.calls == 1
    clock[0] += 1
    assert key.value() == rotated and counting.calls == 2


def test_an_unreadable_secret_is_a_503(secrets: Any) -> None:
    with pytest.raises(RepositoryUnavailable):
        SecretsManagerLivePlaybackKey(secrets, "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone", 300).value()


def test_settings_name_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOPLANE_LIVE_PLAYBACK_KEY_SECRET", "arn:aws:secretsmanager:us-east-1:1:secret:k")
    monkeypatch.setenv("VIDEOPLANE_TABLE", "t")
    monkeypatch.setenv("VIDEOPLANE_SIGNING_SECRET_ID", "s")
    config.reset_caches()
    try:
        assert config.get_settings().live_playback_key_secret_id == "arn:aws:secretsmanager:us-east-1:1:secret:k"
    finally:
        config.reset_caches()
