"""A private video in a real browser (Debian's Chromium through Playwright) on a devstack: it plays
from its tokened `assets.player` and from a tenant-signed playback JWT, and not without a token,
with a used or expired one, or inside a site its JWT does not allow. The media server refuses its
playlists and segments without a valid playback session."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
import requests

from chalicelib.playback.domain import access
from devstack.emulator import PLAYBACK_SESSION_KEYS

from .browser import chromium, needs_chromium
from .support import Api, Tenant, marker
from .test_embed_browser import PLAYABLE_SECONDS, VIEWPORT, make_clip, upload_file

pytestmark = [pytest.mark.e2e, needs_chromium]

PLAYING = "() => document.getElementById('vp-video').currentTime >= 2"


@pytest.fixture(scope="module")
def private_video(api: Api, project_a: Tenant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    key = project_a.api_key
    video = api.create_video(key, title=f"Private {marker()}", public=False)
    video_id = video["videoId"]
    clip = make_clip(tmp_path_factory.mktemp("media") / "clip.mp4")
    upload_file(api, key, f"/videos/{video_id}/source", "clip.mp4", clip.read_bytes())
    deadline = time.monotonic() + PLAYABLE_SECONDS
    while not api.ok("GET", f"/videos/{video_id}/status", key)["encoding"]["playable"]:
        assert time.monotonic() < deadline, f"video {video_id} never became playable"
        time.sleep(0.5)
    return dict(video)


@pytest.fixture(scope="module")
def playback_key(api: Api, project_a: Tenant) -> dict[str, Any]:
    created: dict[str, Any] = api.ok("POST", "/playback-keys", project_a.api_key, expected=201)
    return created


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def fresh_assets(api: Api, project_a: Tenant, video_id: str) -> dict[str, str]:
    """Each read of a private video gives a new single-use token."""
    assets: dict[str, str] = api.ok("GET", f"/videos/{video_id}", project_a.api_key)["assets"]
    return assets


def signed(key: dict[str, Any], video_id: str, lifetime: timedelta, **claims: Any) -> str:
    payload = {"sub": video_id, "exp": int((datetime.now(UTC) + lifetime).timestamp()), **claims}
    return jwt.encode(payload, key["privateKey"], algorithm="ES256", headers={"kid": key["playbackKeyId"]})


def plays(browser: Any, url: str) -> bool:
    page = browser.new_page(viewport=VIEWPORT)
    try:
        response = page.goto(url)
        if response is None or response.status != 200:
            return False
        page.click(".vp-play")
        page.wait_for_function(PLAYING, timeout=60_000)
        return True
    finally:
        page.close()


def test_a_private_video_plays_with_its_token_once(
    browser: Any, api: Api, project_a: Tenant, private_video: dict[str, Any]
) -> None:
    video_id = private_video["videoId"]
    player = fresh_assets(api, project_a, video_id)["player"]
    assert "?token=" in player
    assert plays(browser, player)
    # Used up by that session: the same link again is refused, and without a token it is unknown.
    assert requests.get(player, timeout=15).status_code == 403
    assert requests.get(player.split("?")[0], timeout=15).status_code == 404


def test_its_media_needs_a_valid_session(api: Api, project_a: Tenant, private_video: dict[str, Any]) -> None:
    video_id = private_video["videoId"]
    hls_asset = fresh_assets(api, project_a, video_id)["hls"]
    opened = requests.get(hls_asset, timeout=15)  # the API's redirect into a session, followed
    assert opened.status_code == 200 and opened.text.startswith("#EXTM3U")
    session_url = opened.url
    media_base = session_url.split("/vod/")[0]
    assert requests.get(f"{media_base}/vod/{video_id}/hls/manifest.m3u8", timeout=15).status_code == 403
    # A segment of the playlist, through the session and without it.
    rendition = next(line for line in opened.text.splitlines() if line and not line.startswith("#"))
    rendition_url = session_url.rsplit("/", 1)[0] + "/" + rendition
    playlist = requests.get(rendition_url, timeout=15)
    assert playlist.status_code == 200
    segment = next(line for line in playlist.text.splitlines() if line and not line.startswith("#"))
    segment_url = rendition_url.rsplit("/", 1)[0] + "/" + segment
    assert requests.get(segment_url, timeout=15).status_code == 200
    session = session_url.split("/token/")[1].split("/")[0]
    assert requests.get(segment_url.replace(f"/token/{session}", ""), timeout=15).status_code == 403
    key = access.session_keys(PLAYBACK_SESSION_KEYS)[0]
    expired = access.issue_session(video_id, datetime.now(UTC) - timedelta(days=2), key)
    assert requests.get(segment_url.replace(session, expired), timeout=15).status_code == 403


def test_a_signed_jwt_plays_until_it_expires(
    browser: Any, api: Api, private_video: dict[str, Any], playback_key: dict[str, Any]
) -> None:
    video_id = private_video["videoId"]
    page_url = f"{api.base_url}/embed/vod/{video_id}"
    assert plays(browser, f"{page_url}?token={signed(playback_key, video_id, timedelta(minutes=5))}")
    assert not plays(browser, f"{page_url}?token={signed(playback_key, video_id, timedelta(seconds=-5))}")


class _Site(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


def serve_site(iframe_src: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    page = f'<!doctype html><html><body><iframe src="{iframe_src}" width="640" height="360"></iframe></body></html>'
    handler = type("Site", (_Site,), {"body": page.encode()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_a_jwt_limited_to_one_site_plays_there_and_not_elsewhere(
    browser: Any, api: Api, private_video: dict[str, Any], playback_key: dict[str, Any]
) -> None:
    video_id = private_video["videoId"]
    allowed, allowed_origin = serve_site("about:blank")
    other, _ = serve_site("about:blank")
    try:
        token = signed(playback_key, video_id, timedelta(minutes=5), aud=[allowed_origin])
        src = f"{api.base_url}/embed/vod/{video_id}?token={token}"
        for server, expected in ((allowed, True), (other, False)):
            server.RequestHandlerClass.body = (  # type: ignore[attr-defined]
                f'<!doctype html><iframe src="{src}" width="640" height="360"></iframe>'.encode()
            )
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/post")
            (frame,) = [f for f in page.frames if "/embed/vod/" in f.url]
            if expected:
                frame.wait_for_selector(".vp-play").click()
                frame.wait_for_function(PLAYING, timeout=60_000)
            else:
                frame.wait_for_load_state()
                content = frame.content()
                assert "playback-denied" in content and "may not be embedded on this site" in content
                assert frame.query_selector("#vp-video") is None
            page.close()
    finally:
        for server in (allowed, other):
            server.shutdown()
            server.server_close()
