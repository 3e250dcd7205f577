from __future__ import annotations

from typing import Any

from tests.integration.conftest import ApiClient


def create(api: ApiClient, **fields: Any) -> dict[str, Any]:
    response = api.call("POST", "/videos", {"title": "A video", **fields})
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def test_create_get_update_round_trip(tenant: ApiClient) -> None:
    video = create(tenant, tags=["a"], metadata=[{"key": "k", "value": "v"}], language="fr")
    assert video["videoId"].startswith("vi") and len(video["videoId"]) == 24
    assert video["createdAt"].endswith("+00:00") and video["languageOrigin"] == "api"
    assert video["source"] == {"uri": f"/videos/{video['videoId']}/source"}
    got = tenant.call("GET", f"/videos/{video['videoId']}").json_body
    assert got == video
    patched = tenant.call("PATCH", f"/videos/{video['videoId']}", {"description": "d", "language": None})
    assert patched.status_code == 200
    body = patched.json_body
    assert body["description"] == "d" and "language" not in body and body["tags"] == ["a"]
    assert body["title"] == "A video"


def test_null_on_non_nullable_field_is_a_400(tenant: ApiClient) -> None:
    video = create(tenant)
    response = tenant.call("PATCH", f"/videos/{video['videoId']}", {"title": None})
    assert response.status_code == 400 and response.json_body["name"] == "title"


def test_delete_discards_then_restore(tenant: ApiClient) -> None:
    video_id = create(tenant)["videoId"]
    assert tenant.call("DELETE", f"/videos/{video_id}").status_code == 204
    assert tenant.call("GET", f"/videos/{video_id}").status_code == 404
    discarded = tenant.call("GET", f"/discarded/videos/{video_id}").json_body
    assert discarded["discarded"] is True and discarded["deletesAt"] is not None
    listing = tenant.call("GET", "/discarded/videos").json_body
    assert [v["videoId"] for v in listing["data"]] == [video_id]
    refused = tenant.call("PATCH", f"/discarded/videos/{video_id}", {"discarded": True})
    assert refused.status_code == 400 and refused.json_body["title"] == "Value must be false."
    restored = tenant.call("PATCH", f"/discarded/videos/{video_id}", {"discarded": False})
    assert restored.status_code == 200 and restored.json_body["discarded"] is False
    assert tenant.call("GET", f"/videos/{video_id}").status_code == 200


def test_list_filters_sorts_and_paginates(tenant: ApiClient) -> None:
    for i in range(5):
        create(
            tenant,
            title=f"clip {i}",
            tags=["even" if i % 2 == 0 else "odd", "all"],
            metadata=[{"key": "n", "value": str(i)}],
        )
    page = tenant.call("GET", "/videos?tags[]=all&tags[]=even&sortBy=title&sortOrder=desc&pageSize=2").json_body
    assert [v["title"] for v in page["data"]] == ["clip 4", "clip 2"]
    assert page["pagination"]["itemsTotal"] == 3 and page["pagination"]["pagesTotal"] == 2
    rels = {link["rel"]: link["uri"] for link in page["pagination"]["links"]}
    assert "tags%5B%5D=all" in rels["next"] and "currentPage=2" in rels["next"] and "previous" not in rels
    assert tenant.call("GET", "/videos?metadata[n]=3").json_body["pagination"]["itemsTotal"] == 1
    assert tenant.call("GET", "/videos?title=CLIP").json_body["pagination"]["itemsTotal"] == 5
    tags = tenant.call("GET", "/tags?sortBy=videoCount&sortOrder=desc").json_body["data"]
    assert tags[0] == {"value": "all", "videoCount": 5}


