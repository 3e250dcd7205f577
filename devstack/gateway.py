"""An API Gateway (REST, Lambda proxy) stand-in for the Chalice app.

It does what API Gateway does before and around the Lambda: route matching, the TOKEN
authorizer with its result cache, the gateway responses defined in chalicelib.core.resources, and
the proxy event and response formats.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from chalice import Chalice
from chalice.app import ChaliceAuthorizer, RouteEntry
from chalice.local import RouteMatcher

from chalicelib.core import resources
from chalicelib.core.api.http import cors_preflight

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


T = TypeVar("T")


class _RequestState(threading.local):
    current_request: Any = None
    lambda_context: Any = None


def concurrent_requests(app: Chalice) -> None:
    """Makes `app.current_request` and `app.lambda_context` (which blueprints read through the
    app) per thread, so one app object serves concurrent invocations. Chalice stores both on the
    app in `__call__`; a Lambda instance runs one invocation at a time, so it never needed more.
    Building one app per thread is not an option: Chalice consumes a blueprint's routes when it
    registers them, so a blueprint makes one app per process."""
    if isinstance(app, _ConcurrentChalice):
        return
    app._request_state = _RequestState()  # type: ignore[attr-defined]
    app.__class__ = type("ConcurrentChalice", (_ConcurrentChalice, type(app)), {})


class _ConcurrentChalice(Chalice):
    _request_state: _RequestState

    @property
    def current_request(self) -> Any:
        return self._request_state.current_request

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._request_state.current_request = value

    @property
    def lambda_context(self) -> Any:
        return self._request_state.lambda_context

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._request_state.lambda_context = value


# Stores a direct upload's body: (key, body, content type, metadata).
BodyStore = Callable[[str, bytes, str, dict[str, str]], None]


def uploads_bucket_store() -> BodyStore:
    """What API Gateway's S3 integration does: PutObject into the uploads bucket."""
    import os

    import boto3

    client = boto3.client("s3")
    bucket = os.environ[resources.UPLOADS_BUCKET.env]

    def store(key: str, body: bytes, content_type: str, metadata: dict[str, str]) -> None:
        client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata)

    return store


