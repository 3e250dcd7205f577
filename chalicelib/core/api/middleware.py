"""HTTP middleware: request id on every log line and response, and problem JSON for the
errors Chalice itself produces (405, 415, unhandled 500)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.core.api.http import request_id
from chalicelib.core.api.problems import problem_response
from chalicelib.core.domain.errors import (
    DomainError,
    InvalidPayload,
    MethodNotAllowed,
    ServerError,
    UnsupportedMediaType,
)
from chalicelib.core.observability import invocation, logger

REQUEST_ID_HEADER = "X-Request-Id"
_CHALICE_ERRORS: dict[str, type[DomainError]] = {
    "MethodNotAllowedError": MethodNotAllowed,
    "UnsupportedMediaType": UnsupportedMediaType,
    "BadRequestError": InvalidPayload,
    "BadRequest": InvalidPayload,
    "InternalServerError": ServerError,
}


def conventions(event: Request, get_response: Callable[[Request], Response]) -> Response:
    rid = request_id(event)
    if event.context is not None:
        event.context["requestId"] = rid
    with invocation(rid, method=event.method, path=event.path):
        started = time.perf_counter()
        response = _as_problem(get_response(event))
        response.headers[REQUEST_ID_HEADER] = rid
        logger.info(
            "request",
            extra={"status": response.status_code, "latency_ms": round((time.perf_counter() - started) * 1000, 1)},
        )
    return response


def event_conventions(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Queue, stream and event handlers: their lines carry their own invocation's request id."""
    context = getattr(event, "context", None)
    rid = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
    with invocation(rid):
        return get_response(event)


def _as_problem(response: Response) -> Response:
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return response
    error_type = _CHALICE_ERRORS.get(str(body["Code"]), ServerError)
    if error_type is ServerError:
        logger.error("unhandled error", extra={"chalice_error": json.dumps(body)})
        error: DomainError = ServerError()
    else:
        error = error_type(detail=str(body.get("Message", "")) or None)
    allow = response.headers.get("Allow")
    return problem_response(error, {"Allow": str(allow)} if allow else None)
