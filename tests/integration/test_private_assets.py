"""A private video's thumbnail and MP4 (api.video's private asset URLs): through the token routes,
each a redirect into a playback session; the token is used up by the first, and later assets take
the session as `?avh=` (api.video's flow)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from tests.integration.conftest import ApiClient
from tests.integration.files import png, upload
from tests.integration.test_embed_api import PLAYER_BASE, public_get
from tests.integration.test_private_playback import token_of


@pytest.fixture(autouse=True)
def player_base(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.PLAYER_BASE_URL_ENV, PLAYER_BASE)
    core_wiring.reset()


def route(asset_url: str) -> str:
    return "/embed" + urlsplit(asset_url).path.removeprefix(urlsplit(PLAYER_BASE).path)


def private_with_thumbnail(tenant: ApiClient) -> tuple[str, dict[str, Any]]:
    video_id = tenant.call("POST", "/videos", {"title": "Board meeting", "public": False}).json_body["videoId"]
    assert upload(tenant, f"/videos/{video_id}/thumbnail", "t.png", png(), "image/png").status_code == 200
    return video_id, tenant.call("GET", f"/videos/{video_id}").json_body["assets"]


def test_private_assets_go_through_the_token_routes(tenant: ApiClient) -> None:
    video_id, assets = private_with_thumbnail(tenant)
    token = token_of(assets["player"])
    assert assets["thumbnail"] == f"{PLAYER_BASE}/vod/{video_id}/token/{token}/thumbnail.jpg"
    assert assets["mp4"] == f"{PLAYER_BASE}/vod/{video_id}/token/{token}/mp4/source.mp4"
    media = core_wiring.media_base_url()
    assert not any(str(url).startswith(media) for url in assets.values())


def test_the_first_asset_uses_the_token_and_the_others_take_its_session(
    chalice_client: Client, tenant: ApiClient
) -> None:
    video_id, assets = private_with_thumbnail(tenant)
    thumbnail = public_get(chalice_client, route(assets["thumbnail"]))
    assert thumbnail.status_code == 302, thumbnail.body
    location = thumbnail.headers["Location"]
    prefix = f"{core_wiring.media_base_url()}/vod/{video_id}/token/"
    assert location.startswith(prefix) and thumbnail.headers["Cache-Control"] == "private, no-store"
    session, file = location[len(prefix) :].split("/", 1)
    # The session's path to the same object the page's poster names.
    page_poster = public_get(chalice_client, f"/embed/vod/{video_id}/data?avh={session}").json_body["poster"]
    assert page_poster == location and file

    # Used up: the MP4 with the same token alone is refused ...
    assert public_get(chalice_client, route(assets["mp4"])).status_code == 403
    # ... and with the session (api.video's `avh`) it redirects into that session.
    mp4 = public_get(chalice_client, f"{route(assets['mp4'])}?avh={session}")
    assert mp4.status_code == 302 and mp4.headers["Location"] == f"{prefix}{session}/mp4/source.mp4"
    forged = public_get(chalice_client, f"{route(assets['mp4'])}?avh={session[:-2]}xx")
    assert forged.status_code == 403


def test_a_private_video_without_a_thumbnail_has_no_thumbnail_asset(chalice_client: Client, tenant: ApiClient) -> None:
    created = tenant.call("POST", "/videos", {"title": "No frame yet", "public": False, "mp4Support": False})
    assets = created.json_body["assets"]
    assert "thumbnail" not in assets and "mp4" not in assets
    token = token_of(assets["player"])
    missing = public_get(chalice_client, f"/embed/vod/{created.json_body['videoId']}/token/{token}/thumbnail.jpg")
    assert missing.status_code == 404
