"""One AWS call through an adapter: its ClientError turned into the context's domain error by the
adapter's own `translate` (an error it does not know is raised as it came)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError


def translated_call(
    client: Any, translate: Callable[[ClientError], Exception], operation: str, **params: Any
) -> dict[str, Any]:
    try:
        response: dict[str, Any] = getattr(client, operation)(**params)
    except ClientError as error:
        translated = translate(error)
        if translated is error:
            raise
        raise translated from error
    return response
