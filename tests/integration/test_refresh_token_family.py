"""Refresh-token reuse revokes the whole family (OAuth 2.0 Security BCP, RFC 9700 §4.14.2): a
reused token means it leaked, and the server cannot tell the thief's successor from the
owner's, so every token descended from the same login stops working."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from tests.integration.conftest import ApiClient


def _post(client: Client, path: str, body: object) -> Any:
    return client.http.post(path, headers={"content-type": "application/json"}, body=json.dumps(body))


def _refresh(client: Client, token: str) -> Any:
    return _post(client, "/auth/refresh", {"refreshToken": token})


def test_reusing_a_rotated_refresh_token_revokes_its_successors(chalice_client: Client, tenant: ApiClient) -> None:
    first = _post(chalice_client, "/auth/api-key", {"apiKey": tenant.issued.value}).json_body["refresh_token"]
    second = _refresh(chalice_client, first).json_body["refresh_token"]
    third = _refresh(chalice_client, second).json_body["refresh_token"]  # the owner keeps rotating

    reused = _refresh(chalice_client, first)  # the thief replays the leaked first token
    assert reused.status_code == 401 and reused.json_body["type"].endswith("authentication-invalid-refresh-token")

    revoked = _refresh(chalice_client, third)  # the newest token of the family is dead too
    assert revoked.status_code == 401 and revoked.json_body["type"].endswith("authentication-invalid-refresh-token")

    audit = tenant.call("GET", "/audit-events").json_body["data"]
    assert any("its family revoked" in (e.get("detail") or "") for e in audit), audit


def test_another_login_of_the_same_key_is_a_separate_family(chalice_client: Client, tenant: ApiClient) -> None:
    leaked = _post(chalice_client, "/auth/api-key", {"apiKey": tenant.issued.value}).json_body["refresh_token"]
    other = _post(chalice_client, "/auth/api-key", {"apiKey": tenant.issued.value}).json_body["refresh_token"]
    _refresh(chalice_client, leaked)
    assert _refresh(chalice_client, leaked).status_code == 401
    assert _refresh(chalice_client, other).status_code == 200
