"""The playback session keys in Secrets Manager (AWS): one JSON secret, the key set of
chalicelib/playback/domain/session_keys.py, cached for a few minutes per function (rotation leaves
a pending key unused for a day, so a cached copy never misses the key that signs)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chalicelib.core.domain.errors import RepositoryUnavailable
from chalicelib.playback.domain.session_keys import SessionKeySet

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class SecretsManagerSessionKeys:
    def __init__(self, client: SecretsManagerClient, secret_id: str, cache_seconds: float) -> None:
        self.client = client
        self.secret_id = secret_id
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, SessionKeySet] | None = None

    def load(self, refresh: bool = False) -> SessionKeySet:
        if not refresh and self._cached and time.monotonic() - self._cached[0] < self.cache_seconds:
            return self._cached[1]
        try:
            value = self.client.get_secret_value(SecretId=self.secret_id)["SecretString"]
        except ClientError as error:
            raise RepositoryUnavailable(detail="Playback session keys are unavailable.") from error
        keyset = SessionKeySet.from_json(json.loads(value))
        self._cached = (time.monotonic(), keyset)
        return keyset

    def store(self, keyset: SessionKeySet) -> None:
        try:
            self.client.put_secret_value(SecretId=self.secret_id, SecretString=json.dumps(keyset.to_json()))
        except ClientError as error:
            raise RepositoryUnavailable(detail="Playback session keys could not be stored.") from error
        self._cached = (time.monotonic(), keyset)
