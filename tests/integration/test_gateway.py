"""The devstack's API Gateway stand-in: gateway responses, authorizer cache, proxy events."""

from __future__ import annotations

import base64
import json

import pytest
from chalice import Blueprint

from app import app
from chalicelib.core.api.http import endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.platform import wiring as platform_wiring
from devstack.gateway import Gateway, GatewayResponse, json_body
from tests.integration.conftest import ApiClient

DOCS = "https://docs.api.video/reference/"


@pytest.fixture
def gateway(aws: None) -> Gateway:
    return Gateway(app)


@pytest.fixture
def token(gateway: Gateway) -> str:
    issued = platform_wiring.project_service().create_project("gw")
    response = gateway.handle(
        "POST", "/auth/api-key", {"Content-Type": "application/json"}, _json({"apiKey": issued.value})
    )
    return str(json_body(response)["access_token"])


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


def call(
    gateway: Gateway, method: str, path: str, authorization: str | None = None, body: object = None
) -> GatewayResponse:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return gateway.handle(method, path, headers, b"" if body is None else _json(body))


def test_unknown_url_is_unrecognized_request_url(gateway: Gateway) -> None:
    response = call(gateway, "GET", "/nope/nothing")
    assert response.status == 404 and json_body(response)["type"] == DOCS + "unrecognized-request-url"


def test_missing_authorization_header(gateway: Gateway) -> None:
    response = call(gateway, "GET", "/videos")
    assert response.status == 401
    assert json_body(response) == {
        "type": DOCS + "authentication-missing-authorization-header",
        "title": 'The "Authorization" header is missing.',
        "name": "",
        "status": 401,
    }


@pytest.mark.parametrize(
    ("authorization", "slug"),
    [
        ("Bearer garbage", "authentication-invalid-access-token"),
        ("Token abc", "authentication-invalid-authorization-header-value"),
        (f"Basic {base64.b64encode(b'vpk_nope:').decode()}", "authentication-invalid-api-key"),
    ],
)
def test_authorizer_denials_render_api_video_problems(gateway: Gateway, authorization: str, slug: str) -> None:
    response = call(gateway, "GET", "/videos", authorization)
    body = json_body(response)
    assert response.status == 401 and body["type"] == DOCS + slug and body["status"] == 401
    assert '"' not in body["title"].replace('"Authorization"', "")


def test_wrong_method_on_a_known_path_is_405(gateway: Gateway, token: str) -> None:
    response = call(gateway, "PUT", "/videos", f"Bearer {token}")
    assert response.status == 405 and json_body(response)["type"] == DOCS + "method-not-allowed"


def test_allowed_request_carries_request_id_and_rate_headers(gateway: Gateway, token: str) -> None:
    response = call(gateway, "POST", "/videos", f"Bearer {token}", {"title": "via gateway"})
    assert response.status == 201
    assert response.headers["X-Request-Id"] == response.headers["x-amzn-RequestId"]
    assert int(response.headers["X-RateLimit-Remaining"]) < int(response.headers["X-RateLimit-Limit"])


def test_query_strings_and_trailing_slashes_reach_the_view(gateway: Gateway, token: str) -> None:
    for title in ("a b", "c"):
        call(gateway, "POST", "/videos", f"Bearer {token}", {"title": title, "tags": ["t x"]})
    response = call(gateway, "GET", "/videos/?tags%5B%5D=t+x&title=a+b", f"Bearer {token}")
    assert [v["title"] for v in json_body(response)["data"]] == ["a b"]


def test_authorizer_result_is_cached_per_token_like_api_gateway(gateway: Gateway, tenant: ApiClient) -> None:
    authorization = f"Bearer {tenant.token}"
    assert call(gateway, "GET", "/videos", authorization).status == 200
    tenant.call("DELETE", f"/api-keys/{tenant.issued.key.key_id}")
    # Revocation reaches requests once the cached authorization expires (60 s on AWS).
    assert call(gateway, "GET", "/videos", authorization).status == 200
    gateway.forget_authorizations()
    assert call(gateway, "GET", "/videos", authorization).status == 401


# -- cross-origin public routes ------------------------------------------------------------------

CROSS_ORIGIN_PATHS = {"/join": "POST", "/join/stats": "POST", "/embed/beacons": "POST", "/embed/watch": "POST"}


@pytest.mark.parametrize(("path", "method"), sorted(CROSS_ORIGIN_PATHS.items()))
def test_a_public_route_a_page_calls_answers_the_preflight_and_any_origin(
    gateway: Gateway, path: str, method: str
) -> None:
    origin = {"Origin": "https://customer.example", "Access-Control-Request-Method": method}
    preflight = gateway.handle("OPTIONS", path, {**origin, "Access-Control-Request-Headers": "content-type"}, b"")
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert set(preflight.headers["Access-Control-Allow-Methods"].split(",")) == {method, "OPTIONS"}
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"].split(",")
    # The refusal of a bad body is readable by the page too (else it sees only a network error).
    refused = gateway.handle(method, path, {**origin, "Content-Type": "application/json"}, b"{}")
    assert refused.status == 400 and refused.headers["Access-Control-Allow-Origin"] == "*"


def test_routes_that_take_an_api_key_answer_no_other_origin(gateway: Gateway, token: str) -> None:
    preflight = gateway.handle("OPTIONS", "/videos", {"Origin": "https://customer.example"}, b"")
    assert "Access-Control-Allow-Origin" not in preflight.headers and preflight.status != 200
    listed = call(gateway, "GET", "/videos", f"Bearer {token}")
    assert listed.status == 200 and "Access-Control-Allow-Origin" not in listed.headers


def test_only_a_route_without_credentials_may_answer_any_origin() -> None:
    declare = endpoint(Blueprint(__name__), "/videos", "GET", permission=Permission.READ, cross_origin=True)
    with pytest.raises(ValueError, match="only routes that take no API key"):
        declare(lambda call: None)
