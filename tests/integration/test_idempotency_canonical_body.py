"""The idempotency fingerprint is the body's canonical JSON (sorted keys, no insignificant
whitespace): a client that re-serialises the same request differently on retry is replayed, not
told it reused its key for another body."""

from __future__ import annotations

from tests.integration.conftest import ApiClient

FIRST = '{"title": "retry me", "tags": ["a", "b"], "metadata": [{"key": "k", "value": "v"}]}'
SAME_REFORMATTED = '{\n  "metadata":[{"value":"v","key":"k"}],\n\t"tags":["a","b"],"title":"retry me"}  \n'


def test_same_body_other_whitespace_and_key_order_is_replayed(tenant: ApiClient) -> None:
    headers = {"idempotency-key": "canonical-1"}
    first = tenant.call("POST", "/videos", FIRST, headers)
    second = tenant.call("POST", "/videos", SAME_REFORMATTED, headers)
    assert first.status_code == 201 and second.status_code == 201, second.json_body
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json_body["videoId"] == first.json_body["videoId"]


def test_a_different_value_or_array_order_is_still_another_body(tenant: ApiClient) -> None:
    headers = {"idempotency-key": "canonical-2"}
    assert tenant.call("POST", "/videos", FIRST, headers).status_code == 201
    reordered_array = FIRST.replace('["a", "b"]', '["b", "a"]')
    response = tenant.call("POST", "/videos", reordered_array, headers)
    assert response.status_code == 422 and response.json_body["type"].endswith("idempotency-key-reused")
