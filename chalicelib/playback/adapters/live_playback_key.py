"""The key signing IVS playback JWTs of private live streams, on AWS: a Secrets Manager secret the
stack fills at deploy time (infra/live_playback_key.py). Kept for a few minutes per container: the
key changes only when an operator rotates it (infra/keys_live.py), which keeps the old pair in IVS
until every container has read the new key and the JWTs signed with the old one have expired."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chalicelib.core.domain.errors import RepositoryUnavailable

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

PEM_MARKER = "-----BEGIN"


class SecretsManagerLivePlaybackKey:
    def __init__(self, client: SecretsManagerClient, secret_id: str, cache_seconds: float) -> None:
        self.client = client
        self.secret_id = secret_id
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, str] | None = None

    def value(self) -> str:
        """The PEM; empty while the secret still holds the placeholder the stack created it with
        (not cached: the deploy writes the key moments later)."""
        if self._cached is not None and time.monotonic() - self._cached[0] < self.cache_seconds:
            return self._cached[1]
        try:
            value = self.client.get_secret_value(SecretId=self.secret_id)["SecretString"]
        except ClientError as error:
            raise RepositoryUnavailable(detail="The live playback key is unavailable.") from error
        if PEM_MARKER not in value:
            return ""
        self._cached = (time.monotonic(), value)
        return value
