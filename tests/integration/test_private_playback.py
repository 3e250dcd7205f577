"""Private videos through the Chalice app on moto: the VOD context mints a single-use token each
time it shows one, the playback context uses it up for a playback session (both sides of the token
item's layout), and refusals are counted."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.core.adapters.dynamodb import project_partition
from chalicelib.core.clock import utc_now
from chalicelib.playback.domain import access
from tests.integration.conftest import ApiClient
from tests.integration.test_embed_api import PLAYER_BASE, page_config, public_get

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(autouse=True)
def player_base(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.PLAYER_BASE_URL_ENV, PLAYER_BASE)
    core_wiring.reset()


def private_video(tenant: ApiClient) -> tuple[str, dict[str, Any]]:
    created = tenant.call("POST", "/videos", {"title": "Board meeting", "public": False})
    assert created.status_code == 201, created.body
    return created.json_body["videoId"], created.json_body["assets"]


def token_of(player_url: str) -> str:
    match = re.search(f"[?]token=({UUID})$", player_url)
    assert match is not None, player_url
    return match.group(1)


def denials(project_id: str) -> dict[str, int]:
    response = boto3.client("dynamodb").query(
        TableName=core_wiring.settings().table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": project_partition(project_id, "PLAYBACKDENIAL")}},
    )
    return {item["SK"]["S"].split("#", 1)[1]: int(item["count"]["N"]) for item in response["Items"]}


def test_each_read_of_a_private_video_gives_new_single_use_token_assets(
    chalice_client: Client, tenant: ApiClient
) -> None:
    video_id, assets = private_video(tenant)
    token = token_of(assets["player"])
    assert assets["hls"] == f"{PLAYER_BASE}/vod/{video_id}/token/{token}/hls/manifest.m3u8"
    assert f'src="{assets["player"]}"' in assets["iframe"]
    again = tenant.call("GET", f"/videos/{video_id}").json_body["assets"]
    listed = tenant.call("GET", "/videos").json_body["data"][0]["assets"]
    assert len({token, token_of(again["player"]), token_of(listed["player"])}) == 3

    page = public_get(chalice_client, f"/embed/vod/{video_id}?token={token}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    config = page_config(page)
    prefix = f"{core_wiring.media_base_url()}/vod/{video_id}/token/"
    assert config["hls"].startswith(prefix) and config["hls"].endswith("/hls/manifest.m3u8")
    session = config["hls"][len(prefix) :].split("/")[0]
    assert access.check_session(session, video_id, utc_now(), session_keys()) is None

    # Used up: a second page load with the same token is refused, and counted.
    used = public_get(chalice_client, f"/embed/vod/{video_id}?token={token}")
    assert used.status_code == 403 and used.json_body["name"] == "token"
    assert used.json_body["type"].endswith("playback-denied")
    # The session it gave works for the data read (api.video's `avh`).
    data = public_get(chalice_client, f"/embed/vod/{video_id}/data?avh={session}")
    assert data.status_code == 200 and data.json_body["hls"] == config["hls"]
    assert denials(tenant.project_id) == {"token-not-usable": 1}


def test_the_hls_asset_redirects_into_a_session_once(chalice_client: Client, tenant: ApiClient) -> None:
    video_id, assets = private_video(tenant)
    path = urlsplit(assets["hls"]).path.removeprefix("/embed") or "/"
    first = public_get(chalice_client, f"/embed{path}")
    assert first.status_code == 302, first.body
    location = first.headers["Location"]
    assert location.startswith(f"{core_wiring.media_base_url()}/vod/{video_id}/token/")
    assert location.endswith("/hls/manifest.m3u8")
    assert public_get(chalice_client, f"/embed{path}").status_code == 403


def test_the_session_route_answers_like_api_video(chalice_client: Client, tenant: ApiClient) -> None:
    video_id, assets = private_video(tenant)
    response = public_get(chalice_client, f"/embed/vod/{video_id}/token/{token_of(assets['player'])}/session")
    assert response.status_code == 200 and set(response.json_body) == {"session_token"}
    session = response.json_body["session_token"]
    assert access.check_session(session, video_id, utc_now(), session_keys()) is None


def test_refusals(chalice_client: Client, tenant: ApiClient, other_tenant: ApiClient) -> None:
    video_id, _ = private_video(tenant)
    other_id, other_assets = private_video(other_tenant)
    # Without anything: as unknown. With another video's token, a forged or a foreign session: 403.
    assert public_get(chalice_client, f"/embed/vod/{video_id}").status_code == 404
    assert (
        public_get(chalice_client, f"/embed/vod/{video_id}?token={token_of(other_assets['player'])}").status_code == 403
    )
    assert public_get(chalice_client, f"/embed/vod/{video_id}?token=not-a-uuid").status_code == 403
    foreign = access.issue_session(
        other_id, utc_now(), access.session_keys(core_wiring.settings().playback_session_keys)[0]
    )
    assert public_get(chalice_client, f"/embed/vod/{video_id}/data?avh={foreign}").status_code == 403
    assert public_get(chalice_client, f"/embed/vod/{video_id}/data?avh=x" + "y" * 300).status_code == 400
    # The other project's token was not used up by the refusal.
    assert (
        public_get(chalice_client, f"/embed/vod/{other_id}?token={token_of(other_assets['player'])}").status_code == 200
    )
    assert denials(tenant.project_id) == {
        "no-token": 1,
        "token-not-usable": 1,
        "malformed-token": 1,
        "bad-signature": 1,
    }


def test_flipping_public_takes_effect_for_the_next_page(chalice_client: Client, tenant: ApiClient) -> None:
    video_id, assets = private_video(tenant)
    tenant.call("PATCH", f"/videos/{video_id}", {"public": True})
    public = tenant.call("GET", f"/videos/{video_id}").json_body["assets"]
    assert public["player"] == f"{PLAYER_BASE}/vod/{video_id}"
    # An old token link still plays, now without a session.
    config = page_config(public_get(chalice_client, f"/embed/vod/{video_id}?token={token_of(assets['player'])}"))
    assert config["hls"] == f"{core_wiring.media_base_url()}/vod/{video_id}/hls/manifest.m3u8"
    tenant.call("PATCH", f"/videos/{video_id}", {"public": False})
    assert public_get(chalice_client, f"/embed/vod/{video_id}").status_code == 404


def session_keys() -> dict[str, bytes]:
    return {k.kid: k.secret for k in access.session_keys(core_wiring.settings().playback_session_keys)}
