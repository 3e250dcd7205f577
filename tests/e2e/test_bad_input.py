"""Bad requests get api.video problem JSON with the right status, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .support import Api, IssuedKey, Tenant, assert_problem, problem_names

pytestmark = pytest.mark.e2e

JSON_HEADERS = {"Content-Type": "application/json"}
LISTS = ["/videos", "/discarded/videos", "/tags", "/api-keys", "/audit-events"]


@pytest.fixture(scope="module")
def video_id(api: Api, admin_a: IssuedKey) -> str:
    return str(api.create_video(admin_a.api_key, title="bad input target")["videoId"])


def test_missing_title(api: Api, admin_a: IssuedKey) -> None:
    body = assert_problem(api.call("POST", "/videos", admin_a.api_key, json={}), 400, "attribute-required", "title")
    assert problem_names(body) == ["title"]


def test_every_wrong_typed_field_is_listed(api: Api, admin_a: IssuedKey) -> None:
    payload = {"title": 123, "public": "yes", "tags": "x", "metadata": [{"key": 1}]}

    response = api.call("POST", "/videos", admin_a.api_key, json=payload)

    body = assert_problem(response, 400, "invalid-attribute", "title")
    names = problem_names(body)
    assert {"title", "public", "tags", "metadata[0][key]"} <= set(names), names
    assert "metadata[0][value]" in names  # missing too
    by_name = {p["name"]: p for p in body["problems"]}
    assert by_name["tags"]["title"] == "This attribute must be an array."
    assert by_name["public"]["title"] == "This attribute must be a boolean."
    assert by_name["metadata[0][value]"]["type"].endswith("/attribute-required")


def test_update_reports_wrong_types_and_forbidden_nulls(api: Api, admin_a: IssuedKey, video_id: str) -> None:
    typed = api.call("PATCH", f"/videos/{video_id}", admin_a.api_key, json={"public": "no", "tags": [1]})
    assert set(problem_names(assert_problem(typed, 400, "invalid-attribute"))) == {"public", "tags[0]"}

    nulls = api.call("PATCH", f"/videos/{video_id}", admin_a.api_key, json={"title": None, "tags": None})
    assert set(problem_names(assert_problem(nulls, 400, "invalid-attribute"))) == {"title", "tags"}

    assert api.ok("GET", f"/videos/{video_id}", admin_a.api_key)["title"] == "bad input target"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"{not json", id="malformed"),
        pytest.param(b'{"title": "x",}', id="trailing-comma"),
        pytest.param(b'[{"title": "x"}]', id="array"),
        pytest.param(b'"title"', id="string"),
        pytest.param(b"null", id="null"),
        pytest.param(b"", id="empty"),
        pytest.param(b'\xff\xfe{"title": "x"}', id="not-utf8"),
    ],
)
def test_body_that_is_not_a_json_object(api: Api, admin_a: IssuedKey, video_id: str, raw: bytes) -> None:
    for method, path in (("POST", "/videos"), ("PATCH", f"/videos/{video_id}"), ("POST", "/api-keys")):
        response = api.call(method, path, admin_a.api_key, data=raw, headers=JSON_HEADERS)
        assert_problem(response, 400, "invalid-payload")


def test_deeply_nested_json_is_a_bad_payload(api: Api, admin_a: IssuedKey) -> None:
    nested = b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = api.call("POST", "/videos", admin_a.api_key, data=nested, headers=JSON_HEADERS)
    assert_problem(response, 400, "invalid-payload")


def test_body_over_one_mebibyte(api: Api, admin_a: IssuedKey) -> None:
    payload = json.dumps({"title": "big", "description": "x" * (1024 * 1024)}).encode()
    assert len(payload) > 1024 * 1024

    response = api.call("POST", "/videos", admin_a.api_key, data=payload, headers=JSON_HEADERS)

    assert_problem(response, 400, "invalid-payload")


def test_unsupported_content_type(api: Api, admin_a: IssuedKey) -> None:
    response = api.call(
        "POST", "/videos", admin_a.api_key, data=b'{"title": "x"}', headers={"Content-Type": "text/plain"}
    )
    assert_problem(response, 415, "unsupported-media-type")


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"currentPage": "0"}, "currentPage"),
        ({"currentPage": "-1"}, "currentPage"),
        ({"currentPage": "x"}, "currentPage"),
        ({"pageSize": "101"}, "pageSize"),
        ({"pageSize": "0"}, "pageSize"),
        ({"pageSize": "abc"}, "pageSize"),
    ],
)
def test_bad_pagination(api: Api, admin_a: IssuedKey, path: str, query: dict[str, str], name: str) -> None:
    response = api.call("GET", path, admin_a.api_key, params=query)
    body = assert_problem(response, 400, "request-invalid-query-parameter", name)
    assert problem_names(body) == [name]


@pytest.mark.parametrize(
    ("path", "query", "name"),
    [
        ("/videos", {"sortBy": "duration"}, "sortBy"),
        ("/videos", {"sortOrder": "sideways"}, "sortOrder"),
        ("/discarded/videos", {"sortBy": "nope"}, "sortBy"),
        ("/tags", {"sortBy": "title"}, "sortBy"),
        ("/audit-events", {"from": "yesterday"}, "from"),
    ],
)
def test_bad_sort_and_filter_parameters(
    api: Api, admin_a: IssuedKey, path: str, query: dict[str, str], name: str
) -> None:
    response = api.call("GET", path, admin_a.api_key, params=query)
    assert_problem(response, 400, "request-invalid-query-parameter", name)


def test_all_pagination_problems_are_listed(api: Api, admin_a: IssuedKey) -> None:
    query = {"currentPage": "0", "pageSize": "500"}
    body = assert_problem(
        api.call("GET", "/videos", admin_a.api_key, params=query), 400, "request-invalid-query-parameter"
    )
    assert set(problem_names(body)) == {"currentPage", "pageSize"}
    ranges = {p["name"]: p.get("range") for p in body["problems"]}
    assert ranges == {"currentPage": {"min": 1}, "pageSize": {"max": 100}}


@pytest.mark.parametrize("path", ["/nowhere", "/videos/a/b/c", "/v1/videos", "/discarded", "/"])
@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "authenticated"])
def test_unknown_url(api: Api, admin_a: IssuedKey, path: str, authenticated: bool) -> None:
    headers = api.bearer(admin_a.api_key) if authenticated else {}
    assert_problem(api.raw("GET", path, headers=headers), 404, "unrecognized-request-url")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/videos"),
        ("DELETE", "/videos"),
        ("POST", "/videos/{id}"),
        ("PUT", "/videos/{id}"),
        ("DELETE", "/discarded/videos/{id}"),
        ("GET", "/auth/api-key"),
        ("POST", "/tags"),
    ],
)
def test_wrong_method(api: Api, admin_a: IssuedKey, video_id: str, method: str, path: str) -> None:
    response = api.call(method, path.format(id=video_id), admin_a.api_key, json={})
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers.get("Allow")


def test_restore_only_accepts_false(api: Api, admin_a: IssuedKey) -> None:
    vid = api.create_video(admin_a.api_key, title="restore input")["videoId"]
    api.ok("DELETE", f"/videos/{vid}", admin_a.api_key, expected=204)

    cases: list[tuple[Any, str]] = [({"discarded": True}, "discarded"), ({"discarded": "false"}, "discarded")]
    for payload, name in cases:
        response = api.call("PATCH", f"/discarded/videos/{vid}", admin_a.api_key, json=payload)
        assert_problem(response, 400, "invalid-attribute", name)
    assert_problem(
        api.call("PATCH", f"/discarded/videos/{vid}", admin_a.api_key, json={}), 400, "attribute-required", "discarded"
    )
    assert api.ok("GET", f"/discarded/videos/{vid}", admin_a.api_key)["discarded"] is True


def test_not_found_for_the_wrong_lifecycle_state(api: Api, admin_a: IssuedKey) -> None:
    vid = api.create_video(admin_a.api_key, title="lifecycle")["videoId"]
    assert_problem(api.call("GET", f"/discarded/videos/{vid}", admin_a.api_key), 404, "resource-not-found", "videoId")
    restore = api.call("PATCH", f"/discarded/videos/{vid}", admin_a.api_key, json={"discarded": False})
    assert_problem(restore, 404, "resource-not-found", "videoId")

    api.ok("DELETE", f"/videos/{vid}", admin_a.api_key, expected=204)

    for method, path, body in [
        ("GET", f"/videos/{vid}", None),
        ("GET", f"/videos/{vid}/status", None),
        ("PATCH", f"/videos/{vid}", {"title": "too late"}),
        ("DELETE", f"/videos/{vid}", None),
    ]:
        assert_problem(api.call(method, path, admin_a.api_key, json=body), 404, "resource-not-found", "videoId")


EMOJI = "\U0001f600"  # 4 bytes in UTF-8, one character for the validators


def utf8_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


# These two run in project B: a video that cannot be deleted would slow every later listing of project A.
def test_video_at_the_field_limits_is_created_or_refused_never_500(api: Api, project_b: Tenant) -> None:
    metadata = [{"key": f"{i:03d}" + EMOJI * 252, "value": EMOJI * 1024} for i in range(100)]
    raw = utf8_json({"title": "at the limits", "metadata": metadata})
    assert len(raw) < 1024 * 1024

    response = api.call("POST", "/videos", project_b.api_key, data=raw, headers=JSON_HEADERS)

    if response.status_code != 201:
        assert_problem(response, 400, "invalid-payload")


def test_a_large_video_that_was_accepted_can_be_updated_and_deleted(api: Api, project_b: Tenant) -> None:
    metadata = [{"key": f"{i:03d}", "value": EMOJI * 560} for i in range(100)]
    created = api.call(
        "POST",
        "/videos",
        project_b.api_key,
        data=utf8_json({"title": "large", "metadata": metadata}),
        headers=JSON_HEADERS,
    )
    if created.status_code != 201:  # refusing it up front is fine too
        assert_problem(created, 400, "invalid-payload")
        return
    vid = created.json()["videoId"]

    updated = api.call("PATCH", f"/videos/{vid}", project_b.api_key, json={"title": "large, renamed"})
    deleted = api.call("DELETE", f"/videos/{vid}", project_b.api_key)

    assert updated.status_code == 200, updated.text
    assert deleted.status_code == 204, deleted.text
