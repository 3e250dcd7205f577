"""The OpenAPI 3.1 description of the API, built from the Chalice route table and the pydantic
models each view declares on `endpoint(...)`.

Built offline (`python -m devstack.openapi` writes the file `GET /openapi.json` serves; a test keeps
it equal to what this module builds from the code), never per request: on Lambda a function holds
only its own context's routes, and the document covers every context.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from chalice import Chalice
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.core.api.operation import JSON_BODY, MULTIPART, Operation
from chalicelib.core.api.paths import PATH_PARAMETERS, parameter_names

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"


class Problem(BaseModel):
    """api.video's problem JSON: every error of the API has this shape."""

    type: str
    title: str
    name: str | None = None
    status: int | None = None
    detail: str | None = None
    problems: list[dict[str, Any]] | None = None


class PaginationLink(BaseModel):
    rel: str
    uri: str


class Pagination(BaseModel):
    """api.video's page-based pagination block."""

    model_config = {"populate_by_name": True}
    currentPage: int  # noqa: N815 - wire names
    currentPageItems: int  # noqa: N815
    pageSize: int  # noqa: N815
    pagesTotal: int  # noqa: N815
    itemsTotal: int  # noqa: N815
    links: list[PaginationLink]


def operation_of(view: Any) -> Operation:
    declared = getattr(view, "openapi", None)
    if not isinstance(declared, Operation):
        raise LookupError(f"{getattr(view, '__name__', view)!r} declares no OpenAPI operation (endpoint(...))")
    return declared


def build(
    app: Chalice,
    *,
    title: str,
    version: str,
    description: str,
    extra: Mapping[tuple[str, str], Operation] = {},
) -> dict[str, Any]:
    """The whole document: every route of `app` plus `extra` ((method, path) -> Operation, for
    routes served without a Lambda, such as the direct-to-S3 uploads)."""
    operations: dict[tuple[str, str], tuple[str, Operation]] = {}
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            view = entry.view_function
            package = view.__module__.rpartition(".")[0]
            operations[(method, path)] = (entry.view_name, _with_package(operation_of(view), package))
    for (method, path), operation in extra.items():
        operations[(method, path)] = (_name_from(method, path), operation)

    models = _Models()
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), (name, operation) in sorted(operations.items(), key=lambda item: (item[0][1], item[0][0])):
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, name, operation, models)
    schemas = models.schemas()
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token from POST /auth/api-key or POST /auth/refresh.",
                },
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "The API key as the user name, an empty password.",
                },
            },
        },
    }


def _with_package(operation: Operation, package: str) -> Operation:
    if operation.response_package is not None:
        return operation
    return Operation(**{**operation.__dict__, "response_package": package})


def _name_from(method: str, path: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path) if w]
    return "_".join([method.lower(), *words])


class _Models:
    """Collects the models the operations reference; one JSON Schema each under components.

    References are placeholders until `schemas()` runs: pydantic names a model by its class name
    unless two differ, so the final reference is known only once every model is in."""

    def __init__(self) -> None:
        self.references: list[tuple[dict[str, Any], type[BaseModel], JsonSchemaMode]] = []
        self.problem = self._refer(Problem, "serialization")
        self.pagination = self._refer(Pagination, "serialization")

    def _refer(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        placeholder: dict[str, Any] = {}
        self.references.append((placeholder, model, mode))
        return placeholder

    def body(self, model: type[BaseModel]) -> dict[str, Any]:
        return self._refer(model, "validation")

    def response(self, package: str, name: str) -> dict[str, Any]:
        return self._refer(getattr(importlib.import_module(f"{package}.schemas"), name), "serialization")

    def schemas(self) -> dict[str, Any]:
        pairs = list(dict.fromkeys((model, mode) for _, model, mode in self.references))
        refs, document = models_json_schema(pairs, ref_template=REF)
        for placeholder, model, mode in self.references:
            placeholder.update(refs[(model, mode)])
        definitions: dict[str, Any] = document.get("$defs", {})
        return dict(sorted(definitions.items()))


def _operation(method: str, path: str, name: str, operation: Operation, models: _Models) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": operation.operation_id or name,
        "summary": operation.summary,
        "tags": [operation.tag or _tag_of(path)],
        "security": [{"bearerAuth": []}, {"basicAuth": []}] if operation.authenticated else [],
    }
    parameters = [*_path_parameters(path), *_query_parameters(operation)]
    if operation.authenticated and method in ("POST", "PATCH"):
        parameters.append(_idempotency_header())
    if parameters:
        spec["parameters"] = parameters
    body = _request_body(operation, models)
    if body is not None:
        spec["requestBody"] = body
    spec["responses"] = _responses(method, path, operation, models)
    return spec


def _tag_of(path: str) -> str:
    first = path.strip("/").split("/")[0]
    return " ".join(word.capitalize() for word in first.split("-"))


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": PATH_PARAMETERS[name].schema(),
            "example": PATH_PARAMETERS[name].example,
        }
        for name in parameter_names(path)
    ]


