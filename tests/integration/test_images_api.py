from __future__ import annotations

from chalicelib.core.domain.images import MAX_IMAGE_BYTES
from chalicelib.vod import wiring as vod_wiring
from tests.integration.conftest import ApiClient
from tests.integration.files import create_video, jpeg, media_keys, media_object, multipart, png, upload

WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00"
    + (99).to_bytes(3, "little")
    + (49).to_bytes(3, "little")
)


def test_watermark_upload_list_delete(tenant: ApiClient) -> None:
    response = upload(tenant, "/watermarks", "logo.png", png(120, 40), "image/png")
    assert response.status_code == 200, response.body
    created = response.json_body
    assert set(created) == {"watermarkId", "createdAt"} and created["createdAt"].endswith("+00:00")
    watermark_id = created["watermarkId"]
    assert watermark_id.startswith("watermark_") and len(watermark_id) == len("watermark_") + 22
    key = f"projects/{tenant.project_id}/watermarks/{watermark_id}.png"
    assert media_object(key) == (png(120, 40), "image/png")
    stored = vod_wiring.watermark_service().repository.get(tenant.project_id, watermark_id)
    assert stored is not None and (stored.width, stored.height) == (120, 40)

    second = upload(tenant, "/watermarks", "logo.jpg", jpeg(), "image/jpeg").json_body["watermarkId"]
    ascending = tenant.call("GET", "/watermarks?sortBy=createdAt&sortOrder=asc").json_body
    descending = tenant.call("GET", "/watermarks?sortBy=createdAt&sortOrder=desc").json_body
    assert [w["watermarkId"] for w in descending["data"]] == [w["watermarkId"] for w in ascending["data"]][::-1]
    assert {w["watermarkId"] for w in ascending["data"]} == {watermark_id, second}
    paged = tenant.call("GET", "/watermarks?pageSize=1&sortOrder=desc").json_body
    assert len(paged["data"]) == 1 and paged["pagination"]["pagesTotal"] == 2
    assert any("sortOrder=desc" in link["uri"] for link in paged["pagination"]["links"])

    assert tenant.call("DELETE", f"/watermarks/{watermark_id}").status_code == 204
    assert media_keys(key) == []
    assert tenant.call("DELETE", f"/watermarks/{watermark_id}").status_code == 404
    listed = tenant.call("GET", "/watermarks").json_body["data"]
    assert [w["watermarkId"] for w in listed] == [second]


def test_watermark_rules(tenant: ApiClient, other_tenant: ApiClient) -> None:
    for filename, data, slug in (
        ("logo.png", b"", "uploaded-file-empty"),
        ("logo.png", b"GIF89a" + b"\x00" * 20, "uploaded-file-extension-invalid"),
        ("logo.png", WEBP, "uploaded-file-extension-invalid"),  # webp is for thumbnails only
        ("logo.png", png() + b"\x00" * MAX_IMAGE_BYTES, "uploaded-file-too-large"),
    ):
        response = upload(tenant, "/watermarks", filename, data, "image/png")
        assert response.status_code == 400 and response.json_body["name"] == "file"
        assert response.json_body["type"].endswith("/" + slug), response.json_body
    jpg_named_png = upload(tenant, "/watermarks", "logo.gif", jpeg(), "image/gif")
    assert jpg_named_png.status_code == 200  # the bytes decide, not the name
    assert upload(tenant, "/watermarks", "x.png", b"\x89PNG\r\n\x1a\nshort", "image/png").status_code == 400
    bad_sort = tenant.call("GET", "/watermarks?sortOrder=up")
    assert bad_sort.status_code == 400 and bad_sort.json_body["name"] == "sortOrder"
    theirs = upload(other_tenant, "/watermarks", "logo.png", png(), "image/png").json_body["watermarkId"]
    assert tenant.call("DELETE", f"/watermarks/{theirs}").status_code == 404
    assert [w["watermarkId"] for w in other_tenant.call("GET", "/watermarks").json_body["data"]] == [theirs]


def test_thumbnail_upload_returns_the_video_and_stores_by_format(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    response = upload(tenant, f"/videos/{video_id}/thumbnail", "thumb.png", png(16, 9), "image/png")
    assert response.status_code == 200, response.body
    assert response.json_body["videoId"] == video_id
    assert media_object(f"vod/{video_id}/thumbnail.png") == (png(16, 9), "image/png")
    thumbnail = vod_wiring.thumbnail_service().repository.get_thumbnail(tenant.project_id, video_id)
    assert thumbnail is not None and thumbnail.source == "upload" and (thumbnail.width, thumbnail.height) == (16, 9)

    assert upload(tenant, f"/videos/{video_id}/thumbnail", "t.jpg", jpeg(), "image/jpeg").status_code == 200
    assert media_keys(f"vod/{video_id}/thumbnail") == [f"vod/{video_id}/thumbnail.jpg"]
    assert upload(tenant, f"/videos/{video_id}/thumbnail", "t.webp", WEBP, "image/webp").status_code == 200
    thumbnail = vod_wiring.thumbnail_service().repository.get_thumbnail(tenant.project_id, video_id)
    assert (
        thumbnail is not None and thumbnail.key.endswith(".webp") and (thumbnail.width, thumbnail.height) == (100, 50)
    )


def test_thumbnail_rules(tenant: ApiClient, other_tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    response = upload(tenant, f"/videos/{video_id}/thumbnail", "t.txt", b"hello", "text/plain")
    assert response.status_code == 400 and response.json_body["name"] == "file"
    assert response.json_body["type"].endswith("/uploaded-file-extension-invalid")
    assert response.json_body["title"] == "Only [jpeg, jpg, JPG, JPEG, png, PNG, webp] extensions are supported."
    assert upload(tenant, "/videos/vi0000000000000000000000/thumbnail", "t.png", png()).status_code == 404
    theirs = create_video(other_tenant)
    refused = upload(tenant, f"/videos/{theirs}/thumbnail", "t.png", png())
    assert refused.status_code == 404 and refused.json_body["name"] == "videoId"
    assert media_keys(f"vod/{theirs}/") == []


def test_watermark_upload_replays_with_an_idempotency_key(tenant: ApiClient) -> None:
    body, content_type = multipart("logo.png", png(), "image/png")
    headers = {"content-type": content_type, "idempotency-key": "wm-1"}
    first = tenant.call("POST", "/watermarks", body, headers=headers)
    again = tenant.call("POST", "/watermarks", body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json_body == first.json_body and again.headers.get("Idempotent-Replayed") == "true"
    assert len(tenant.call("GET", "/watermarks").json_body["data"]) == 1


def test_a_video_names_only_a_watermark_of_its_project(tenant: ApiClient, other_tenant: ApiClient) -> None:
    """Issue 10: an unknown or foreign `watermark.id` at creation is a 400, not silently dropped."""
    mine = upload(tenant, "/watermarks", "logo.png", png(120, 40), "image/png").json_body["watermarkId"]
    theirs = upload(other_tenant, "/watermarks", "logo.png", png(120, 40), "image/png").json_body["watermarkId"]
    for watermark_id in (theirs, "watermark_0000000000000000000000"):
        refused = tenant.call("POST", "/videos", {"title": "marked", "watermark": {"id": watermark_id, "top": "10px"}})
        assert refused.status_code == 400, refused.json_body
        assert refused.json_body["name"] == "watermark.id"
    assert tenant.call("GET", "/videos").json_body["pagination"]["itemsTotal"] == 0, "a refused video is not created"
    created = tenant.call("POST", "/videos", {"title": "marked", "watermark": {"id": mine, "top": "10px"}})
    assert created.status_code == 201
