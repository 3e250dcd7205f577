"""Hostile input never reaches a 5xx: path ids that collide with internal item keys, undecodable
credentials, wrong-typed token claims, two Authorization headers. Through the devstack's API
Gateway stand-in (it URL-decodes path parameters as API Gateway does) on in-process moto."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import jwt
import pytest

from app import app
from chalicelib.core.adapters.dynamodb import Table
from chalicelib.core.api.paths import PATH_PARAMETERS
from chalicelib.core.clock import epoch_seconds, utc_now
from chalicelib.platform import wiring as platform_wiring
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.platform.domain import tokens
from chalicelib.rooms.api import enablex
from chalicelib.rooms.domain.enablex import enablex_name
from devstack.gateway import Gateway, GatewayResponse, json_body

DOCS = "https://docs.api.video/reference/"
ARN = "arn:aws:execute-api:us-east-1:123456789012:api/stage/GET/videos"


@pytest.fixture
def gateway(aws: None) -> Gateway:
    return Gateway(app)


@pytest.fixture
def token(gateway: Gateway) -> str:
    issued = platform_wiring.project_service().create_project("hostile")
    response = gateway.handle(
        "POST", "/auth/api-key", {"Content-Type": "application/json"}, json.dumps({"apiKey": issued.value}).encode()
    )
    return str(json_body(response)["access_token"])


# Each one is a string a DynamoDB key or an S3 key could be built from: `#` separates the parts of
# the table's keys, so `vi…#X` or a bare `PROJECT` could name another item of the partition.
# Every one carries MARKER so that a spy on the table sees whether it reached a key.
MARKER = "ZZhostile"
HOSTILE_IDS = [
    f"x%23{MARKER}",
    f"vi0123456789012345678901%23{MARKER}",
    f"%23{MARKER}",
    MARKER,
    f"..{MARKER}",
    MARKER + "a" * 600,
    f"%00{MARKER}",
    f"%C3%A9{MARKER}",
]


@pytest.fixture
def table_keys(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every partition and sort key the app reads, queries or writes."""
    seen: list[str] = []
    for name in ("get", "query", "write", "write_if"):
        original = getattr(Table, name)

        def spy(self: Table, *args: object, _original: Any = original, **kwargs: object) -> Any:
            seen.append(repr((args, kwargs)))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Table, name, spy)
    return seen


def _routes_with_ids() -> list[tuple[str, str]]:
    return sorted((method, path) for path, methods in app.routes.items() if "{" in path for method in methods)


def _problem(response: GatewayResponse) -> dict[str, object]:
    assert response.headers.get("Content-Type", "").startswith("application/"), response.headers
    body = json_body(response)
    assert isinstance(body, dict) and str(body["type"]).startswith(DOCS) and body["status"] == response.status
    return body


def _enablex_refusal(response: GatewayResponse, name: str) -> None:
    """The EnableX facade refuses in EnableX's shape: `result` is the status, `desc` names the attribute."""
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = json_body(response)
    assert isinstance(body, dict) and body["result"] == response.status and body["error"], body
    assert response.status == 400 or name in body["desc"], body


@pytest.mark.parametrize(("method", "path"), _routes_with_ids())
def test_hostile_path_ids_answer_404_or_400_problem_json_and_never_reach_a_key(
    gateway: Gateway, token: str, table_keys: list[str], method: str, path: str
) -> None:
    for hostile in HOSTILE_IDS:
        for name in re.findall(r"{(\w+)}", path):
            filled = path
            for other in re.findall(r"{(\w+)}", path):
                filled = filled.replace("{" + other + "}", hostile if other == name else PATH_PARAMETERS[other].example)
            content_type = app.routes[path][method].content_types[0]
            if content_type.startswith("multipart/"):
                content_type += "; boundary=x"
            headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
            response = gateway.handle(method, filled, headers, b"{}" if method in ("POST", "PATCH") else b"")
            assert response.status in (400, 404), (method, filled, response.status, response.body[:300])
            if path.startswith(enablex.BASE):
                _enablex_refusal(response, enablex_name(name))
                assert not [key for key in table_keys if MARKER in key], (method, filled)
                continue
            body = _problem(response)
            if response.status == 404:
                assert body["type"] == DOCS + "resource-not-found", body
            if not PATH_PARAMETERS[name].matches(unquote(hostile)):  # an opaque uploadId may be letters
                assert response.status == 400 or body["name"] == name, body
                assert not [key for key in table_keys if MARKER in key], (method, filled)


