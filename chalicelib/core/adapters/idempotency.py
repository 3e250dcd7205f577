"""`Idempotency-Key` support on Powertools idempotency, stored in the project's own partition.

The lookup key hashes [projectId, operation, key], so one tenant can never replay another's
response even with the same header value.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from chalicelib.core import config, resources
from chalicelib.core.domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused

REPLAY_MARKER = "replayed"
EXPIRES_AFTER_SECONDS = 24 * 3600


class ProjectScopedPersistenceLayer(DynamoDBPersistenceLayer):
    def _get_hashed_idempotency_key(self, data: dict[str, Any]) -> str | None:
        hashed = super()._get_hashed_idempotency_key(data)
        return None if hashed is None else f"P#{data['projectId']}#IDEMPOTENCY#{hashed}"

    def _get_key(self, idempotency_key: str) -> dict[str, Any]:
        return {
            resources.PARTITION_KEY: {"S": idempotency_key},
            resources.SORT_KEY: {"S": "IDEMPOTENCY"},
        }


def _mark_replay(response: Any, _record: DataRecord) -> Any:
    return {**response, REPLAY_MARKER: True}


_CONFIG = IdempotencyConfig(
    event_key_jmespath="[projectId, operation, key]",
    payload_validation_jmespath="payload",
    expires_after_seconds=EXPIRES_AFTER_SECONDS,
    raise_on_no_idempotency_key=True,
    response_hook=_mark_replay,  # type: ignore[arg-type]
)


@cache
def _runner() -> Callable[..., dict[str, Any]]:
    store = ProjectScopedPersistenceLayer(
        table_name=config.get_settings().table_name,
        key_attr=resources.PARTITION_KEY,
        expiry_attr=resources.TTL_ATTRIBUTE,
        boto3_client=config.dynamodb(),
    )

    @idempotent_function(data_keyword_argument="request", persistence_store=store, config=_CONFIG)
    def run(request: dict[str, Any], operation: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return operation()

    return run


def register_lambda_context(context: Any) -> None:
    """Lets an in-progress record expire with the invocation instead of after the full TTL."""
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        _CONFIG.register_lambda_context(context)


def run_once(
    project_id: str, operation_name: str, key: str, payload: Any, operation: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    request = {"projectId": project_id, "operation": operation_name, "key": key, "payload": payload}
    try:
        return _runner()(request=request, operation=operation)
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused(name="Idempotency-Key") from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyKeyInFlight(name="Idempotency-Key") from exc


def reset() -> None:
    _runner.cache_clear()
