"""The public embed page, its data and oEmbed, through the Chalice app on moto. The playback
context reads the VOD context's items (video, captions, chapters) from the shared table: these
tests hold the two layouts together."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from tests.integration.conftest import ApiClient
from tests.integration.files import VTT, create_video, png, upload
from tests.integration.test_players_api import create as create_player
from tests.integration.test_players_api import logo_upload

PLAYER_BASE = "https://media.example/embed"  # as on AWS: the media CDN, path /embed
CONFIG = re.compile(r'<script type="application/json" id="vp-config">(.*?)</script>', re.S)


@pytest.fixture(autouse=True)
def player_base(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.PLAYER_BASE_URL_ENV, PLAYER_BASE)
    core_wiring.reset()


def public_get(client: Client, path: str) -> Any:
    """As a viewer's browser asks: no credentials."""
    return client.http.get(path)


def page_config(response: Any) -> dict[str, Any]:
    match = CONFIG.search(response.body.decode())
    assert match is not None, response.body[:500]
    loaded: dict[str, Any] = json.loads(match.group(1))
    return loaded


def test_the_page_carries_what_a_viewer_may_see_with_the_player_theme(
    chalice_client: Client, tenant: ApiClient
) -> None:
    player = create_player(tenant, name="brand", trackPlayed="rgba(255, 0, 0, 1)", hideTitle=True)
    assert logo_upload(tenant, player["playerId"], png(40, 20), link="https://example.com/").status_code == 201
    title = 'Launch </script><script>alert("x")</script> & more'
    video = tenant.call("POST", "/videos", {"title": title, "playerId": player["playerId"], "tags": ["secret-tag"]})
    video_id = video.json_body["videoId"]
    assert upload(tenant, f"/videos/{video_id}/captions/fr", "fr.vtt", VTT).status_code == 200
    tenant.call("PATCH", f"/videos/{video_id}/captions/fr", {"default": True})
    assert upload(tenant, f"/videos/{video_id}/captions/en", "en.vtt", VTT).status_code == 200
    assert upload(tenant, f"/videos/{video_id}/chapters/en", "ch.vtt", VTT).status_code == 200

    assets = tenant.call("GET", f"/videos/{video_id}").json_body["assets"]
    assert assets["player"] == f"{PLAYER_BASE}/vod/{video_id}" and assets["player"] in assets["iframe"]
    path = f"/embed/vod/{video_id}"
    response = public_get(chalice_client, path)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    body = response.body.decode()
    assert "</script><script>alert" not in body  # the title cannot end the script element
    assert "--vp-trackPlayed:rgba(255, 0, 0, 1);" in body
    # oEmbed discovery, relative to the page: /oembed beside /embed on the API and on the media CDN.
    assert f'href="../../oembed?url={quote(assets["player"], safe="")}"' in body

    config = page_config(response)
    media = f"{core_wiring.media_base_url()}/vod/{video_id}"
    assert config["title"] == title and config["playable"] is False
    assert config["hls"] == f"{media}/hls/manifest.m3u8"
    assert {(c["srclang"], c["default"], c["src"]) for c in config["captions"]} == {
        ("fr", True, f"{media}/captions/fr.vtt"),
        ("en", False, f"{media}/captions/en.vtt"),
    }
    assert config["chapters"] == [{"language": "en", "src": f"{media}/chapters/en.vtt"}]
    assert config["theme"]["trackPlayed"] == "rgba(255, 0, 0, 1)" and config["theme"]["hideTitle"] is True
    assert config["logo"]["link"] == "https://example.com/" and config["logo"]["src"].endswith(".png")
    data = public_get(chalice_client, f"/embed/vod/{video_id}/data")
    assert data.status_code == 200 and data.json_body == config
    # Nothing of the tenant: no project id, tags or source.
    for secret in (tenant.project_id, "secret-tag", "/source"):
        assert secret not in json.dumps(config) and secret not in body

    tenant.call("DELETE", f"/players/{player['playerId']}")
    default = page_config(public_get(chalice_client, path))
    assert default["theme"]["trackPlayed"] == "rgba(88, 131, 255, .95)" and default["logo"] is None


def test_private_discarded_and_unknown_videos_answer_404(chalice_client: Client, tenant: ApiClient) -> None:
    private = tenant.call("POST", "/videos", {"title": "private", "public": False}).json_body["videoId"]
    discarded = create_video(tenant, "discarded")
    tenant.call("DELETE", f"/videos/{discarded}")
    for video_id in (private, discarded, "vi" + "0" * 22):
        for suffix in ("", "/data"):
            response = public_get(chalice_client, f"/embed/vod/{video_id}{suffix}")
            assert response.status_code == 404 and response.json_body["name"] == "videoId"
    # Made public, it plays at once.
    tenant.call("PATCH", f"/videos/{private}", {"public": True})
    assert public_get(chalice_client, f"/embed/vod/{private}").status_code == 200


def test_assets_are_served_and_nothing_else(chalice_client: Client) -> None:
    script = public_get(chalice_client, "/embed/assets/hls.min.js")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("application/javascript")
    assert len(script.body) > 100_000
    assert public_get(chalice_client, "/embed/assets/player.css").headers["Content-Type"].startswith("text/css")
    for name in ("README.md", "hls.js.LICENSE", "..%2Fpage.py", "embed.py"):
        assert public_get(chalice_client, f"/embed/assets/{name}").status_code == 404


def test_oembed(chalice_client: Client, tenant: ApiClient) -> None:
    video_id = create_video(tenant, "Embeddable")
    player_url = tenant.call("GET", f"/videos/{video_id}").json_body["assets"]["player"]
    response = public_get(chalice_client, f"/oembed?url={quote(player_url, safe='')}&maxwidth=320")
    assert response.status_code == 200, response.body
    body = response.json_body
    assert (body["version"], body["type"], body["title"]) == ("1.0", "video", "Embeddable")
    assert (body["width"], body["height"]) == (320, 180)
    assert f'src="{player_url}"' in body["html"] and 'width="320"' in body["html"]
    for url in ("https://elsewhere.example/embed/vod/" + video_id, player_url.replace(video_id, "vi" + "1" * 22)):
        assert public_get(chalice_client, f"/oembed?url={quote(url, safe='')}").status_code == 404
    bad = public_get(chalice_client, f"/oembed?url={quote(player_url, safe='')}&format=xml")
    assert bad.status_code == 400 and bad.json_body["name"] == "format"
    assert public_get(chalice_client, "/oembed").status_code == 400
