"""A live stream's embed page and data through the Chalice app on moto, with the devstack's IVS
plane: the playback context reads the live context's stream item (its index entry, name, channel,
thumbnail, player) from the shared table; these tests hold the two layouts together."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from chalice.test import Client
from cryptography.hazmat.primitives import serialization

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.playback.domain import access, ivs_tokens
from devstack.emulator import LIVE_PLAYBACK_KEY
from devstack.ivsplane import IvsPlane
from devstack.mediaserver import table_private_media
from tests.integration.conftest import ApiClient
from tests.integration.files import png, upload
from tests.integration.test_embed_api import page_config, public_get
from tests.integration.test_live_streams_api import create
from tests.integration.test_live_streams_api import ivs as ivs  # noqa: PLC0414 - the fixture
from tests.integration.test_players_api import create as create_player

PLAYER_BASE = "https://media.example/embed"


@pytest.fixture(autouse=True)
def player_base(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.PLAYER_BASE_URL_ENV, PLAYER_BASE)
    core_wiring.reset()


def test_a_public_live_stream_plays_its_channel_with_the_player_theme(
    ivs: IvsPlane, chalice_client: Client, tenant: ApiClient
) -> None:
    player = create_player(tenant, name="live", trackPlayed="rgba(0, 128, 0, 1)", forceAutoplay=True)
    stream = create(tenant, name="Launch <b>night</b>", playerId=player["playerId"])
    live_stream_id = stream["liveStreamId"]
    thumbnail = upload(tenant, f"/live-streams/{live_stream_id}/thumbnail", "p.png", png(8, 8), "image/png")
    assert thumbnail.status_code == 200
    assets = tenant.call("GET", f"/live-streams/{live_stream_id}").json_body["assets"]
    assert assets["player"] == f"{PLAYER_BASE}/live/{live_stream_id}" and assets["player"] in assets["iframe"]

    response = public_get(chalice_client, f"/embed/live/{live_stream_id}")
    assert response.status_code == 200, response.body
    config = page_config(response)
    (channel,) = ivs.channels.values()
    assert config["hls"] == channel["playbackUrl"] == assets["hls"] and config["live"] is True
    assert config["title"] == "Launch <b>night</b>" and "<b>" not in response.body.decode().split("<body>")[1]
    assert config["poster"] == assets["thumbnail"] and config["broadcasting"] is False
    assert config["theme"]["trackPlayed"] == "rgba(0, 128, 0, 1)" and config["theme"]["forceAutoplay"] is True
    assert "projectId" not in response.body.decode() and tenant.project_id not in response.body.decode()
    policy = response.headers["Content-Security-Policy"]
    playback_origin = "/".join(channel["playbackUrl"].split("/")[:3])
    assert f"media-src {playback_origin}" in policy or f" {playback_origin} blob:" in policy

    data = public_get(chalice_client, f"/embed/live/{live_stream_id}/data")
    assert data.status_code == 200 and data.json_body == config


def test_unknown_and_private_live_streams_answer_404(ivs: IvsPlane, chalice_client: Client, tenant: ApiClient) -> None:
    private = create(tenant, public=False)["liveStreamId"]
    for live_stream_id in (private, "li" + "0" * 22, "not-an-id"):
        response: Any = public_get(chalice_client, f"/embed/live/{live_stream_id}")
        assert response.status_code == 404, (live_stream_id, response.body)
        assert public_get(chalice_client, f"/embed/live/{live_stream_id}/data").status_code == 404
    # Made public: plays at once.
    assert tenant.call("PATCH", f"/live-streams/{private}", {"public": True}).status_code == 200
    assert public_get(chalice_client, f"/embed/live/{private}").status_code == 200


def public_key(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    encoded = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return encoded.decode()


def test_a_private_live_stream_plays_once_per_token_with_an_ivs_playback_jwt(
    ivs: IvsPlane, chalice_client: Client, tenant: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(resources.LIVE_PLAYBACK_KEY_ENV, LIVE_PLAYBACK_KEY)
    core_wiring.reset()
    stream = create(tenant, public=False)
    (channel,) = ivs.channels.values()
    assert channel["authorized"] is True
    player = stream["assets"]["player"]
    assert player.startswith(f"{PLAYER_BASE}/live/{stream['liveStreamId']}?token=")

    page = public_get(chalice_client, player.removeprefix(PLAYER_BASE).replace("/live/", "/embed/live/", 1))
    assert page.status_code == 200, page.body
    assert page.headers["Cache-Control"] == "private, no-store"
    hls = page_config(page)["hls"]
    assert hls.startswith(channel["playbackUrl"] + "?token=")
    signed = hls.split("?token=", 1)[1]
    now = datetime.now(UTC)
    assert ivs_tokens.token_denial(signed, channel["arn"], [public_key(LIVE_PLAYBACK_KEY)], now) is None
    other = channel["arn"] + "x"
    assert ivs_tokens.token_denial(signed, other, [public_key(LIVE_PLAYBACK_KEY)], now) == "other-channel"

    # Single use, as a private video's token.
    used = public_get(chalice_client, player.removeprefix(PLAYER_BASE).replace("/live/", "/embed/live/", 1))
    assert used.status_code == 403 and used.json_body["name"] == "token"
    # `assets.hls` of another read: uses its token and redirects to the channel with a JWT.
    hls_asset = tenant.call("GET", f"/live-streams/{stream['liveStreamId']}").json_body["assets"]["hls"]
    redirect = public_get(chalice_client, hls_asset.removeprefix(PLAYER_BASE).replace("/live/", "/embed/live/", 1))
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith(channel["playbackUrl"] + "?token=")

    # Made public: the channel stops asking for tokens (new viewer sessions), the page plays bare.
    assert tenant.call("PATCH", f"/live-streams/{stream['liveStreamId']}", {"public": True}).status_code == 200
    assert channel["authorized"] is False
    bare = public_get(chalice_client, f"/embed/live/{stream['liveStreamId']}")
    assert page_config(bare)["hls"] == channel["playbackUrl"]


# -- a private stream's thumbnail: not a public object ---------------------------------------------


def media_check() -> Any:
    """The devstack media server's check over this table (what the edge function does on AWS)."""
    keys = {k.kid: k.secret for k in access.session_keys(core_wiring.settings().playback_session_keys)}
    return table_private_media(keys, core_wiring.table())


