"""Project B, created with the command line, can neither see nor touch anything of project A."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from .support import Api, IssuedKey, Tenant, assert_problem, marker, random_id

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class ProjectAData:
    tag: str
    live_video: str
    discarded_video: str
    key: str

    @property
    def ids(self) -> set[str]:
        return {self.live_video, self.discarded_video, self.key}


@pytest.fixture(scope="module")
def a_data(api: Api, admin_a: IssuedKey) -> ProjectAData:
    tag = marker()
    live = api.create_video(admin_a.api_key, title=f"A live {tag}", tags=[tag])
    gone = api.create_video(admin_a.api_key, title=f"A discarded {tag}", tags=[tag])
    api.ok("DELETE", f"/videos/{gone['videoId']}", admin_a.api_key, expected=204)
    key = api.ok("POST", "/api-keys", admin_a.api_key, expected=201, json={"name": f"A {tag}", "role": "viewer"})
    return ProjectAData(tag=tag, live_video=live["videoId"], discarded_video=gone["videoId"], key=key["keyId"])


@pytest.fixture(scope="module")
def b_video(api: Api, project_b: Tenant) -> dict[str, Any]:
    """B's own data (a live and a discarded video), so B's lists are not trivially empty."""
    gone = api.create_video(project_b.api_key, title="B's discarded video")
    api.ok("DELETE", f"/videos/{gone['videoId']}", project_b.api_key, expected=204)
    return api.create_video(project_b.api_key, title="B's video", tags=["b-tag"])


ROUTES = [
    ("GET", "/videos/{live}", None),
    ("PATCH", "/videos/{live}", {"title": "taken over"}),
    ("DELETE", "/videos/{live}", None),
    ("GET", "/videos/{live}/status", None),
    ("GET", "/discarded/videos/{discarded}", None),
    ("PATCH", "/discarded/videos/{discarded}", {"discarded": False}),
    ("GET", "/api-keys/{key}", None),
    ("PATCH", "/api-keys/{key}", {"role": "admin"}),
    ("DELETE", "/api-keys/{key}", None),
]


@pytest.mark.parametrize(("method", "template", "body"), ROUTES)
def test_other_tenants_ids_look_exactly_like_missing_ones(
    api: Api,
    project_a: Tenant,
    project_b: Tenant,
    a_data: ProjectAData,
    method: str,
    template: str,
    body: dict[str, Any] | None,
) -> None:
    foreign = template.format(live=a_data.live_video, discarded=a_data.discarded_video, key=a_data.key)
    missing = template.format(live=random_id("vi"), discarded=random_id("vi"), key=random_id("key"))
    name = "keyId" if template.startswith("/api-keys") else "videoId"

    missing_response = api.call(method, missing, project_b.api_key, json=body)
    foreign_response = api.call(method, foreign, project_b.api_key, json=body)
    spoofed_response = api.call(
        method, foreign, project_b.api_key, json=body, params={"projectId": project_a.project_id}
    )

    expected = assert_problem(missing_response, 404, "resource-not-found", name=name)
    assert assert_problem(foreign_response, 404, "resource-not-found", name=name) == expected
    assert assert_problem(spoofed_response, 404, "resource-not-found", name=name) == expected
    assert set(foreign_response.headers) - {"Content-Length"} == set(missing_response.headers) - {"Content-Length"}


def test_project_a_is_untouched_by_project_b(
    api: Api, project_b: Tenant, admin_a: IssuedKey, a_data: ProjectAData
) -> None:
    for method, template, body in ROUTES:
        path = template.format(live=a_data.live_video, discarded=a_data.discarded_video, key=a_data.key)
        assert api.call(method, path, project_b.api_key, json=body).status_code == 404

    assert api.ok("GET", f"/videos/{a_data.live_video}", admin_a.api_key)["title"].startswith("A live")
    assert api.ok("GET", f"/discarded/videos/{a_data.discarded_video}", admin_a.api_key)["discarded"] is True
    key = api.ok("GET", f"/api-keys/{a_data.key}", admin_a.api_key)
    assert (key["role"], key["revokedAt"]) == ("viewer", None)


@pytest.mark.parametrize("path", ["/videos", "/discarded/videos", "/tags", "/api-keys"])
@pytest.mark.parametrize("spoof", [False, True], ids=["plain", "projectId-param"])
def test_lists_show_none_of_the_other_tenants_data(
    api: Api,
    project_a: Tenant,
    project_b: Tenant,
    a_data: ProjectAData,
    b_video: dict[str, Any],
    path: str,
    spoof: bool,
) -> None:
    params = {"projectId": project_a.project_id} if spoof else {}
    if path == "/videos":
        params["title"] = "A "  # would match A's titles
    text = str(api.list_all(path, project_b.api_key, params))

    assert not any(i in text for i in a_data.ids), text
    assert a_data.tag not in text and project_a.project_id not in text
    if path == "/videos":
        assert b_video["videoId"] not in text  # the title filter still applies, to B's videos only
        assert b_video["videoId"] in str(api.list_all(path, project_b.api_key, {"projectId": project_a.project_id}))
    if path == "/tags":
        assert "b-tag" in text
    if path == "/discarded/videos":
        assert "B's discarded video" in text


def test_audit_log_of_b_shows_none_of_a_key_events(
    api: Api, project_a: Tenant, project_b: Tenant, a_data: ProjectAData
) -> None:
    b_key = api.ok("POST", "/api-keys", project_b.api_key, expected=201, json={"name": "B key", "role": "viewer"})

    events = api.list_all("/audit-events", project_b.api_key, {"resourceType": "apiKey"})
    spoofed = api.list_all("/audit-events", project_b.api_key, {"resourceId": a_data.key, "projectId": "x"})

    assert b_key["keyId"] in {e["resourceId"] for e in events}
    assert not any(i in str(events) for i in a_data.ids)
    assert project_a.project_id not in str(events)
    assert spoofed == []


def test_audit_log_of_b_shows_none_of_a_video_events(
    api: Api, project_a: Tenant, project_b: Tenant, a_data: ProjectAData, b_video: dict[str, Any]
) -> None:
    events = api.list_all("/audit-events", project_b.api_key, {"projectId": project_a.project_id})

    assert b_video["videoId"] in {e["resourceId"] for e in events}
    assert not any(i in str(events) for i in a_data.ids)
    assert a_data.tag not in str(events)
