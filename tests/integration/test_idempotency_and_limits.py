from __future__ import annotations

import pytest
from chalice.test import Client

from chalicelib.core import wiring as core_wiring
from tests.integration.conftest import ApiClient, new_project


def test_same_key_same_body_replays_the_first_response(tenant: ApiClient) -> None:
    headers = {"idempotency-key": "order-42"}
    first = tenant.call("POST", "/videos", {"title": "once"}, headers)
    second = tenant.call("POST", "/videos", {"title": "once"}, headers)
    assert first.status_code == second.status_code == 201
    assert first.json_body == second.json_body
    assert second.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert tenant.call("GET", "/videos").json_body["pagination"]["itemsTotal"] == 1


def test_same_key_different_body_is_422(tenant: ApiClient) -> None:
    tenant.call("POST", "/videos", {"title": "one"}, {"idempotency-key": "k1"})
    response = tenant.call("POST", "/videos", {"title": "two"}, {"idempotency-key": "k1"})
    assert response.status_code == 422 and response.json_body["type"].endswith("idempotency-key-reused")


def test_keys_are_scoped_to_the_project(tenant: ApiClient, other_tenant: ApiClient) -> None:
    mine = tenant.call("POST", "/videos", {"title": "same"}, {"idempotency-key": "shared"}).json_body
    theirs = other_tenant.call("POST", "/videos", {"title": "same"}, {"idempotency-key": "shared"}).json_body
    assert mine["videoId"] != theirs["videoId"]
    assert other_tenant.call("GET", f"/videos/{mine['videoId']}").status_code == 404


def test_patch_replay_does_not_apply_twice(tenant: ApiClient) -> None:
    video_id = tenant.call("POST", "/videos", {"title": "v"}).json_body["videoId"]
    for _ in range(2):
        tenant.call("PATCH", f"/videos/{video_id}", {"tags": ["x"]}, {"idempotency-key": "p1"})
    updates = tenant.call("GET", f"/audit-events?resourceId={video_id}&action=video.update").json_body
    assert updates["pagination"]["itemsTotal"] == 1


def test_malformed_idempotency_key_is_400(tenant: ApiClient) -> None:
    response = tenant.call("POST", "/videos", {"title": "v"}, {"idempotency-key": "x" * 256})
    assert response.status_code == 400 and response.json_body["name"] == "Idempotency-Key"


def test_failed_validation_is_not_remembered(tenant: ApiClient) -> None:
    assert tenant.call("POST", "/videos", {}, {"idempotency-key": "retry-me"}).status_code == 400
    assert tenant.call("POST", "/videos", {"title": "fixed"}, {"idempotency-key": "retry-me"}).status_code == 201


def test_rate_limit_headers_and_429(chalice_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOPLANE_RATE_LIMIT_READS", "3")
    core_wiring.reset()
    api = new_project(chalice_client)
    other = new_project(chalice_client, "other")
    remaining = [api.call("GET", "/videos").headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    limited = api.call("GET", "/videos")
    assert limited.status_code == 429 and limited.json_body["type"].endswith("too-many-requests")
    assert int(limited.headers["Retry-After"]) >= 1 and limited.headers["X-RateLimit-Limit"] == "3"
    assert other.call("GET", "/videos").status_code == 200
    assert api.call("POST", "/videos", {"title": "writes have their own budget"}).status_code == 201
