"""The value CloudFront sends the API as resources.CDN_ORIGIN_HEADER (AWS): a Secrets Manager
secret that CloudFormation generates and the media distribution's API origin names in a custom
origin header (infra/player.py). Cached for a few minutes per function."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chalicelib.core.domain.errors import RepositoryUnavailable

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CACHE_SECONDS = 300.0


class SecretsManagerOriginSecret:
    def __init__(self, client: SecretsManagerClient, secret_id: str, cache_seconds: float = CACHE_SECONDS) -> None:
        self.client = client
        self.secret_id = secret_id
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, str] | None = None

    def value(self) -> str:
        if self._cached and time.monotonic() - self._cached[0] < self.cache_seconds:
            return self._cached[1]
        try:
            value = self.client.get_secret_value(SecretId=self.secret_id)["SecretString"]
        except ClientError as error:
            raise RepositoryUnavailable(detail="The CDN origin secret is unavailable.") from error
        self._cached = (time.monotonic(), value)
        return value
