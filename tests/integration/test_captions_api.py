from __future__ import annotations

from chalicelib.core import wiring as core_wiring
from chalicelib.vod import wiring as vod_wiring
from tests.integration.conftest import ApiClient
from tests.integration.files import BOUNDARY, MULTIPART_TYPE, VTT, create_video, media_keys, media_object, upload


def captions(video_id: str, language: str = "") -> str:
    return f"/videos/{video_id}/captions" + (f"/{language}" if language else "")


def test_upload_get_and_the_file_in_the_media_bucket(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    response = upload(tenant, captions(video_id, "fr"), "subs.vtt", VTT)
    assert response.status_code == 200, response.body
    base = core_wiring.media_base_url()
    expected = {
        "uri": f"/videos/{video_id}/captions/fr",
        "src": f"{base}/vod/{video_id}/captions/fr.vtt",
        "srclang": "fr",
        "languageName": "Français",
        "default": False,
    }
    assert response.json_body == expected
    assert tenant.call("GET", captions(video_id, "fr")).json_body == expected
    assert media_object(f"vod/{video_id}/captions/fr.vtt") == (VTT, "text/vtt")


def test_region_subtags_and_unknown_languages_are_named(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    assert upload(tenant, captions(video_id, "pt-BR"), "a.vtt", VTT).json_body["languageName"] == "Português (Brasil)"
    assert upload(tenant, captions(video_id, "de-AT"), "a.vtt", VTT).json_body["languageName"] == "Deutsch"
    assert upload(tenant, captions(video_id, "tlh"), "a.vtt", VTT).json_body["languageName"] == "tlh"


def test_reupload_replaces_the_file_and_keeps_default(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    upload(tenant, captions(video_id, "en"), "a.vtt", VTT)
    assert tenant.call("PATCH", captions(video_id, "en"), {"default": True}).json_body["default"] is True
    replacement = VTT.replace(b"Hello", b"Howdy")
    again = upload(tenant, captions(video_id, "en"), "b.vtt", replacement)
    assert again.status_code == 200 and again.json_body["default"] is True
    assert media_object(f"vod/{video_id}/captions/en.vtt")[0] == replacement
    assert tenant.call("GET", captions(video_id)).json_body["pagination"]["itemsTotal"] == 1


def test_only_one_caption_is_default(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    for language in ("en", "fr", "de"):
        upload(tenant, captions(video_id, language), "a.vtt", VTT)
    tenant.call("PATCH", captions(video_id, "en"), {"default": True})
    assert tenant.call("PATCH", captions(video_id, "fr"), {"default": True}).status_code == 200
    listing = tenant.call("GET", captions(video_id)).json_body["data"]
    assert {c["srclang"]: c["default"] for c in listing} == {"de": False, "en": False, "fr": True}
    unset = tenant.call("PATCH", captions(video_id, "fr"), {"default": False})
    assert unset.json_body["default"] is False
    assert not any(c["default"] for c in tenant.call("GET", captions(video_id)).json_body["data"])


def test_patch_body_is_validated(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    upload(tenant, captions(video_id, "en"), "a.vtt", VTT)
    response = tenant.call("PATCH", captions(video_id, "en"), {"default": "yes"})
    assert response.status_code == 400 and response.json_body["name"] == "default"
    missing = tenant.call("PATCH", captions(video_id, "es"), {"default": True})
    assert missing.status_code == 404 and missing.json_body["name"] == "language"


def test_list_paginates_in_language_order(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    for language in ("it", "en", "fr"):
        upload(tenant, captions(video_id, language), "a.vtt", VTT)
    page = tenant.call("GET", captions(video_id) + "?pageSize=2&currentPage=2").json_body
    assert [c["srclang"] for c in page["data"]] == ["it"]
    assert page["pagination"]["itemsTotal"] == 3 and page["pagination"]["pagesTotal"] == 2
    rels = {link["rel"]: link["uri"] for link in page["pagination"]["links"]}
    assert rels["previous"] == f"/videos/{video_id}/captions?currentPage=1&pageSize=2"


def test_delete_removes_the_item_and_the_object(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    upload(tenant, captions(video_id, "en"), "a.vtt", VTT)
    assert tenant.call("DELETE", captions(video_id, "en")).status_code == 204
    assert tenant.call("GET", captions(video_id, "en")).status_code == 404
    assert media_keys(f"vod/{video_id}/captions/") == []
    assert tenant.call("DELETE", captions(video_id, "en")).status_code == 404


def test_bad_files_and_languages_are_400s(tenant: ApiClient) -> None:
    video_id = create_video(tenant)
    cases = [
        ("a.vtt", b"", "uploaded-file-empty", "file"),
        ("a.srt", VTT, "uploaded-file-extension-invalid", "file"),
        ("a.vtt", b"1\n00:00:01,000 --> 00:00:02,000\nHi\n", "uploaded-file-invalid-file", "file"),
        ("a.vtt", b"WEBVTT\n\n00:00:01.000 --> nope\nHi\n", "uploaded-file-invalid-file", "file"),
        ("a.vtt", b"WEBVTT\n\nno cues here\n", "uploaded-file-invalid-file", "file"),
        ("a.vtt", b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\xff\xfe\n", "uploaded-file-invalid-file", "file"),
        ("a.vtt", b"WEBVTT\n" + b"x" * 1_048_576, "uploaded-file-too-large", "file"),
    ]
    for filename, data, slug, name in cases:
        response = upload(tenant, captions(video_id, "en"), filename, data)
        assert response.status_code == 400, (filename, data[:40])
        assert response.json_body["type"].endswith("/" + slug), (response.json_body, data[:40])
        assert response.json_body["name"] == name
    wrong = upload(tenant, captions(video_id, "en_US"), "a.vtt", VTT)
    assert wrong.status_code == 400 and wrong.json_body["name"] == "language"
    text_only = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--{BOUNDARY}--\r\n'
    no_file = tenant.call("POST", captions(video_id, "en"), text_only, {"content-type": MULTIPART_TYPE})
    assert no_file.status_code == 400 and no_file.json_body["type"].endswith("/uploaded-file-no-file")
    json_body = tenant.call("POST", captions(video_id, "en"), b"{}")
    assert json_body.status_code == 415
    assert tenant.call("GET", captions(video_id)).json_body["data"] == []


def test_unknown_and_other_tenants_videos_are_404(tenant: ApiClient, other_tenant: ApiClient) -> None:
    theirs = create_video(other_tenant)
    upload(other_tenant, captions(theirs, "en"), "a.vtt", VTT)
    for response in (
        upload(tenant, captions("vi" + "0" * 22, "en"), "a.vtt", VTT),
        upload(tenant, captions(theirs, "en"), "a.vtt", VTT),
        tenant.call("GET", captions(theirs, "en")),
        tenant.call("GET", captions(theirs)),
        tenant.call("PATCH", captions(theirs, "en"), {"default": True}),
        tenant.call("DELETE", captions(theirs, "en")),
    ):
        assert response.status_code == 404 and response.json_body["name"] == "videoId", response.body
    assert other_tenant.call("GET", captions(theirs, "en")).status_code == 200


def test_caption_changes_refresh_the_master_playlist_and_are_audited(tenant: ApiClient) -> None:
    refreshed: list[tuple[str, str]] = []

    class Recorder:
        def refresh(self, project_id: str, video_id: str) -> None:
            refreshed.append((project_id, video_id))

    service = vod_wiring.caption_service()
    service.playlists = Recorder()
    video_id = create_video(tenant)
    upload(tenant, captions(video_id, "en"), "a.vtt", VTT)
    tenant.call("PATCH", captions(video_id, "en"), {"default": True})
    tenant.call("DELETE", captions(video_id, "en"))
    assert refreshed == [(tenant.project_id, video_id)] * 3
    audit = tenant.call("GET", "/audit-events?resourceType=caption").json_body["data"]
    assert sorted(e["action"] for e in audit) == ["caption.delete", "caption.update", "caption.upload"]
