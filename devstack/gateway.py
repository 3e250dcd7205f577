"""An API Gateway (REST, Lambda proxy) stand-in for the Chalice app.

It does what API Gateway does before and around the Lambda: route matching, the TOKEN
authorizer with its result cache, the gateway responses defined in chalicelib.resources, and
the proxy event and response formats.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from chalice import Chalice
from chalice.app import ChaliceAuthorizer, RouteEntry
from chalice.local import RouteMatcher

from chalicelib import resources

STAGE = "api"
ACCOUNT = "123456789012"
API_ID = "devstack"
TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/problem+json")


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class LambdaContext:
    function_name: str
    timeout_ms: int = 30_000
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.timeout_ms - (time.monotonic() - self.started) * 1000))


class Gateway:
    def __init__(self, app: Chalice, authorizer_ttl: int = resources.AUTHORIZER_RESULT_TTL_SECONDS) -> None:
        self.app = app
        self.matcher = RouteMatcher(list(app.routes))
        self.authorizer_ttl = authorizer_ttl
        self._auth_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        # One Chalice app object keeps per-request state; Lambda runs one request per
        # instance, so requests take turns here.
        self._invoke_lock = threading.Lock()

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> GatewayResponse:
        request_id = str(uuid.uuid4())
        split = urlsplit(raw_path)
        path = split.path if split.path == "/" else split.path.rstrip("/")
        try:
            match = self.matcher.match_route(path)
        except ValueError:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id, {})
        route_methods = self.app.routes[match.route]
        event = self._event(method, path, match.route, match.captured, split.query, headers, body, request_id)
        entry = route_methods.get(method)
        if entry is not None and entry.authorizer is not None:
            denied = self._authorize(entry, method, path, event, request_id)
            if denied is not None:
                return denied
        context = LambdaContext(function_name=entry.view_name if entry else "api_handler", aws_request_id=request_id)
        with self._invoke_lock:
            result = self.app(event, context)
        return self._proxy_response(result, request_id)

    def _authorize(
        self, entry: RouteEntry, method: str, path: str, event: dict[str, Any], request_id: str
    ) -> GatewayResponse | None:
        authorizer = entry.authorizer
        assert isinstance(authorizer, ChaliceAuthorizer)
        header = (authorizer.config.header or "Authorization").lower()
        token = event["headers"].get(header)
        if not token:
            return self._gateway_response("UNAUTHORIZED", request_id, {})
        arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{STAGE}/{method}{path}"
        policy = self._cached_policy(authorizer, token, arn)
        if policy is None:
            return self._gateway_response("AUTHORIZER_FAILURE", request_id, {})
        context = dict(policy.get("context") or {})
        if _effect(policy, arn) != "Allow":
            return self._gateway_response("ACCESS_DENIED", request_id, context)
        event["requestContext"]["authorizer"] = {**context, "principalId": policy.get("principalId")}
        return None

    def _cached_policy(self, authorizer: ChaliceAuthorizer, token: str, arn: str) -> dict[str, Any] | None:
        key = (authorizer.name, token)
        cached = self._auth_cache.get(key)
        if cached and time.monotonic() - cached[0] < self.authorizer_ttl:
            return cached[1]
        try:
            policy = authorizer({"type": "TOKEN", "authorizationToken": token, "methodArn": arn}, None)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - API Gateway turns any authorizer crash into a 500
            return None
        if self.authorizer_ttl > 0:
            self._auth_cache[key] = (time.monotonic(), policy)
        return policy

    def forget_authorizations(self) -> None:
        self._auth_cache.clear()

    def _event(
        self,
        method: str,
        path: str,
        route: str,
        captured: dict[str, str],
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        request_id: str,
    ) -> dict[str, Any]:
        multi_query: dict[str, list[str]] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            multi_query.setdefault(key, []).append(value)
        lowered = {k.lower(): v for k, v in headers.items()}
        is_text = any(t in lowered.get("content-type", "application/json") for t in TEXT_TYPES)
        encoded_body: str | None
        if not body:
            encoded_body = None
        elif is_text:
            encoded_body = body.decode("utf-8", "replace")
        else:
            encoded_body = base64.b64encode(body).decode()
        return {
            "resource": route,
            "path": path,
            "httpMethod": method,
            "headers": lowered,
            "multiValueHeaders": {k: [v] for k, v in lowered.items()},
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": {k: unquote(v) for k, v in captured.items()} or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route,
                "httpMethod": method,
                "path": path,
                "stage": STAGE,
                "requestId": request_id,
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": "127.0.0.1"},
                "accountId": ACCOUNT,
                "apiId": API_ID,
            },
            "body": encoded_body,
            "isBase64Encoded": bool(body) and not is_text,
        }

    def too_large(self) -> GatewayResponse:
        return self._gateway_response("REQUEST_TOO_LARGE", str(uuid.uuid4()), {})

    def _gateway_response(self, kind: str, request_id: str, context: dict[str, Any]) -> GatewayResponse:
        spec = resources.GATEWAY_RESPONSES[kind]
        body = spec["template"]
        for name, value in context.items():
            body = body.replace(f"$context.authorizer.{name}", str(value))
        return GatewayResponse(
            status=spec["status"],
            headers={"Content-Type": "application/json", "x-amzn-RequestId": request_id, "X-Request-Id": request_id},
            body=body.encode(),
        )

    @staticmethod
    def _proxy_response(result: dict[str, Any], request_id: str) -> GatewayResponse:
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(str(v) for v in values)
        headers.setdefault("x-amzn-RequestId", request_id)
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        return GatewayResponse(status=int(result["statusCode"]), headers=headers, body=body)


def _effect(policy: dict[str, Any], arn: str) -> str | None:
    """Deny wins over Allow, as in IAM policy evaluation."""
    effects = set()
    for statement in policy.get("policyDocument", {}).get("Statement", []):
        resources_ = statement.get("Resource", [])
        if isinstance(resources_, str):
            resources_ = [resources_]
        if any(fnmatch.fnmatchcase(arn, pattern) for pattern in resources_):
            effects.add(statement.get("Effect"))
    if "Deny" in effects:
        return "Deny"
    return "Allow" if "Allow" in effects else None


def json_body(response: GatewayResponse) -> Any:
    return json.loads(response.body)
