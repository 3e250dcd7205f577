"""A live stream's embed page in a real browser (Debian's Chromium, headless, through Playwright):
ffmpeg pushes a test pattern over RTMP with the stream's key, and `assets.player` plays the live
HLS (currentTime advances by 2 s or more); a private stream plays through its single-use token
and an IVS playback JWT, and neither its page nor its channel's playlist plays without; its
uploaded thumbnail (the page's poster) only through a playback session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from apivideo.apis import LiveStreamsApi
from apivideo.model.live_stream_creation_payload import LiveStreamCreationPayload

from .browser import chromium, needs_chromium
from .support import Api, Devstack, Tenant, marker
from .test_live_ingest import push, stop, wait_until
from .test_sdk_live_streams import ivs_client
from .test_sdk_subresources import png

pytestmark = [pytest.mark.e2e, needs_chromium]

VIEWPORT = {"width": 640, "height": 360}
# hls.js waits for about three 1 s segments before it starts at the live edge.
PLAY_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def plays_live(browser: Any, url: str) -> str:
    """The page starts at the live edge; its clock must then run on by 2 s or more. Returns the
    video's poster URL (empty: none)."""
    page = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url + "#autoplay")
    page.wait_for_function("() => document.getElementById('vp-video').currentTime > 0", timeout=PLAY_TIMEOUT_MS)
    first = page.evaluate("document.getElementById('vp-video').currentTime")
    page.wait_for_function(
        f"() => document.getElementById('vp-video').currentTime >= {first} + 2", timeout=PLAY_TIMEOUT_MS
    )
    state = page.evaluate("(() => { const v = document.getElementById('vp-video'); "
                          "return {paused: v.paused, width: v.videoWidth, error: v.error}; })()")  # fmt: skip
    assert state == {"paused": False, "width": 320, "error": None}
    assert errors == []
    poster = str(page.evaluate("document.getElementById('vp-video').poster"))
    page.close()
    return poster


def test_a_live_push_plays_on_the_embed_page(browser: Any, sdk: Any, api: Api, project_a: Tenant) -> None:
    live = LiveStreamsApi(sdk)
    stream = live.create(LiveStreamCreationPayload(name=f"live page {marker()}"))
    raw = api.ok("GET", f"/live-streams/{stream.live_stream_id}", project_a.api_key)
    encoder = push(raw["ingest"]["rtmp"]["url"], "rtmp", seconds=90)
    try:
        wait_until(lambda: live.get(stream.live_stream_id).broadcasting)
        plays_live(browser, stream.assets.player)
    finally:
        stop(encoder)


def test_a_private_live_push_plays_with_its_token_and_not_without(
    browser: Any, sdk: Any, api: Api, devstack: Devstack, project_a: Tenant, tmp_path: Path
) -> None:
    live = LiveStreamsApi(sdk)
    stream = live.create(LiveStreamCreationPayload(name=f"private page {marker()}", public=False))
    image = tmp_path / "poster.png"
    image.write_bytes(png(320, 180))
    with image.open("rb") as file:
        live.upload_thumbnail(stream.live_stream_id, file)
    raw = api.ok("GET", f"/live-streams/{stream.live_stream_id}", project_a.api_key)
    player = raw["assets"]["player"]
    encoder = push(raw["ingest"]["rtmp"]["url"], "rtmp", seconds=90)
    try:
        wait_until(lambda: live.get(stream.live_stream_id).broadcasting)
        # Without a token: the page answers as for an unknown stream, and the channel's own
        # playlist (IVS's playback URL; the media server here) is refused.
        assert requests.get(player.split("?", 1)[0], timeout=10).status_code == 404
        playback_url = channel_playback_url(devstack, f"videoplane-{project_a.project_id}-{stream.live_stream_id}")
        refused = requests.get(playback_url, timeout=10)
        assert refused.status_code == 403 and refused.text == "Forbidden: no-token\n"
        assert requests.get(playback_url + "?token=e30.e30.x", timeout=10).status_code == 403
        poster = plays_live(browser, player)
        # The token was used up by that page.
        assert requests.get(player, timeout=10).status_code == 403
        private_thumbnail_is_served_through_sessions(poster, stream.live_stream_id, api, project_a)
    finally:
        stop(encoder)


def private_thumbnail_is_served_through_sessions(poster: str, live_stream_id: str, api: Api, tenant: Tenant) -> None:
    """The page's poster is the uploaded thumbnail through the page's playback session; the object
    itself is refused without one; `assets.thumbnail` redirects into a session of its own, once."""
    marker_path = f"/live/{live_stream_id}/token/"
    assert marker_path in poster, poster
    served = requests.get(poster, timeout=10)
    assert served.status_code == 200 and served.content == png(320, 180)
    session_and_file = poster.split(marker_path, 1)[1]
    bare = poster.split(marker_path, 1)[0] + f"/live/{live_stream_id}/" + session_and_file.split("/", 1)[1]
    refused = requests.get(bare, timeout=10)
    assert refused.status_code == 403 and refused.text == "Forbidden: no-token\n"
    asset = api.ok("GET", f"/live-streams/{live_stream_id}", tenant.api_key)["assets"]["thumbnail"]
    followed = requests.get(asset, timeout=10)
    assert followed.status_code == 200 and followed.content == png(320, 180)
    assert followed.history[0].status_code == 302 and marker_path in followed.url
    assert requests.get(asset, timeout=10).status_code == 403


def channel_playback_url(devstack: Devstack, channel_name: str) -> str:
    ivs = ivs_client(devstack)
    (channel,) = ivs.list_channels(filterByName=channel_name)["channels"]
    assert channel["authorized"] is True
    return str(ivs.get_channel(arn=channel["arn"])["channel"]["playbackUrl"])
