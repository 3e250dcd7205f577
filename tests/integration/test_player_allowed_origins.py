"""Per-player allowed origins (Videoplane extension): a player may list the sites that can open its
private videos; a private token or playback JWT is then refused from any other page (and not used
up), as from a page that sends no Referer."""

from __future__ import annotations

import pytest
from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from tests.integration.conftest import ApiClient
from tests.integration.test_embed_api import PLAYER_BASE
from tests.integration.test_playback_keys import page
from tests.integration.test_private_playback import denials, token_of

SHOP = "https://shop.example"


@pytest.fixture(autouse=True)
def player_base(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.PLAYER_BASE_URL_ENV, PLAYER_BASE)
    core_wiring.reset()


def restricted_video(tenant: ApiClient, origins: list[str]) -> tuple[str, str]:
    player_id = tenant.call("POST", "/players", {"name": "Shop"}).json_body["playerId"]
    put = tenant.call("PUT", f"/players/{player_id}/allowed-origins", {"origins": origins})
    assert put.status_code == 200 and put.json_body == {"origins": origins}, put.body
    created = tenant.call("POST", "/videos", {"title": "Members only", "public": False, "playerId": player_id})
    return created.json_body["videoId"], player_id


def test_origins_are_set_read_and_checked(tenant: ApiClient, other_tenant: ApiClient) -> None:
    _, player_id = restricted_video(tenant, [SHOP, "http://127.0.0.1:8080"])
    assert tenant.call("GET", f"/players/{player_id}/allowed-origins").json_body == {
        "origins": [SHOP, "http://127.0.0.1:8080"]
    }
    for bad in (["shop.example"], ["https://shop.example/path"], ["javascript:alert(1)"], ["HTTPS://SHOP.EXAMPLE"],
                [f"https://s{i}.example" for i in range(21)]):  # fmt: skip
        refused = tenant.call("PUT", f"/players/{player_id}/allowed-origins", {"origins": bad})
        assert refused.status_code == 400, bad
    assert other_tenant.call("GET", f"/players/{player_id}/allowed-origins").status_code == 404
    cleared = tenant.call("PUT", f"/players/{player_id}/allowed-origins", {"origins": []})
    assert cleared.json_body == {"origins": []}
    # api.video's player shape is unchanged: the list is only on its own route.
    assert "allowedOrigins" not in tenant.call("GET", f"/players/{player_id}").json_body


def test_a_private_token_opens_only_inside_an_allowed_site(chalice_client: Client, tenant: ApiClient) -> None:
    video_id, _ = restricted_video(tenant, [SHOP])
    token = token_of(tenant.call("GET", f"/videos/{video_id}").json_body["assets"]["player"])
    for referer in ("https://evil.example/", None, "https://shop.example.evil.example/"):
        refused = page(chalice_client, video_id, token, referer=referer)
        assert refused.status_code == 403 and "embedded on this site" in refused.json_body["detail"], referer
    # Refusals do not use the token up: the allowed site still opens the video with it.
    assert page(chalice_client, video_id, token, referer=f"{SHOP}/members/42").status_code == 200
    assert denials(tenant.project_id) == {"referrer-not-allowed": 3}


def test_the_hls_asset_needs_an_allowed_origin_too(chalice_client: Client, tenant: ApiClient) -> None:
    video_id, _ = restricted_video(tenant, [SHOP])
    token = token_of(tenant.call("GET", f"/videos/{video_id}").json_body["assets"]["player"])
    path = f"/embed/vod/{video_id}/token/{token}/hls/manifest.m3u8"
    assert chalice_client.http.get(path).status_code == 403
    assert chalice_client.http.get(path, headers={"origin": SHOP}).status_code == 302
