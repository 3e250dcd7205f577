from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.domain.errors import NotFound
from chalicelib.vod import wiring as vod_wiring
from tests.integration.conftest import ApiClient


def create(api: ApiClient, **fields: Any) -> dict[str, Any]:
    response = api.call("POST", "/encoding-profiles", {"name": "web", "qualities": ["720p", "360p"], **fields})
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def test_create_get_update_delete(tenant: ApiClient) -> None:
    profile = create(tenant)
    profile_id = profile["profileId"]
    assert profile_id.startswith("ep") and len(profile_id) == 24
    assert profile["qualities"] == ["360p", "720p"]
    assert (profile["mp4"], profile["segmentSeconds"], profile["default"]) == (True, 4, False)
    assert tenant.call("GET", f"/encoding-profiles/{profile_id}").json_body == profile
    patched = tenant.call("PATCH", f"/encoding-profiles/{profile_id}", {"segmentSeconds": 6, "mp4": False})
    assert patched.status_code == 200
    assert patched.json_body["segmentSeconds"] == 6 and patched.json_body["name"] == "web"
    assert tenant.call("DELETE", f"/encoding-profiles/{profile_id}").status_code == 204
    assert tenant.call("GET", f"/encoding-profiles/{profile_id}").status_code == 404


def test_one_default_per_project_and_it_cannot_be_deleted(tenant: ApiClient) -> None:
    first = create(tenant, default=True)
    second = create(tenant, name="mobile")
    made_default = tenant.call("PATCH", f"/encoding-profiles/{second['profileId']}", {"default": True})
    assert made_default.json_body["default"] is True
    listing = tenant.call("GET", "/encoding-profiles").json_body["data"]
    assert {p["profileId"]: p["default"] for p in listing} == {first["profileId"]: False, second["profileId"]: True}
    refused = tenant.call("DELETE", f"/encoding-profiles/{second['profileId']}")
    assert refused.status_code == 409 and refused.json_body["type"].endswith("/encoding-profile-is-default")
    service = vod_wiring.encoding_profile_service()
    assert service.default_profile(tenant.project_id).profile_id == second["profileId"]
    assert service.resolve(tenant.project_id, None).profile_id == second["profileId"]
    assert service.resolve(tenant.project_id, first["profileId"]).name == "web"


def test_built_in_default_when_none_is_stored(tenant: ApiClient) -> None:
    assert tenant.call("GET", "/encoding-profiles").json_body["data"] == []
    built_in = vod_wiring.encoding_profile_service().resolve(tenant.project_id, None)
    assert built_in.profile_id == "default" and built_in.mp4 and built_in.segment_seconds == 4
    assert built_in.qualities == ("240p", "360p", "480p", "720p", "1080p", "2160p")
    with pytest.raises(NotFound) as missing:
        vod_wiring.encoding_profile_service().resolve(tenant.project_id, "ep" + "0" * 22)
    assert missing.value.name == "encodingProfileId"


def test_payload_rules(tenant: ApiClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"qualities": ["720p"]}, "name"),
        ({"name": "", "qualities": ["720p"]}, "name"),
        ({"name": "x" * 101, "qualities": ["720p"]}, "name"),
        ({"name": "a", "qualities": []}, "qualities"),
        ({"name": "a", "qualities": ["720p", "720p"]}, "qualities"),
        ({"name": "a", "qualities": ["1440p"]}, "qualities[0]"),
        ({"name": "a", "qualities": ["720p"], "segmentSeconds": 1}, "segmentSeconds"),
        ({"name": "a", "qualities": ["720p"], "segmentSeconds": 11}, "segmentSeconds"),
        ({"name": "a", "qualities": ["720p"], "mp4": "yes"}, "mp4"),
    ]
    for body, name in cases:
        response = tenant.call("POST", "/encoding-profiles", body)
        assert response.status_code == 400 and response.json_body["name"] == name, (body, response.json_body)
    profile_id = create(tenant)["profileId"]
    null = tenant.call("PATCH", f"/encoding-profiles/{profile_id}", {"name": None})
    assert null.status_code == 400 and null.json_body["name"] == "name"


def test_pagination_and_tenant_isolation(tenant: ApiClient, other_tenant: ApiClient) -> None:
    ids = [create(tenant, name=f"p{i}")["profileId"] for i in range(3)]
    page = tenant.call("GET", "/encoding-profiles?pageSize=2&currentPage=2").json_body
    assert page["pagination"]["itemsTotal"] == 3 and len(page["data"]) == 1
    assert other_tenant.call("GET", "/encoding-profiles").json_body["data"] == []
    assert other_tenant.call("GET", f"/encoding-profiles/{ids[0]}").status_code == 404
    assert other_tenant.call("DELETE", f"/encoding-profiles/{ids[0]}").status_code == 404
    assert other_tenant.call("PATCH", f"/encoding-profiles/{ids[0]}", {"name": "x"}).status_code == 404