def test_every_path_parameter_of_the_route_table_has_a_pattern() -> None:
    names = {name for _, path in _routes_with_ids() for name in re.findall(r"{(\w+)}", path)}
    assert names <= set(PATH_PARAMETERS)
    for name in names:
        parameter = PATH_PARAMETERS[name]
        assert re.fullmatch(parameter.pattern, parameter.example), name
        assert not re.fullmatch(parameter.pattern, "x#y") and not re.fullmatch(parameter.pattern, "")


def _basic(raw: bytes | str) -> str:
    return f"Basic {raw if isinstance(raw, str) else base64.b64encode(raw).decode()}"


HOSTILE_AUTHORIZATION = [
    "Basic ÿÿÿÿ",  # non-ASCII where base64 is expected
    "Basic Zm9v\u00e9",
    "Basic %%%%",
    "Basic Zm9",  # bad padding
    _basic(b"\xff\xfe:"),  # base64 of bytes that are not UTF-8
    "Basic vpk_pr0123456789012345678901_key0123456789012345678901_" + "é" * 40,  # not base64 at all
    _basic(("vpk_pr0123456789012345678901_key0123456789012345678901_" + "é" * 40 + ":").encode()),
    _basic(b":"),
    "Bearer ÿÿÿ.ÿÿÿ.ÿÿÿ",
    "Bearer " + "a" * 10_000,
    "Bearer e30.e30.e30",
    "Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6W119.e30.x",  # kid is a list
    "Basic",
    "Bearer",
    "\u00e9\u00e9 \u00e9",
    "Basic " + "\x00" * 8,
]


@pytest.mark.parametrize("authorization", HOSTILE_AUTHORIZATION)
def test_hostile_authorization_headers_are_401_problems(gateway: Gateway, authorization: str) -> None:
    response = gateway.handle("GET", "/videos", {"Authorization": authorization}, b"")
    assert response.status == 401, (authorization, response.status, response.body[:300])
    _problem(response)


def _signed(claims: dict[str, object]) -> str:
    """Signed with the real active key; PyJWS signs any payload (jwt.encode would refuse some types)."""
    key = platform_wiring.signing_keys().load().active()
    payload = json.dumps(claims).encode()
    return jwt.api_jws.PyJWS().encode(payload, key.secret, algorithm=tokens.ALGORITHM, headers={"kid": key.kid})


def _claims(**overrides: object) -> dict[str, object]:
    now = utc_now()
    claims: dict[str, object] = {
        "iss": platform_wiring.settings().token_issuer,
        "aud": tokens.AUDIENCE,
        "sub": "key0123456789012345678901",
        "pid": "pr0123456789012345678901",
        "role": "admin",
        "iat": epoch_seconds(now),
        "nbf": epoch_seconds(now),
        "exp": epoch_seconds(now + timedelta(minutes=5)),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


WRONG_CLAIMS = [
    {"pid": 12},
    {"pid": ["pr0123456789012345678901"]},
    {"pid": "pr0123456789012345678901#KEY"},
    {"sub": {"a": 1}},
    {"sub": "key#x"},
    {"role": ["admin"]},
    {"role": {"x": 1}},
    {"role": None},
    {"pid": None},
    {"iat": "yesterday"},
    {"exp": "never"},
    {"aud": 5},
    {"iss": ["x"]},
]


@pytest.mark.parametrize("overrides", WRONG_CLAIMS)
def test_wrong_typed_claims_are_invalid_tokens(gateway: Gateway, token: str, overrides: dict[str, object]) -> None:
    response = gateway.handle("GET", "/videos", {"Authorization": f"Bearer {_signed(_claims(**overrides))}"}, b"")
    assert response.status == 401, (overrides, response.status, response.body[:300])
    assert _problem(response)["type"] == DOCS + "authentication-invalid-access-token"


@pytest.mark.parametrize("authorization", [*HOSTILE_AUTHORIZATION, "Bearer x", ""])
def test_the_authorizer_never_raises(aws: None, authorization: str) -> None:
    event = {"type": "TOKEN", "authorizationToken": authorization, "methodArn": ARN}
    policy = api_key_authorizer(event, None)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_two_authorization_headers_are_refused(gateway: Gateway, token: str) -> None:
    """API Gateway's proxy event holds the last value in `headers` and every value in
    `multiValueHeaders`; a request carrying two credentials is ambiguous and is refused."""
    issued = platform_wiring.project_service().create_project("other")
    other = f"Basic {base64.b64encode((issued.value + ':').encode()).decode()}"
    pairs = [("Authorization", f"Bearer {token}"), ("Authorization", other)]
    response = gateway.handle("GET", "/videos", pairs, b"")
    assert response.status == 401, (response.status, response.body[:300])
    assert _problem(response)["type"] == DOCS + "authentication-invalid-authorization-header-value"