def _query_parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    if operation.query is not None:
        schema = operation.query.model_json_schema(by_alias=True, ref_template=REF)
        definitions = schema.get("$defs", {})
        for name, declared in schema.get("properties", {}).items():
            prop = _inline(declared, definitions)
            parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": prop}
            if prop.get("type") == "array":
                # api.video's spelling of list filters: tags[]=a&tags[]=b.
                parameter["name"] = f"{name}[]"
                parameter["explode"] = True
            elif prop.get("type") == "object":
                parameter["style"] = "deepObject"
                parameter["explode"] = True
            parameters.append(parameter)
    for name, schema in operation.query_fields.items():
        parameters.append({"name": name, "in": "query", "required": False, "schema": schema})
    for name, schema in operation.header_fields.items():
        parameters.append({"name": name, "in": "header", "required": False, "schema": schema})
    if operation.paged:
        parameters += [
            {
                "name": "currentPage",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": "pageSize",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
            },
        ]
    return parameters


def _inline(schema: dict[str, Any], definitions: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters are described in place: resolve local references (enums)."""
    if "$ref" in schema:
        return _inline(dict(definitions[schema["$ref"].rsplit("/", 1)[-1]]), definitions)
    resolved = dict(schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in resolved:
            resolved[key] = [_inline(option, definitions) for option in resolved[key]]
    if isinstance(resolved.get("items"), dict):
        resolved["items"] = _inline(resolved["items"], definitions)
    resolved.pop("title", None)
    return resolved


def _idempotency_header() -> dict[str, Any]:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Replays the first response for 24 hours when the same key comes with the same body.",
        "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
    }


def _request_body(operation: Operation, models: _Models) -> dict[str, Any] | None:
    if MULTIPART in operation.content_types:
        properties: dict[str, Any] = {"file": {"type": "string", "format": "binary"}, **operation.form_fields}
        return {
            "required": True,
            "content": {MULTIPART: {"schema": {"type": "object", "required": ["file"], "properties": properties}}},
        }
    if operation.body is None:
        return None
    return {"required": operation.body_required, "content": {JSON_BODY: {"schema": models.body(operation.body)}}}


# Refusals API Gateway answers itself (the authorizer's, the body limits), in problem JSON.
GATEWAY_STATUSES = (401, 413, 415)
PROBLEMS_LISTED = ": every invalid attribute is listed in `problems`"


def _responses(method: str, path: str, operation: Operation, models: _Models) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if operation.status == 204 or (operation.response is None and operation.response_content_type == JSON_BODY):
        responses[str(operation.status)] = {"description": "Done; no content."}
    elif operation.response is None:
        responses[str(operation.status)] = {
            "description": "Success.",
            "content": {operation.response_content_type: {"schema": {"type": "string"}}},
        }
    else:
        assert operation.response_package is not None
        schema = models.response(operation.response_package, operation.response)
        if operation.paged:
            schema = {
                "type": "object",
                "required": ["data", "pagination"],
                "properties": {
                    "data": {"type": "array", "items": schema},
                    "pagination": models.pagination,
                },
            }
        responses[str(operation.status)] = {
            "description": "Success.",
            "content": {operation.response_content_type: {"schema": schema}},
        }
    own = models.problem
    if operation.error_response is not None:
        assert operation.response_package is not None
        own = models.response(operation.response_package, operation.error_response)
    for status, description in _errors(method, path, operation):
        schema = models.problem if status in GATEWAY_STATUSES else own
        said = description if schema is models.problem else description.replace(PROBLEMS_LISTED, "")
        responses[str(status)] = {"description": said, "content": {JSON_BODY: {"schema": schema}}}
    return responses


def _conflict(method: str, operation: Operation) -> str | None:
    if operation.authenticated and method in ("POST", "PATCH"):
        return "A request with this Idempotency-Key is still running, or the resource changed meanwhile."
    if 409 in operation.errors:
        return "The resource's state does not allow this (the problem's title says why)."
    return None


def _errors(method: str, path: str, operation: Operation) -> Iterable[tuple[int, str]]:
    takes_input = bool(operation.body or operation.query or operation.paged or parameter_names(path))
    takes_input = takes_input or MULTIPART in operation.content_types or bool(operation.query_fields)
    if takes_input or (operation.authenticated and method in ("POST", "PATCH")):
        yield 400, f"Bad request{PROBLEMS_LISTED}."
    if operation.authenticated or 401 in operation.errors:
        yield 401, "Missing, invalid or expired credentials."
    if operation.authenticated or 403 in operation.errors:
        yield 403, "The key's role does not allow this operation."
    if parameter_names(path) or 404 in operation.errors:
        yield 404, "No such resource in this project."
    conflict = _conflict(method, operation)
    if conflict:
        yield 409, conflict
    if operation.body is not None or MULTIPART in operation.content_types:
        yield 413, "The body is too large."
        yield 415, "The body's media type is not accepted."
    if operation.authenticated and method in ("POST", "PATCH"):
        yield 422, "This Idempotency-Key was used with another body."
    if operation.authenticated or 429 in operation.errors:
        yield 429, "Too many requests; see Retry-After."
    if 503 in operation.errors:
        yield 503, "A service the operation needs is not ready yet; retry."
