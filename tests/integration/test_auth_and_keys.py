from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta

import pytest
from chalice.test import Client

from chalicelib.core.clock import utc_now
from chalicelib.core.domain.access import Role
from chalicelib.platform import wiring as platform_wiring
from chalicelib.platform.domain.credentials import ApiKey
from chalicelib.platform.services.auth import rotate_signing_keys
from chalicelib.platform.services.projects import IssuedKey, KeyCreation
from tests.integration.conftest import ApiClient


def post_json(client: Client, path: str, body: object) -> object:
    return client.http.post(path, headers={"content-type": "application/json"}, body=json.dumps(body))


def test_token_response_has_exactly_what_the_sdk_reads(chalice_client: Client, tenant: ApiClient) -> None:
    response = post_json(chalice_client, "/auth/api-key", {"apiKey": tenant.issued.value})
    body = response.json_body  # type: ignore[attr-defined]
    assert set(body) == {"token_type", "expires_in", "access_token", "refresh_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600


def test_wrong_api_key_is_401_with_api_video_slug(chalice_client: Client, tenant: ApiClient) -> None:
    for bad in ("nope", tenant.issued.value[:-1] + "X"):
        response = post_json(chalice_client, "/auth/api-key", {"apiKey": bad})
        assert response.status_code == 401  # type: ignore[attr-defined]
        assert response.json_body["type"].endswith("authentication-invalid-api-key")  # type: ignore[attr-defined]
    missing = post_json(chalice_client, "/auth/api-key", {})
    assert missing.status_code == 400  # type: ignore[attr-defined]


def test_refresh_rotates_and_a_used_refresh_token_is_refused(chalice_client: Client, tenant: ApiClient) -> None:
    first = post_json(chalice_client, "/auth/api-key", {"apiKey": tenant.issued.value}).json_body  # type: ignore[attr-defined]
    second = post_json(chalice_client, "/auth/refresh", {"refreshToken": first["refresh_token"]})
    assert second.status_code == 200  # type: ignore[attr-defined]
    assert second.json_body["refresh_token"] != first["refresh_token"]  # type: ignore[attr-defined]
    reused = post_json(chalice_client, "/auth/refresh", {"refreshToken": first["refresh_token"]})
    assert reused.status_code == 401  # type: ignore[attr-defined]
    assert reused.json_body["type"].endswith("authentication-invalid-refresh-token")  # type: ignore[attr-defined]


def test_concurrent_refresh_with_one_token_succeeds_once(chalice_client: Client, tenant: ApiClient) -> None:
    token = post_json(chalice_client, "/auth/api-key", {"apiKey": tenant.issued.value}).json_body["refresh_token"]  # type: ignore[attr-defined]
    service = platform_wiring.auth_service()
    outcomes: list[str] = []

    def use() -> None:
        try:
            service.refresh(token, "req")
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001 - the test records which error each racer saw
            outcomes.append(type(exc).__name__)

    racers = [threading.Thread(target=use) for _ in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert outcomes.count("ok") == 1 and set(outcomes) == {"ok", "InvalidRefreshToken"}


def test_basic_auth_with_the_key_as_username(chalice_client: Client, tenant: ApiClient) -> None:
    basic = base64.b64encode(f"{tenant.issued.value}:".encode()).decode()
    response = chalice_client.http.get("/videos", headers={"authorization": f"Basic {basic}"})
    assert response.status_code == 200


def test_viewer_reads_but_cannot_write_and_denials_are_audited(chalice_client: Client, tenant: ApiClient) -> None:
    issued = platform_wiring.project_service().create_key(tenant.project_id, KeyCreation(role=Role.VIEWER), actor=None)
    viewer = ApiClient(chalice_client, issued).login()
    assert viewer.call("GET", "/videos").status_code == 200
    denied = viewer.call("POST", "/videos", {"title": "x"})
    assert denied.status_code == 403 and denied.json_body["status"] == 403
    assert viewer.call("GET", "/api-keys").status_code == 403
    audit = tenant.call("GET", "/audit-events?action=auth.denied").json_body["data"]
    assert audit and audit[0]["actorKeyId"] == issued.key.key_id


def test_admin_manages_keys_and_revocation_applies_at_once(chalice_client: Client, tenant: ApiClient) -> None:
    created = tenant.call("POST", "/api-keys", {"name": "ci", "role": "operator"})
    assert created.status_code == 201 and created.json_body["apiKey"].startswith("vpk_")
    key_id = created.json_body["keyId"]
    operator_key = ApiKey(**{**tenant.issued.key.__dict__, "key_id": key_id, "role": Role.OPERATOR})
    operator = ApiClient(chalice_client, IssuedKey(key=operator_key, value=created.json_body["apiKey"])).login()
    assert operator.call("POST", "/videos", {"title": "ok"}).status_code == 201
    assert operator.call("GET", "/audit-events").status_code == 403

    demoted = tenant.call("PATCH", f"/api-keys/{key_id}", {"role": "viewer"})
    assert demoted.json_body["role"] == "viewer"
    assert operator.call("POST", "/videos", {"title": "no"}).status_code == 403

    assert tenant.call("DELETE", f"/api-keys/{key_id}").status_code == 204
    assert operator.call("GET", "/videos").status_code in (401, 403)
    relogin = post_json(chalice_client, "/auth/api-key", {"apiKey": created.json_body["apiKey"]})
    assert relogin.status_code == 401  # type: ignore[attr-defined]

    listed = tenant.call("GET", "/api-keys").json_body["data"]
    assert all("apiKey" not in k and "secretHash" not in k for k in listed)
    actions = [e["action"] for e in tenant.call("GET", f"/audit-events?resourceId={key_id}").json_body["data"]]
    assert [a for a in actions if a.startswith("apiKey.")] == ["apiKey.revoke", "apiKey.roleChange", "apiKey.create"]
    assert {"auth.denied", "auth.failed"} <= set(actions)


def test_keys_of_another_project_are_404(tenant: ApiClient, other_tenant: ApiClient) -> None:
    key_id = tenant.issued.key.key_id
    for method, body in (("GET", None), ("PATCH", {"role": "viewer"}), ("DELETE", None)):
        assert other_tenant.call(method, f"/api-keys/{key_id}", body).status_code == 404
    assert tenant.call("GET", f"/api-keys/{key_id}").json_body["role"] == "admin"


def test_signing_key_rotation_logs_no_one_out(tenant: ApiClient) -> None:
    before = tenant.token
    rotate_signing_keys(platform_wiring.signing_keys(), utc_now(), timedelta(hours=1))
    platform_wiring.signing_keys()._cached = None  # another process would not have the new key cached yet
    assert tenant.call("GET", "/videos").status_code == 200
    tenant.login()
    assert tenant.token != before
    assert tenant.call("GET", "/videos").status_code == 200


@pytest.mark.parametrize("role", ["owner", ""])
def test_unknown_roles_are_refused(tenant: ApiClient, role: str) -> None:
    response = tenant.call("POST", "/api-keys", {"role": role})
    assert response.status_code == 400 and response.json_body["name"] == "role"