def route(asset_url: str) -> str:
    return asset_url.removeprefix(PLAYER_BASE).replace("/live/", "/embed/live/", 1)


def test_a_private_thumbnail_is_served_only_through_a_playback_session(
    ivs: IvsPlane, chalice_client: Client, tenant: ApiClient, other_tenant: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(resources.LIVE_PLAYBACK_KEY_ENV, LIVE_PLAYBACK_KEY)
    core_wiring.reset()
    live_stream_id = create(tenant, public=False)["liveStreamId"]
    uploaded = upload(tenant, f"/live-streams/{live_stream_id}/thumbnail", "p.png", png(8, 8), "image/png")
    assert uploaded.status_code == 200
    assets = tenant.call("GET", f"/live-streams/{live_stream_id}").json_body["assets"]
    token = assets["player"].split("?token=", 1)[1]
    assert assets["thumbnail"] == f"{PLAYER_BASE}/live/{live_stream_id}/token/{token}/thumbnail.jpg"
    media = core_wiring.media_base_url()
    assert not any(str(url).startswith(media) for url in assets.values())

    # The object itself, without a session: refused as a private video's files are.
    (key,) = s3_keys(f"live/{live_stream_id}/")
    check = media_check()
    bare = check.decide(key)
    assert bare.key is None and bare.denial == access.Denial.NO_TOKEN

    # The token route uses the token up and redirects into a playback session for this stream.
    redirect = public_get(chalice_client, route(assets["thumbnail"]))
    assert redirect.status_code == 302, redirect.body
    assert redirect.headers["Cache-Control"] == "private, no-store"
    location = redirect.headers["Location"]
    prefix = f"{media}/live/{live_stream_id}/token/"
    assert location.startswith(prefix)
    session, file = location[len(prefix) :].split("/", 1)
    assert f"live/{live_stream_id}/{file}" == key
    assert check.decide(location[len(media) + 1 :]).key == key
    # Once: the same token again is refused.
    again = public_get(chalice_client, route(assets["thumbnail"]))
    assert again.status_code == 403 and again.json_body["name"] == "token"

    # The session is bound to the stream: on another stream's files it does not check out.
    other_stream = create(tenant, public=False)["liveStreamId"]
    foreign = check.decide(f"live/{other_stream}/token/{session}/{file}")
    assert foreign.key is None and foreign.denial == access.Denial.BAD_SIGNATURE

    # The page's poster goes through the page's own session.
    page_token = tenant.call("GET", f"/live-streams/{live_stream_id}").json_body["assets"]["player"].split("=", 1)[1]
    poster = page_config(public_get(chalice_client, f"/embed/live/{live_stream_id}?token={page_token}"))["poster"]
    assert poster.startswith(prefix) and poster.endswith(f"/{file}") and check.decide(poster[len(media) + 1 :]).key

    # Another project: the stream is unknown to it, and its tokens do not open this stream.
    assert other_tenant.call("GET", f"/live-streams/{live_stream_id}").status_code == 404
    theirs = create(other_tenant, public=False)
    their_token = theirs["assets"]["player"].split("?token=", 1)[1]
    crossed = public_get(chalice_client, f"/embed/live/{live_stream_id}/token/{their_token}/thumbnail.jpg")
    assert crossed.status_code == 403
    unknown = public_get(chalice_client, f"/embed/live/{'li' + '0' * 22}/token/{their_token}/thumbnail.jpg")
    assert unknown.status_code == 404


def test_a_public_thumbnail_stays_a_media_object(ivs: IvsPlane, chalice_client: Client, tenant: ApiClient) -> None:
    live_stream_id = create(tenant)["liveStreamId"]
    assert (
        upload(tenant, f"/live-streams/{live_stream_id}/thumbnail", "p.png", png(8, 8), "image/png").status_code == 200
    )
    thumbnail = tenant.call("GET", f"/live-streams/{live_stream_id}").json_body["assets"]["thumbnail"]
    media = core_wiring.media_base_url()
    (key,) = s3_keys(f"live/{live_stream_id}/")
    assert thumbnail == f"{media}/{key}" and media_check().decide(key).key == key
    # Made private: the same URL is refused from then on (the devstack's check reads the table).
    assert tenant.call("PATCH", f"/live-streams/{live_stream_id}", {"public": False}).status_code == 200
    check = media_check()
    assert check.decide(key).denial == access.Denial.NO_TOKEN


def s3_keys(prefix: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=core_wiring.settings().media_bucket, Prefix=prefix)
    return [str(o["Key"]) for o in listed.get("Contents", [])]