class Gateway:
    def __init__(
        self,
        app: Chalice,
        authorizer_ttl: int = resources.AUTHORIZER_RESULT_TTL_SECONDS,
        store_body: BodyStore | None = None,
    ) -> None:
        self.app = app
        self.matcher = RouteMatcher(list(app.routes))
        self.direct_routes = [(route, _path_pattern(route.path)) for route in resources.DIRECT_UPLOAD_ROUTES]
        self._store_body = store_body
        self.authorizer_ttl = authorizer_ttl
        self._auth_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        # Lambda runs many invocations at once, one per instance; here one per thread of the
        # server, with the app's per-request state kept per thread (concurrent_requests).
        concurrent_requests(app)
        # A route's first invocation builds its components (boto3 clients from one shared
        # session, which is not thread-safe): cold starts take turns, warm invocations do not.
        self._cold_lock = threading.Lock()
        self._warm: set[str] = set()

    def handle(
        self, method: str, raw_path: str, headers: Mapping[str, str] | Sequence[tuple[str, str]], body: bytes
    ) -> GatewayResponse:
        """`headers` as a mapping, or as the request's (name, value) pairs when a name repeats:
        like API Gateway, `headers` then holds the last value and `multiValueHeaders` all of them."""
        request_id = str(uuid.uuid4())
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        repeated: dict[str, list[str]] = {}
        for name, value in pairs:
            repeated.setdefault(name.lower(), []).append(value)
        headers = {name: values[-1] for name, values in repeated.items()}
        split = urlsplit(raw_path)
        path = split.path if split.path == "/" else split.path.rstrip("/")
        direct = self._direct_upload(method, path, split.query, headers, body, request_id)
        if direct is not None:
            return direct
        try:
            match = self.matcher.match_route(path)
        except ValueError:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id, {})
        route_methods = self.app.routes[match.route]
        if method == "OPTIONS" and "OPTIONS" not in route_methods:
            preflight = cors_preflight(route_methods)
            if preflight is not None:
                return GatewayResponse(200, {**preflight, "Content-Type": "application/json"}, b"")
        event = self._event(method, path, match.route, match.captured, split.query, headers, body, request_id)
        event["multiValueHeaders"] = repeated
        entry = route_methods.get(method)
        if entry is not None and entry.authorizer is not None:
            denied = self._authorize(entry, method, path, event, request_id)
            if denied is not None:
                return denied
        function_name = entry.view_name if entry else "api_handler"
        context = LambdaContext(function_name=function_name, aws_request_id=request_id)
        result = self._invoke(function_name, lambda: self.app(event, context))
        return self._proxy_response(result, request_id)

    def _invoke(self, function_name: str, call: Callable[[], T]) -> T:
        if function_name in self._warm:
            return call()
        with self._cold_lock:
            result = call()
            self._warm.add(function_name)
            return result

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

    def _direct_upload(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes, request_id: str
    ) -> GatewayResponse | None:
        """The S3 integration of resources.DIRECT_UPLOAD_ROUTES: REQUEST authorizer (never
        cached: every part differs), then PutObject, then the response the authorizer chose."""
        for route, pattern in self.direct_routes:
            match = pattern.fullmatch(path)
            if match is not None and method == route.method:
                break
        else:
            return None
        functions = {function.name: function for function in self.app.pure_lambda_functions}
        arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{STAGE}/{method}{path}"
        lowered = {k.lower(): v for k, v in headers.items()}
        event = {
            "type": "REQUEST",
            "methodArn": arn,
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": lowered,
            "queryStringParameters": {k: v for k, v in parse_qsl(query, keep_blank_values=True)} or None,
            "pathParameters": {k: unquote(v) for k, v in match.groupdict().items()} or None,
            "requestContext": {"requestId": request_id, "resourcePath": route.path, "stage": STAGE},
        }
        context = LambdaContext(function_name=route.authorizer, aws_request_id=request_id)
        try:
            invoke: Any = functions[route.authorizer]
            policy: dict[str, Any] = self._invoke(route.authorizer, lambda: invoke(event, context))
        except Exception:  # noqa: BLE001 - API Gateway turns any authorizer crash into a 500
            return self._gateway_response("AUTHORIZER_FAILURE", request_id, {})
        decision = dict(policy.get("context") or {})
        if _effect(policy, arn) != "Allow":
            return self._gateway_response("ACCESS_DENIED", request_id, decision)
        store = self._store_body or uploads_bucket_store()
        self._store_body = store
        metadata = {
            "content-range": decision.get("contentRange", ""),
            "upload-token": decision.get("uploadToken", ""),
            # The multipart boundary travels as metadata: the object itself is opaque bytes.
            "content-type": lowered.get("content-type", ""),
        }
        try:
            store(decision["objectKey"], body, "application/octet-stream", metadata)
        except Exception:  # noqa: BLE001 - an S3 integration failure is the gateway's 500
            return self._gateway_response("AUTHORIZER_FAILURE", request_id, {})
        return GatewayResponse(
            status=int(decision["responseStatus"]),
            headers={"Content-Type": "application/json", "x-amzn-RequestId": request_id, "X-Request-Id": request_id},
            body=str(decision["responseBody"]).encode(),
        )

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


def _path_pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)))


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


def aws_requests_in_one_send() -> None:
    """The app's AWS calls send their request line, headers and body in one write: urllib3 sends the
    headers, then the body, two sends and two segments per call that the emulator reads in two
    wakeups (the devstack process's CPU under API load was about a sixth sends). Bytes on the wire
    are the same; a request with Expect: 100-continue keeps botocore's own handling. Idempotent."""
    from botocore import awsrequest

    connection: Any = awsrequest.AWSConnection
    if getattr(connection, "_head_held", False):
        return
    send_output, send, request = connection._send_output, connection.send, connection.request

    def hold_head(self: Any, message_body: Any = None, *args: Any, **kwargs: Any) -> Any:
        if message_body is not None or self._expect_header_set:
            return send_output(self, message_body, *args, **kwargs)
        self._buffer.extend((b"", b""))
        self._held_head = self._convert_to_bytes(self._buffer)
        del self._buffer[:]
        return None

    def send_with_head(self: Any, data: Any) -> Any:
        head = getattr(self, "_held_head", None)
        if head is None:
            return send(self, data)
        self._held_head = None
        if isinstance(data, bytes | bytearray):
            return send(self, head + bytes(data))
        send(self, head)
        return send(self, data)

    def request_then_flush(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._held_head = None
        try:
            answer = request(self, *args, **kwargs)
        except BaseException:
            self._held_head = None  # nothing half sent: the head never left
            raise
        head, self._held_head = getattr(self, "_held_head", None), None
        if head is not None:  # a request without a body
            send(self, head)
        return answer

    connection._send_output = hold_head
    connection.send = send_with_head
    connection.request = request_then_flush
    connection._head_held = True
