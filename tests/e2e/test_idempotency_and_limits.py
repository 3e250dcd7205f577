"""`Idempotency-Key` replays, per tenant, and the rate-limit headers."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests

from .support import Api, Devstack, IssuedKey, Tenant, assert_problem

pytestmark = pytest.mark.e2e

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Retry-After")


def idempotent_post(api: Api, api_key: str, key: str, body: dict[str, Any]) -> requests.Response:
    return api.call("POST", "/videos", api_key, headers={"Idempotency-Key": key}, json=body)


def count_titled(api: Api, api_key: str, title: str) -> int:
    body = api.ok("GET", "/videos", api_key, params={"title": title})
    return int(body["pagination"]["itemsTotal"])


def test_same_key_and_body_replays_the_first_response(api: Api, admin_a: IssuedKey, mark: str) -> None:
    key = f"create-{mark}"
    body = {"title": f"{mark} once", "tags": [mark]}

    first = idempotent_post(api, admin_a.api_key, key, body)
    second = idempotent_post(api, admin_a.api_key, key, body)

    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json() == first.json()
    assert count_titled(api, admin_a.api_key, mark) == 1


def test_same_key_with_another_body_is_refused(api: Api, admin_a: IssuedKey, mark: str) -> None:
    key = f"create-{mark}"
    assert idempotent_post(api, admin_a.api_key, key, {"title": f"{mark} first"}).status_code == 201

    response = idempotent_post(api, admin_a.api_key, key, {"title": f"{mark} second"})

    assert_problem(response, 422, "idempotency-key-reused", "Idempotency-Key")
    assert count_titled(api, admin_a.api_key, mark) == 1


def test_keys_are_scoped_to_the_project(api: Api, admin_a: IssuedKey, project_b: Tenant, mark: str) -> None:
    key = f"shared-{mark}"
    body = {"title": f"{mark} per tenant"}

    in_a = idempotent_post(api, admin_a.api_key, key, body)
    in_b = idempotent_post(api, project_b.api_key, key, body)
    b_other_body = idempotent_post(api, project_b.api_key, f"other-{mark}", body)
    b_replay = idempotent_post(api, project_b.api_key, key, body)

    assert in_a.status_code == in_b.status_code == 201
    assert "Idempotent-Replayed" not in in_b.headers
    assert in_b.json()["videoId"] != in_a.json()["videoId"]
    assert b_replay.headers.get("Idempotent-Replayed") == "true"
    assert b_replay.json()["videoId"] == in_b.json()["videoId"]
    assert b_other_body.status_code == 201
    assert count_titled(api, admin_a.api_key, mark) == 1
    assert count_titled(api, project_b.api_key, mark) == 2
    # A's replay is still A's own video.
    assert idempotent_post(api, admin_a.api_key, key, body).json()["videoId"] == in_a.json()["videoId"]


def test_patch_replays_too(api: Api, admin_a: IssuedKey, mark: str) -> None:
    vid = api.create_video(admin_a.api_key, title=f"{mark} patched")["videoId"]
    headers = {"Idempotency-Key": f"patch-{mark}"}

    first = api.call("PATCH", f"/videos/{vid}", admin_a.api_key, headers=headers, json={"title": f"{mark} v2"})
    api.ok("PATCH", f"/videos/{vid}", admin_a.api_key, json={"title": f"{mark} v3"})
    replay = api.call("PATCH", f"/videos/{vid}", admin_a.api_key, headers=headers, json={"title": f"{mark} v2"})

    assert first.status_code == replay.status_code == 200
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["title"] == f"{mark} v2"
    assert api.ok("GET", f"/videos/{vid}", admin_a.api_key)["title"] == f"{mark} v3"


def test_same_key_on_another_video_is_refused(api: Api, admin_a: IssuedKey, mark: str) -> None:
    one = api.create_video(admin_a.api_key, title=f"{mark} one")["videoId"]
    two = api.create_video(admin_a.api_key, title=f"{mark} two")["videoId"]
    headers = {"Idempotency-Key": f"patch-{mark}"}
    api.ok("PATCH", f"/videos/{one}", admin_a.api_key, headers=headers, json={"description": "d"})

    response = api.call("PATCH", f"/videos/{two}", admin_a.api_key, headers=headers, json={"description": "d"})

    assert_problem(response, 422, "idempotency-key-reused")


@pytest.mark.parametrize("key", ["has space", "x" * 256, "tab\there"])
def test_malformed_idempotency_key(api: Api, admin_a: IssuedKey, key: str) -> None:
    response = idempotent_post(api, admin_a.api_key, key, {"title": "never created"})
    assert_problem(response, 400, "invalid-header", "Idempotency-Key")


def test_failed_requests_are_not_remembered(api: Api, admin_a: IssuedKey, mark: str) -> None:
    key = f"retry-{mark}"
    assert idempotent_post(api, admin_a.api_key, key, {}).status_code == 400

    retried = idempotent_post(api, admin_a.api_key, key, {"title": f"{mark} fixed"})

    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers


def rate(response: requests.Response) -> tuple[int, int, int]:
    limit, remaining, retry_after = (int(response.headers[name]) for name in RATE_HEADERS)
    return limit, remaining, retry_after


def test_rate_limit_headers_count_down(api: Api, project_b: Tenant) -> None:
    # The window is a fixed minute, so a reset between two calls is retried once.
    for _ in range(2):
        calls = [api.call("GET", "/videos", project_b.api_key, params={"pageSize": 1}) for _ in range(3)]
        assert all(c.status_code == 200 for c in calls)
        limits = [rate(c) for c in calls]
        remaining = [r for _, r, _ in limits]
        if remaining == sorted(remaining, reverse=True):
            break
    assert all(limit == limits[0][0] and limit > 0 for limit, _, _ in limits)
    assert remaining[0] > remaining[1] > remaining[2] >= 0
    assert all(1 <= retry_after <= 60 for _, _, retry_after in limits)


def test_reads_and_writes_are_limited_separately(api: Api, project_b: Tenant) -> None:
    read = api.call("GET", "/tags", project_b.api_key)
    write = api.call("POST", "/videos", project_b.api_key, json={"title": "rate " + secrets.token_hex(3)})
    invalid = api.call("POST", "/videos", project_b.api_key, json={})

    for response in (read, write, invalid):
        assert all(response.headers.get(name, "").isdigit() for name in RATE_HEADERS), response.headers
    assert rate(read)[0] != rate(write)[0]
    assert rate(invalid)[0] == rate(write)[0]


def test_key_creation_replay_does_not_show_the_secret_again(api: Api, admin_a: IssuedKey, mark: str) -> None:
    headers = {"Idempotency-Key": f"key-{mark}"}
    body = {"name": f"idempotent {mark}", "role": "viewer"}

    # A new secret is shown once, so key creation refuses to be replayable rather than store it.
    first = api.call("POST", "/api-keys", admin_a.api_key, headers=headers, json=body)
    assert_problem(first, 400, "invalid-header")
    assert api.call("POST", "/api-keys", admin_a.api_key, json=body).status_code == 201


def test_secrets_are_stored_only_as_hashes(api: Api, devstack: Devstack, admin_a: IssuedKey) -> None:
    key = api.ok("POST", "/api-keys", admin_a.api_key, expected=201, json={"role": "viewer"})["apiKey"]
    refresh = api.token_pair(key)["refresh_token"]

    stored = devstack.stored_text()

    for value in (key, refresh, devstack.dev_api_key):
        assert value.rsplit("_", 1)[1] not in stored


def test_idempotent_key_creation_stores_no_secret_in_clear(
    api: Api, devstack: Devstack, admin_a: IssuedKey, mark: str
) -> None:
    headers = {"Idempotency-Key": f"stored-{mark}"}
    refused = api.call("POST", "/api-keys", admin_a.api_key, headers=headers, json={"role": "viewer"})
    assert refused.status_code == 400
    key = api.ok("POST", "/api-keys", admin_a.api_key, expected=201, json={"role": "viewer"})

    assert key["apiKey"].rsplit("_", 1)[1] not in devstack.stored_text()
