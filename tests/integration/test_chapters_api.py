from __future__ import annotations

from chalicelib.core import wiring as core_wiring
from tests.integration.conftest import ApiClient
from tests.integration.files import VTT, create_video, media_keys, media_object, upload


def chapters(video_id: str, language: str = "") -> str:
    return f"/videos/{video_id}/chapters" + (f"/{language}" if language else "")


def test_upload_get_list_delete(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    response = upload(tenant, chapters(video_id, "en"), "chapters.vtt", VTT)
    assert response.status_code == 200, response.body
    expected = {
        "uri": f"/videos/{video_id}/chapters/en",
        "src": f"{core_wiring.media_base_url()}/vod/{video_id}/chapters/en.vtt",
        "language": "en",
    }
    assert response.json_body == expected
    assert media_object(f"vod/{video_id}/chapters/en.vtt") == (VTT, "text/vtt")
    assert tenant.call("GET", chapters(video_id, "en")).json_body == expected
    upload(tenant, chapters(video_id, "fr"), "chapters.vtt", VTT)
    listing = tenant.call("GET", chapters(video_id) + "?pageSize=1").json_body
    assert [c["language"] for c in listing["data"]] == ["en"] and listing["pagination"]["itemsTotal"] == 2
    assert tenant.call("DELETE", chapters(video_id, "en")).status_code == 204
    assert media_keys(f"vod/{video_id}/chapters/") == [f"vod/{video_id}/chapters/fr.vtt"]
    assert tenant.call("GET", chapters(video_id, "en")).status_code == 404


def test_chapters_and_captions_are_separate(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    upload(tenant, chapters(video_id, "en"), "chapters.vtt", VTT)
    assert tenant.call("GET", f"/videos/{video_id}/captions").json_body["data"] == []
    assert tenant.call("GET", f"/videos/{video_id}/captions/en").status_code == 404


def test_invalid_chapters_and_other_tenants(tenant: ApiClient, other_tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    bad = upload(tenant, chapters(video_id, "en"), "c.vtt", b"NOT VTT\n")
    assert bad.status_code == 400 and bad.json_body["type"].endswith("/uploaded-file-invalid-file")
    assert upload(tenant, chapters(video_id, "en_GB"), "c.vtt", VTT).json_body["name"] == "language"
    theirs = create_video(other_tenant)
    assert upload(tenant, chapters(theirs, "en"), "c.vtt", VTT).status_code == 404
    assert tenant.call("GET", chapters(theirs)).status_code == 404
