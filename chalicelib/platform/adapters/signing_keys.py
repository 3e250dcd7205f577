"""JWT signing keys kept as one JSON secret in Secrets Manager, cached per process."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chalicelib.core.domain.errors import NotFound, RepositoryUnavailable
from chalicelib.platform.domain.tokens import SigningKeySet

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class SecretsManagerKeyStore:
    def __init__(self, client: SecretsManagerClient, secret_id: str, cache_seconds: int) -> None:
        self.client = client
        self.secret_id = secret_id
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, SigningKeySet] | None = None

    def load(self, refresh: bool = False) -> SigningKeySet:
        if not refresh and self._cached and time.monotonic() - self._cached[0] < self.cache_seconds:
            return self._cached[1]
        try:
            value = self.client.get_secret_value(SecretId=self.secret_id)["SecretString"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise NotFound(name="signingKeys", detail="No signing keys have been created yet.") from error
            raise RepositoryUnavailable(detail="Signing keys are unavailable.") from error
        keyset = SigningKeySet.from_json(json.loads(value))
        self._cached = (time.monotonic(), keyset)
        return keyset

    def store(self, keyset: SigningKeySet) -> None:
        try:
            self.client.put_secret_value(SecretId=self.secret_id, SecretString=json.dumps(keyset.to_json()))
        except ClientError as error:
            raise RepositoryUnavailable(detail="Signing keys could not be stored.") from error
        self._cached = (time.monotonic(), keyset)
