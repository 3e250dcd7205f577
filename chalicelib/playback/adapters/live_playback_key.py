"""The key signing IVS playback JWTs of private live streams, on AWS: a Secrets Manager secret the
stack fills at deploy time (infra/live_playback_key.py). Read once per container: the key changes
only when an operator replaces it (docs/live.md), and a function then starts cold to take it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chalicelib.core.domain.errors import RepositoryUnavailable

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

PEM_MARKER = "-----BEGIN"


class SecretsManagerLivePlaybackKey:
    def __init__(self, client: SecretsManagerClient, secret_id: str) -> None:
        self.client = client
        self.secret_id = secret_id
        self._key: str | None = None

    def value(self) -> str:
        """The PEM; empty while the secret still holds the placeholder the stack created it with
        (not cached: the deploy writes the key moments later)."""
        if self._key is not None:
            return self._key
        try:
            value = self.client.get_secret_value(SecretId=self.secret_id)["SecretString"]
        except ClientError as error:
            raise RepositoryUnavailable(detail="The live playback key is unavailable.") from error
        if PEM_MARKER not in value:
            return ""
        self._key = value
        return value
