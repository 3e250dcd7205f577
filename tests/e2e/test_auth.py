"""Authentication, roles, key management and the audit log, over raw HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from .support import Api, IssuedKey, Tenant, assert_problem, basic, jwt_claims, random_id, wrong_secret

pytestmark = pytest.mark.e2e

PROTECTED = [
    ("GET", "/videos"),
    ("POST", "/videos"),
    ("GET", "/tags"),
    ("GET", "/discarded/videos"),
    ("GET", "/api-keys"),
    ("GET", "/audit-events"),
]


def audit(api: Api, admin: IssuedKey, **filters: str) -> list[dict[str, Any]]:
    return api.list_all("/audit-events", admin.api_key, filters)


# --- credentials -------------------------------------------------------------------------------


def test_wrong_api_key_is_rejected(api: Api, project_a: Tenant) -> None:
    unknown = wrong_secret(project_a.api_key)
    for value in ("not-a-key", unknown):
        assert_problem(api.raw("POST", "/auth/api-key", json={"apiKey": value}), 401, "authentication-invalid-api-key")
    assert_problem(api.raw("GET", "/videos", headers=basic(unknown)), 401, "authentication-invalid-api-key")


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_missing_authorization_header_is_rejected(api: Api, method: str, path: str) -> None:
    response = api.raw(method, path, json={"title": "x"} if method == "POST" else None)
    assert_problem(response, 401, "authentication-missing-authorization-header")


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer a.b.c", "bearer eyJhbGciOiJIUzI1NiJ9.e30.x"])
def test_garbage_bearer_token_is_rejected(api: Api, header: str) -> None:
    response = api.raw("GET", "/videos", headers={"Authorization": header})
    assert_problem(response, 401, "authentication-invalid-access-token")


def test_tampered_access_token_is_rejected(api: Api, project_a: Tenant) -> None:
    token = api.token_pair(project_a.api_key)["access_token"]
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BB'}"
    response = api.raw("GET", "/videos", headers={"Authorization": f"Bearer {forged}"})
    assert_problem(response, 401, "authentication-invalid-access-token")


@pytest.mark.parametrize("header", ["Token abc", "Basic !!!notbase64", "Basic " + "Og=="])
def test_malformed_authorization_header_is_rejected(api: Api, header: str) -> None:
    response = api.raw("GET", "/videos", headers={"Authorization": header})
    assert_problem(response, 401, "authentication-invalid-authorization-header-value")


def test_token_response_has_the_four_keys_the_sdk_reads(api: Api, project_a: Tenant) -> None:
    pair = api.token_pair(project_a.api_key)

    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == 3600
    assert pair["access_token"].count(".") == 2
    assert pair["refresh_token"]


def test_basic_auth_with_the_api_key_works(api: Api, project_a: Tenant) -> None:
    listed = api.raw("GET", "/videos", headers=basic(project_a.api_key))
    created = api.raw("POST", "/videos", headers=basic(project_a.api_key), json={"title": "basic auth"})

    assert listed.status_code == 200, listed.text
    assert created.status_code == 201, created.text
    assert api.ok("GET", f"/videos/{created.json()['videoId']}", project_a.api_key)["title"] == "basic auth"


def test_bearer_scheme_is_case_insensitive(api: Api, project_a: Tenant) -> None:
    token = api.token_pair(project_a.api_key)["access_token"]
    assert api.raw("GET", "/tags", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_refresh_token_rotates_and_cannot_be_reused(api: Api, project_a: Tenant) -> None:
    first = api.token_pair(project_a.api_key)

    refreshed = api.raw("POST", "/auth/refresh", json={"refreshToken": first["refresh_token"]})

    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert set(second) >= {"token_type", "expires_in", "access_token", "refresh_token"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    new_bearer = {"Authorization": f"Bearer {second['access_token']}"}
    assert api.raw("GET", "/videos", headers=new_bearer).status_code == 200

    reused = api.raw("POST", "/auth/refresh", json={"refreshToken": first["refresh_token"]})
    assert_problem(reused, 401, "authentication-invalid-refresh-token")

    # The reuse revoked the whole family (RFC 9700 §4.14.2): the successor is refused too.
    third = api.raw("POST", "/auth/refresh", json={"refreshToken": second["refresh_token"]})
    assert_problem(third, 401, "authentication-invalid-refresh-token")
    for bogus in ("garbage", second["refresh_token"][:-3] + "xyz"):
        response = api.raw("POST", "/auth/refresh", json={"refreshToken": bogus})
        assert_problem(response, 401, "authentication-invalid-refresh-token")


# --- roles -------------------------------------------------------------------------------------


def test_viewer_can_read_but_not_write(api: Api, admin_a: IssuedKey, viewer_a: IssuedKey) -> None:
    video = api.create_video(admin_a.api_key, title="viewer target")
    vid = video["videoId"]

    assert api.ok("GET", "/videos", viewer_a.api_key)["data"] is not None
    assert api.ok("GET", f"/videos/{vid}", viewer_a.api_key)["title"] == "viewer target"
    assert api.ok("GET", f"/videos/{vid}/status", viewer_a.api_key) is not None
    assert api.ok("GET", "/tags", viewer_a.api_key)["data"] is not None
    assert api.ok("GET", "/discarded/videos", viewer_a.api_key)["data"] is not None

    writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/videos", {"title": "nope"}),
        ("PATCH", f"/videos/{vid}", {"title": "nope"}),
        ("DELETE", f"/videos/{vid}", None),
        ("PATCH", f"/discarded/videos/{vid}", {"discarded": False}),
    ]
    for method, path, body in writes:
        response = api.call(method, path, viewer_a.api_key, json=body)
        assert_problem(response, 403, "authorization-insufficient-role")

    assert api.ok("GET", f"/videos/{vid}", admin_a.api_key)["title"] == "viewer target"


def test_denials_are_audited(api: Api, admin_a: IssuedKey, viewer_a: IssuedKey) -> None:
    denied = api.call("POST", "/videos", viewer_a.api_key, json={"title": "denied"})
    assert denied.status_code == 403

    events = audit(api, admin_a, action="auth.denied", resourceId=viewer_a.key_id)

    mine = [e for e in events if e["requestId"] == denied.headers["X-Request-Id"]]
    assert len(mine) == 1
    assert mine[0]["actorKeyId"] == viewer_a.key_id


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api-keys", None),
        ("POST", "/api-keys", {"name": "escalate", "role": "admin"}),
        ("GET", "/api-keys/{key}", None),
        ("PATCH", "/api-keys/{key}", {"role": "admin"}),
        ("DELETE", "/api-keys/{key}", None),
        ("GET", "/audit-events", None),
    ],
)
def test_operator_cannot_manage_keys_or_read_the_audit_log(
    api: Api, operator_a: IssuedKey, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = api.call(method, path.format(key=operator_a.key_id), operator_a.api_key, json=body)
    assert_problem(response, 403, "authorization-insufficient-role")


def test_operator_can_write_videos(api: Api, operator_a: IssuedKey) -> None:
    video = api.create_video(operator_a.api_key, title="by operator")
    api.ok("PATCH", f"/videos/{video['videoId']}", operator_a.api_key, json={"title": "edited"})
    api.ok("DELETE", f"/videos/{video['videoId']}", operator_a.api_key, expected=204)


# --- key management ----------------------------------------------------------------------------


def test_admin_creates_promotes_and_revokes_a_key(api: Api, admin_a: IssuedKey) -> None:
    created = api.call("POST", "/api-keys", admin_a.api_key, json={"name": "short-lived", "role": "viewer"})
    assert created.status_code == 201, created.text
    key = created.json()
    key_id, secret = key["keyId"], key["apiKey"]
    assert (key["name"], key["role"], key["revokedAt"]) == ("short-lived", "viewer", None)
    viewer_pair = api.token_pair(secret)
    viewer = {"Authorization": f"Bearer {viewer_pair['access_token']}"}
    assert api.raw("GET", "/videos", headers=viewer).status_code == 200
    assert api.raw("POST", "/videos", headers=viewer, json={"title": "x"}).status_code == 403

    shown = api.ok("GET", f"/api-keys/{key_id}", admin_a.api_key)
    assert shown["role"] == "viewer" and "apiKey" not in shown
    listed = api.list_all("/api-keys", admin_a.api_key)
    assert key_id in {k["keyId"] for k in listed}
    assert all("apiKey" not in k and "secretHash" not in k for k in listed)

    promoted = api.call("PATCH", f"/api-keys/{key_id}", admin_a.api_key, json={"role": "operator"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "operator"
    operator = {"Authorization": f"Bearer {api.token_pair(secret)['access_token']}"}
    assert api.raw("POST", "/videos", headers=operator, json={"title": "promoted"}).status_code == 201

    revoked = api.call("DELETE", f"/api-keys/{key_id}", admin_a.api_key)
    assert revoked.status_code == 204, revoked.text

    assert api.ok("GET", f"/api-keys/{key_id}", admin_a.api_key)["revokedAt"] is not None
    assert_problem(api.raw("POST", "/auth/api-key", json={"apiKey": secret}), 401, "authentication-invalid-api-key")
    assert_problem(api.raw("GET", "/videos", headers=basic(secret)), 401, "authentication-invalid-api-key")
    refresh = api.raw("POST", "/auth/refresh", json={"refreshToken": viewer_pair["refresh_token"]})
    assert_problem(refresh, 401, "authentication-invalid-refresh-token")
    # Revoking twice is harmless.
    assert api.call("DELETE", f"/api-keys/{key_id}", admin_a.api_key).status_code == 204


def test_key_changes_are_audited_with_before_and_after(api: Api, admin_a: IssuedKey) -> None:
    created = api.call("POST", "/api-keys", admin_a.api_key, json={"name": "audited", "role": "viewer"})
    key_id = created.json()["keyId"]
    changed = api.call("PATCH", f"/api-keys/{key_id}", admin_a.api_key, json={"role": "operator"})
    renamed = api.call("PATCH", f"/api-keys/{key_id}", admin_a.api_key, json={"name": "renamed"})
    revoked = api.call("DELETE", f"/api-keys/{key_id}", admin_a.api_key)

    events = {e["action"]: e for e in audit(api, admin_a, resourceType="apiKey", resourceId=key_id)}

    assert set(events) == {"apiKey.create", "apiKey.roleChange", "apiKey.update", "apiKey.revoke"}
    for action, response in [
        ("apiKey.create", created),
        ("apiKey.roleChange", changed),
        ("apiKey.update", renamed),
        ("apiKey.revoke", revoked),
    ]:
        event = events[action]
        assert event["actorKeyId"] == admin_a.key_id
        assert event["requestId"] == response.headers["X-Request-Id"]
        assert event["resourceId"] == key_id and event["resourceType"] == "apiKey"
        assert event["at"].endswith("+00:00")
    assert events["apiKey.create"]["before"] is None
    assert events["apiKey.create"]["after"]["role"] == "viewer"
    assert (events["apiKey.roleChange"]["before"]["role"], events["apiKey.roleChange"]["after"]["role"]) == (
        "viewer",
        "operator",
    )
    assert events["apiKey.update"]["after"]["name"] == "renamed"
    assert (events["apiKey.revoke"]["before"]["revoked"], events["apiKey.revoke"]["after"]["revoked"]) == (False, True)
    assert all("secretHash" not in str(e) for e in events.values())

    only_role_changes = audit(api, admin_a, action="apiKey.roleChange", resourceId=key_id)
    assert [e["action"] for e in only_role_changes] == ["apiKey.roleChange"]
    assert audit(api, admin_a, resourceId=key_id, to="2000-01-01T00:00:00+00:00") == []


def test_video_changes_are_audited_with_before_and_after(api: Api, admin_a: IssuedKey) -> None:
    created = api.call("POST", "/videos", admin_a.api_key, json={"title": "audited video"})
    vid = created.json()["videoId"]
    updated = api.call("PATCH", f"/videos/{vid}", admin_a.api_key, json={"title": "audited video v2"})
    deleted = api.call("DELETE", f"/videos/{vid}", admin_a.api_key)
    restored = api.call("PATCH", f"/discarded/videos/{vid}", admin_a.api_key, json={"discarded": False})

    events = {e["action"]: e for e in audit(api, admin_a, resourceType="video", resourceId=vid)}
    assert set(events) == {"video.create", "video.update", "video.delete", "video.restore"}
    for action, call in [
        ("video.create", created),
        ("video.update", updated),
        ("video.delete", deleted),
        ("video.restore", restored),
    ]:
        assert events[action]["actorKeyId"] == admin_a.key_id
        assert events[action]["requestId"] == call.headers["X-Request-Id"]
    assert events["video.create"]["before"] is None
    assert events["video.create"]["after"]["title"] == "audited video"
    assert events["video.update"]["before"]["title"] == "audited video"
    assert events["video.update"]["after"]["title"] == "audited video v2"
    assert events["video.delete"]["before"]["discardedAt"] is None
    assert events["video.delete"]["after"]["discardedAt"] is not None
    assert events["video.restore"]["after"]["discardedAt"] is None


def test_unknown_key_id_is_not_found(api: Api, admin_a: IssuedKey) -> None:
    missing = random_id("key")
    for method, body in (("GET", None), ("PATCH", {"role": "viewer"}), ("DELETE", None)):
        response = api.call(method, f"/api-keys/{missing}", admin_a.api_key, json=body)
        assert_problem(response, 404, "resource-not-found", name="keyId")


def test_every_response_carries_a_request_id(api: Api, project_a: Tenant) -> None:
    responses: list[requests.Response] = [
        api.raw("GET", "/videos"),
        api.raw("GET", "/nowhere"),
        api.raw("PUT", "/videos", headers=basic(project_a.api_key)),
        api.raw("POST", "/auth/api-key", json={"apiKey": "bad"}),
        api.call("GET", "/videos", project_a.api_key),
    ]
    ids = [r.headers.get("X-Request-Id") for r in responses]
    assert all(ids) and len(set(ids)) == len(ids)


def test_wrong_secret_for_an_existing_key_is_audited(api: Api, project_a: Tenant, admin_a: IssuedKey) -> None:
    key_id = jwt_claims(api.token_pair(project_a.api_key)["access_token"])["sub"]
    forged = wrong_secret(project_a.api_key)

    attempt = api.raw("POST", "/auth/api-key", json={"apiKey": forged})

    assert_problem(attempt, 401, "authentication-invalid-api-key")
    events = audit(api, admin_a, action="auth.failed", resourceId=key_id)
    assert attempt.headers["X-Request-Id"] in {e["requestId"] for e in events}
