"""api.video-style problem JSON, including the translation of pydantic errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chalice import Response
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from chalicelib.core.domain.errors import DomainError, InvalidInput, Problem

DOCS = "https://docs.api.video/reference/"
JSON = "application/json"

_ATTRIBUTE_TITLES = {
    "string_type": "This attribute must be a string.",
    "bool_type": "This attribute must be a boolean.",
    "bool_parsing": "This attribute must be a boolean.",
    "int_type": "This attribute must be an integer.",
    "int_parsing": "This attribute must be an integer.",
    "int_from_float": "This attribute must be an integer.",
    "list_type": "This attribute must be an array.",
    "model_type": "This attribute must be an object.",
    "model_attributes_type": "This attribute must be an object.",
    "dict_type": "This attribute must be an object.",
    "string_too_long": "This attribute is too long.",
    "string_too_short": "This attribute must not be empty.",
    "too_long": "This attribute has too many items.",
    "literal_error": "This attribute must be one of the allowed values.",
    "enum": "This attribute must be one of the allowed values.",
    "string_pattern_mismatch": "This attribute does not have the expected format.",
    "greater_than_equal": "This parameter is out of the allowed range of values.",
    "less_than_equal": "This parameter is out of the allowed range of values.",
    "datetime_parsing": "This attribute must be an ISO 8601 date-time.",
    "datetime_from_date_parsing": "This attribute must be an ISO 8601 date-time.",
    "datetime_type": "This attribute must be an ISO 8601 date-time.",
}


def attribute_name(location: Sequence[int | str]) -> str:
    """('metadata', 0, 'key') -> 'metadata[0][key]', the way api.video names nested fields."""
    head, *rest = [str(part) for part in location] or [""]
    return head + "".join(f"[{part}]" for part in rest)


def _problem_from(error: ErrorDetails, in_query: bool) -> Problem:
    name = attribute_name(error["loc"])
    if error["type"] == "missing":
        return Problem("attribute-required", "This attribute is required.", name)
    title = _ATTRIBUTE_TITLES.get(error["type"], "An attribute is invalid.")
    extra: dict[str, Any] = {}
    ctx = error.get("ctx") or {}
    if error["type"] in ("greater_than_equal", "less_than_equal"):
        extra["range"] = {k: v for k, v in (("min", ctx.get("ge")), ("max", ctx.get("le"))) if v is not None}
    if in_query:
        return Problem("request-invalid-query-parameter", "A query parameter is invalid.", name, error["msg"], extra)
    return Problem("invalid-attribute", title, name, error["msg"], extra)


def from_validation_error(error: ValidationError, in_query: bool = False) -> InvalidInput:
    problems = [_problem_from(e, in_query) for e in error.errors(include_url=False, include_input=False)]
    return InvalidInput(problems)


def _problem_body(problem: Problem, status: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": DOCS + problem.slug, "title": problem.title, "name": problem.name}
    if status is not None:
        body["status"] = status
    if problem.detail:
        body["detail"] = problem.detail
    body.update(problem.extra)
    return body


def problem_body(error: DomainError) -> dict[str, Any]:
    if isinstance(error, InvalidInput):
        body = _problem_body(error.first, error.status)
        body["problems"] = [_problem_body(p, error.status) for p in error.problems]
        return body
    return _problem_body(Problem(error.slug, error.title, error.name, error.detail), error.status)


def problem_response(error: DomainError, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(problem_body(error)),
        status_code=error.status,
        headers={"Content-Type": JSON, **error.headers, **(headers or {})},
    )
