"""The one place where HTTP meets the services: auth context, roles, rate limits, parsing,
idempotency and error mapping. Views stay about ten lines."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from chalice import Blueprint, CORSConfig, Response
from chalice.app import ChaliceAuthorizer, Request, RouteEntry
from pydantic import BaseModel, ValidationError

from chalicelib.core import wiring
from chalicelib.core.api import paths
from chalicelib.core.api.operation import Operation
from chalicelib.core.api.problems import JSON, from_validation_error, problem_response
from chalicelib.core.clock import utc_now
from chalicelib.core.domain import audit
from chalicelib.core.domain.access import Actor, Permission, Principal, role_allows
from chalicelib.core.domain.errors import (
    DomainError,
    Forbidden,
    InvalidAuthorizationHeader,
    InvalidInput,
    InvalidPayload,
    Problem,
)
from chalicelib.core.domain.pagination import PageRequest
from chalicelib.core.permissions import AUTHENTICATED, Access, declare
from chalicelib.core.services.ratelimit import request_class

ModelT = TypeVar("ModelT", bound=BaseModel)
IDEMPOTENCY_HEADER = "idempotency-key"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
MAX_JSON_BODY_BYTES = 1_048_576
# The public routes a browser calls from any page (join tokens, beacons): their credential is in
# the body, so nothing is sent or exposed that a foreign origin could abuse. A JSON body makes the
# browser ask first (the preflight), which API Gateway answers itself (infra/api.py) as does the
# devstack's gateway.
ANY_ORIGIN = CORSConfig(allow_origin="*", max_age=600)


@dataclass
class Reply:
    body: Any = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Set for a body that is sent as it is (a page, a script); otherwise the body is JSON.
    content_type: str | None = None


def request_id(request: Request) -> str:
    context = request.context or {}
    return str(context.get("requestId") or uuid.uuid4())


class Call:
    """What a view may read from the request, already validated."""

    def __init__(self, request: Request, actor: Actor | None, lambda_context: Any = None) -> None:
        self.request = request
        self._actor = actor
        self.lambda_context = lambda_context

    @property
    def actor(self) -> Actor:
        assert self._actor is not None, "route is not authenticated"
        return self._actor

    @property
    def request_id(self) -> str:
        return request_id(self.request)

    @property
    def path(self) -> str:
        return str((self.request.context or {}).get("path") or self.request.path)

    def json(self) -> Any:
        raw = self.request.raw_body
        if len(raw) > MAX_JSON_BODY_BYTES:
            raise InvalidPayload(detail=f"The body must not exceed {MAX_JSON_BODY_BYTES} bytes.")
        if not raw.strip():
            raise InvalidPayload(detail="The body must be a JSON object.")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise InvalidPayload(detail="The body is not valid JSON.") from exc

    def body(self, model: type[ModelT]) -> ModelT:
        data = self.json()
        if not isinstance(data, dict):
            raise InvalidPayload(detail="The body must be a JSON object.")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc) from exc

    def query_values(self) -> dict[str, list[str]]:
        params = self.request.query_params
        if not params:
            return {}
        return {key: list(params.getlist(key)) for key in params}

    def query(self, model: type[ModelT], data: dict[str, Any]) -> ModelT:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc, in_query=True) from exc

    def single(self, name: str) -> str | None:
        values = self.query_values().get(name)
        return values[-1] if values else None

    def page(self) -> PageRequest:
        data = {k: v for k in ("currentPage", "pageSize") if (v := self.single(k)) is not None}
        return self.query(PageRequest, data)

    def filters(self, *names: str) -> list[tuple[str, str]]:
        """The query pairs that pagination links must keep."""
        values = self.query_values()
        return [(k, v) for k in values if k in names or _is_bracketed(k, names) for v in values[k]]


def _is_bracketed(key: str, names: tuple[str, ...]) -> bool:
    return any(key.startswith(f"{name}[") for name in names)


View = Callable[..., Any]


def endpoint(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    permission: Permission | None,
    authorizer: ChaliceAuthorizer | None = None,
    status: int = 200,
    replayable: bool = True,
    uses: tuple[Access, ...] = (),
    content_types: tuple[str, ...] = ("application/json",),
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    query: type[BaseModel] | None = None,
    response: str | None = None,
    paged: bool = False,
    operation_id: str | None = None,
    summary: str | None = None,
    response_content_type: str = "application/json",
    errors: tuple[int, ...] = (),
    tag: str | None = None,
    render_error: Callable[[DomainError, dict[str, str]], Response] = problem_response,
    error_response: str | None = None,
    cross_origin: bool = False,
) -> Callable[[View], View]:
    """Registers a view. `permission=None` means the route takes no credentials.

    `replayable=False` is for responses that must never be stored, such as a new secret.
    `uses` lists the AWS access the view needs beyond what every authenticated route needs.
    `content_types` are the request bodies Chalice lets through (others get 415).
    The rest describes the operation in `/openapi.json`: the JSON `body` and `query` models the
    view parses, the `response` model's name in the package's `schemas` module (a `paged` list of
    them in api.video's envelope), api.video's `operation_id` where it has the operation, and a
    `summary` (else the view's docstring), `errors` it answers beyond those its shape implies, and
    a `tag` (else the path's first segment).
    `cross_origin`: pages on any origin may call it (CORS), for the public routes a browser calls
    with a credential in the body (join tokens, beacons), never one that takes an API key.
    `render_error` answers a refusal (else api.video's problem JSON): a facade of another API
    (`/enablex/v2/…`) answers in that API's error shape, `error_response` names its model."""

    paths.require_known(path, paths.parameter_names(path))

    def decorate(view: View) -> View:
        @wraps(view)
        def handler(**path_params: str) -> Response:
            request = bp.current_request
            extra_headers: dict[str, str] = {}
            try:
                actor = None
                if permission is not None:
                    actor = _actor(request)
                    # Counted before the role check so that denied calls are limited too.
                    extra_headers.update(_rate_limit(actor, method, path))
                    _require(actor, permission)
                paths.check(path_params)
                call = Call(request, actor, bp.lambda_context)
                reply = _run(call, view, path_params, method, status, replayable)
            except DomainError as error:
                return render_error(error, extra_headers)
            headers = {**extra_headers, **reply.pop("headers")}
            if reply.get("replayed"):
                headers["Idempotent-Replayed"] = "true"
            body = reply["body"]
            if body is None:
                return Response(body="", status_code=reply["status"], headers=headers)
            if reply.get("content_type"):
                return Response(
                    body=body, status_code=reply["status"], headers={"Content-Type": reply["content_type"], **headers}
                )
            return Response(
                body=json.dumps(body), status_code=reply["status"], headers={"Content-Type": JSON, **headers}
            )

        handler.openapi = Operation(  # type: ignore[attr-defined]
            summary=summary or _summary(view),
            status=status,
            authenticated=permission is not None,
            operation_id=operation_id,
            body=body,
            body_required=body_required,
            query=query,
            response=response,
            paged=paged,
            content_types=content_types,
            response_content_type=response_content_type,
            errors=errors,
            tag=tag,
            error_response=error_response,
        )
        bp.route(path, **_route_options(method, content_types, authorizer, cross_origin, permission, path))(handler)
        declare(view.__name__, (*uses, *(AUTHENTICATED if permission is not None else ())))
        return view

    return decorate


def cors_preflight(route_methods: Mapping[str, RouteEntry]) -> dict[str, str] | None:
    """The headers of a path's CORS preflight, answered by API Gateway itself (a mock integration,
    as infra/api.py builds it and the devstack's gateway plays it) when one of the path's methods
    allows other origins; else None."""
    allowed = [m for m, entry in route_methods.items() if entry.cors is not None]
    if not allowed:
        return None
    headers = route_methods[allowed[0]].cors.get_access_control_headers()
    return {"Access-Control-Allow-Methods": ",".join([*allowed, "OPTIONS"]), **headers}


def _route_options(
    method: str,
    content_types: tuple[str, ...],
    authorizer: ChaliceAuthorizer | None,
    cross_origin: bool,
    permission: Permission | None,
    path: str,
) -> dict[str, Any]:
    options: dict[str, Any] = {"methods": [method], "content_types": list(content_types)}
    if authorizer is not None:
        options["authorizer"] = authorizer
    if cross_origin:
        if permission is not None:
            raise ValueError(f"{method} {path}: only routes that take no API key answer any origin")
        options["cors"] = ANY_ORIGIN
    return options


def _summary(view: View) -> str:
    doc = (view.__doc__ or "").strip()
    if doc:
        return doc.splitlines()[0].rstrip(".")
    return view.__name__.replace("_", " ").capitalize()


def _run(
    call: Call, view: View, path_params: dict[str, str], method: str, status: int, replayable: bool
) -> dict[str, Any]:
    def operation() -> dict[str, Any]:
        result = view(call, **path_params)
        reply = result if isinstance(result, Reply) else Reply(body=result)
        return {
            "status": reply.status or status,
            "body": reply.body,
            "headers": reply.headers,
            "content_type": reply.content_type,
        }

    key = call.request.headers.get(IDEMPOTENCY_HEADER)
    if method not in ("POST", "PATCH") or key is None or call._actor is None:
        return operation()
    if not replayable:
        raise InvalidInput(
            [
                Problem(
                    "invalid-header", "This operation returns a secret once and cannot be replayed.", "Idempotency-Key"
                )
            ]
        )
    if not _IDEMPOTENCY_KEY.match(key):
        raise InvalidInput(
            [
                Problem(
                    "invalid-header",
                    "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
                    "Idempotency-Key",
                )
            ]
        )
    from chalicelib.core.adapters import idempotency

    idempotency.register_lambda_context(call.lambda_context)
    payload = {"path": path_params, "query": call.query_values(), "body": fingerprint_body(call.request.raw_body)}
    return idempotency.run_once(call.actor.project_id, f"{method} {view.__name__}", key, payload, operation)


def fingerprint_body(raw: bytes | str) -> str:
    """What an Idempotency-Key's body is compared by: the canonical JSON of a JSON body (sorted
    keys, no insignificant whitespace; a repeated key counts as the view reads it, the last one),
    so a retry serialised differently is the same request. Any other body as its text."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _actor(request: Request) -> Actor:
    _refuse_repeated_authorization(request)
    context = (request.context or {}).get("authorizer") or {}
    return Actor(Principal.from_context(context), request_id(request))


def _refuse_repeated_authorization(request: Request) -> None:
    """Two Authorization headers are two credentials: which one API Gateway gave the authorizer
    is not ours to guess, so the request is refused. The proxy event keeps the last value in
    `headers` and every value in `multiValueHeaders` (names as the client spelled them)."""
    repeated = request.to_original_event().get("multiValueHeaders") or {}
    values = [v for name, vs in repeated.items() if name.lower() == "authorization" for v in (vs or [])]
    if len(values) > 1:
        raise InvalidAuthorizationHeader(detail="Send one Authorization header.")


def _require(actor: Actor, permission: Permission) -> None:
    role = actor.principal.role
    if not role_allows(role, permission):
        detail = f"{role.value} key lacks {permission.value}"
        wiring.audit_log().append(
            audit.record(actor, "auth.denied", "apiKey", actor.principal.key_id, utc_now(), detail=detail)
        )
        raise Forbidden(detail=f"A {role.value} key cannot perform this operation.")


def _rate_limit(actor: Actor, method: str, path: str) -> dict[str, str]:
    return wiring.rate_limiter().check(actor.project_id, request_class(method, path)).headers()