def test_bad_input_is_400_problem_json(tenant: ApiClient) -> None:
    cases = [
        ("POST", "/videos", "{not json"),
        ("POST", "/videos", "[1, 2]"),
        ("POST", "/videos", {"title": 5, "public": "yes"}),
        ("POST", "/videos", {"title": "x" * 2_000_000}),
        ("GET", "/videos?sortBy=duration", None),
        ("GET", "/videos?currentPage=0", None),
        ("GET", "/videos?pageSize=abc", None),
    ]
    for method, path, body in cases:
        response = tenant.call(method, path, body)
        assert response.status_code == 400, (path, body, response.body)
        problem = response.json_body
        assert problem["status"] == 400 and problem["type"].startswith("https://docs.api.video/reference/")
    multi = tenant.call("POST", "/videos", {"title": 5, "public": "yes"}).json_body
    assert {p["name"] for p in multi["problems"]} == {"title", "public"}


def test_status_of_a_video_without_source(tenant: ApiClient) -> None:
    video_id = create(tenant)["videoId"]
    status = tenant.call("GET", f"/videos/{video_id}/status").json_body
    assert status == {"encoding": {"playable": False, "qualities": [], "metadata": {}}}


def test_other_tenant_sees_404_and_empty_lists(tenant: ApiClient, other_tenant: ApiClient) -> None:
    video_id = create(tenant, tags=["secret"])["videoId"]
    missing = other_tenant.call("GET", "/videos/vi0000000000000000000000").json_body
    for method, path, body in [
        ("GET", f"/videos/{video_id}", None),
        ("PATCH", f"/videos/{video_id}", {"title": "pwned"}),
        ("DELETE", f"/videos/{video_id}", None),
        ("GET", f"/videos/{video_id}/status", None),
        ("GET", f"/discarded/videos/{video_id}", None),
        ("PATCH", f"/discarded/videos/{video_id}", {"discarded": False}),
    ]:
        response = other_tenant.call(method, path, body)
        assert response.status_code == 404 and response.json_body == missing, (method, path)
    assert other_tenant.call("GET", f"/videos?projectId={tenant.project_id}").json_body["data"] == []
    assert other_tenant.call("GET", "/tags").json_body["data"] == []
    assert tenant.call("GET", f"/videos/{video_id}").json_body["title"] == "A video"


def test_every_change_is_audited_with_before_and_after(tenant: ApiClient) -> None:
    video_id = create(tenant)["videoId"]
    tenant.call("PATCH", f"/videos/{video_id}", {"title": "renamed"}, headers={})
    tenant.call("DELETE", f"/videos/{video_id}")
    events = tenant.call("GET", f"/audit-events?resourceId={video_id}").json_body["data"]
    assert [e["action"] for e in events] == ["video.delete", "video.update", "video.create"]
    update = events[1]
    assert update["before"]["title"] == "A video" and update["after"]["title"] == "renamed"
    assert update["actorKeyId"] == tenant.issued.key.key_id and update["requestId"]
    only_creates = tenant.call("GET", "/audit-events?action=video.create").json_body
    assert only_creates["pagination"]["itemsTotal"] == 1


def test_assets_are_there_from_creation(tenant: ApiClient) -> None:
    """Issue 10: as on api.video, `assets` is in every answer from creation (the README's snippet
    read it right after the upload and crashed); `hls` starts working once the video is playable."""
    created = tenant.call("POST", "/videos", {"title": "fresh"}).json_body
    video_id = created["videoId"]
    assets = created["assets"]
    assert assets["hls"].endswith(f"/vod/{video_id}/hls/manifest.m3u8")
    assert assets["player"].endswith(f"/vod/{video_id}") and assets["player"] in assets["iframe"]
    assert assets["mp4"].endswith(f"/vod/{video_id}/mp4/source.mp4")
    assert "thumbnail" not in assets, "no frame exists yet"
    assert tenant.call("GET", f"/videos/{video_id}").json_body["assets"] == assets
    plain = tenant.call("POST", "/videos", {"title": "no mp4", "mp4Support": False}).json_body
    assert "mp4" not in plain["assets"]
    listed = tenant.call("GET", "/videos").json_body["data"]
    assert all("assets" in video for video in listed)
