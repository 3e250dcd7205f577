"""The embed page in a real browser (Debian's Chromium, headless, through Playwright): an uploaded
video plays from `assets.player`, a caption track can be switched on, the player's colours and
logo are on screen, and the iframe snippet plays inside another site's page."""

from __future__ import annotations

import http.server
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
import requests

from .browser import chromium, needs_chromium, pixels
from .support import Api, Tenant, marker
from .test_sdk_players import png

pytestmark = [pytest.mark.e2e, needs_chromium]

PLAYABLE_SECONDS = 120
# Long enough for currentTime to pass 2 s with room to spare.
CLIP_SECONDS = 8
CAPTIONS = {
    "en": b"WEBVTT\n\n00:00:00.000 --> 00:00:08.000\nHello from the captions\n",
    "fr": b"WEBVTT\n\n00:00:00.000 --> 00:00:08.000\nBonjour des sous-titres\n",
}
CHAPTERS = b"WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nOpening\n\n00:00:04.000 --> 00:00:08.000\nClosing\n"
RED, BLUE, YELLOW, GREEN = (255, 0, 0), (0, 0, 255), (255, 255, 0), (0, 160, 0)
VIEWPORT = {"width": 800, "height": 450}


def make_clip(path: Path) -> Path:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(CLIP_SECONDS),
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-pix_fmt", "yuv420p",
         "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


def upload_file(api: Api, key: str, path: str, name: str, data: bytes, fields: dict[str, str] | None = None) -> Any:
    response = api.call("POST", path, key, files={"file": (name, data)}, data=fields or {}, timeout=60)
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture(scope="module")
def themed_video(api: Api, project_a: Tenant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A playable video with captions, chapters and a player: solid colours where the test looks."""
    key = project_a.api_key
    player = api.ok(
        "POST", "/players", key, expected=201,
        json={"name": f"browser {marker()}", "backgroundTop": "rgba(255, 0, 0, 1)", "backgroundBottom": "#0000ff",
              "trackBackground": "rgba(255, 255, 0, 1)", "trackUnplayed": "#ffff00", "trackPlayed": "#ffff00"},
    )  # fmt: skip
    upload_file(api, key, f"/players/{player['playerId']}/logo", "logo.png", png(120, 40, GREEN),
                {"link": "https://example.com/brand"})  # fmt: skip
    video = api.create_video(key, title=f"Browser {marker()}", playerId=player["playerId"])
    video_id = video["videoId"]
    clip = make_clip(tmp_path_factory.mktemp("media") / "clip.mp4")
    upload_file(api, key, f"/videos/{video_id}/source", "clip.mp4", clip.read_bytes())
    for language, vtt in CAPTIONS.items():
        upload_file(api, key, f"/videos/{video_id}/captions/{language}", f"{language}.vtt", vtt)
    upload_file(api, key, f"/videos/{video_id}/chapters/en", "chapters.vtt", CHAPTERS)
    deadline = time.monotonic() + PLAYABLE_SECONDS
    while not api.ok("GET", f"/videos/{video_id}/status", key)["encoding"]["playable"]:
        assert time.monotonic() < deadline, f"video {video_id} never became playable"
        time.sleep(0.5)
    body: dict[str, Any] = api.ok("GET", f"/videos/{video_id}", key)
    return body


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def open_player(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(url)
    page.wait_for_selector(".vp-controls", state="attached")
    page.errors = errors
    return page


def test_the_embed_page_plays_the_uploaded_video(browser: Any, themed_video: dict[str, Any]) -> None:
    page = open_player(browser, themed_video["assets"]["player"])
    page.click(".vp-play")
    page.wait_for_function("() => document.getElementById('vp-video').currentTime >= 2", timeout=60_000)
    state = page.evaluate("(() => { const v = document.getElementById('vp-video'); "
                          "return {paused: v.paused, width: v.videoWidth, error: v.error}; })()")  # fmt: skip
    # Some rendition of the ladder (hls.js picks by bandwidth), decoded and running.
    assert state["paused"] is False and state["width"] > 0 and state["error"] is None
    assert page.title() == themed_video["title"]
    assert page.errors == []
    page.close()


def test_fragment_options_autoplay_loop_and_hide_the_chrome(browser: Any, themed_video: dict[str, Any]) -> None:
    """api.video's URL fragment: #autoplay;loop;hide-controls;hide-title;show-subtitles;t=3 (no click)."""
    fragment = "#autoplay;loop;hide-controls;hide-title;show-subtitles;t=3"
    page = open_player(browser, themed_video["assets"]["player"] + fragment)
    page.wait_for_function("() => document.getElementById('vp-video').currentTime >= 4", timeout=60_000)
    state = page.evaluate("(() => { const v = document.getElementById('vp-video'); return [v.loop, v.muted]; })()")
    assert state == [True, True]  # muted: browsers autoplay only without sound
    assert not page.is_visible(".vp-controls") and not page.is_visible(".vp-title")
    showing = page.evaluate(
        "Array.from(document.getElementById('vp-video').textTracks).filter(t => t.mode === 'showing')"
        ".map(t => t.language)"
    )
    assert showing == ["en"]  # no caption is the default: the first one
    page.close()


def test_a_caption_track_can_be_switched_on_and_chapters_are_listed(browser: Any, themed_video: dict[str, Any]) -> None:
    page = open_player(browser, themed_video["assets"]["player"])
    modes = "Array.from(document.getElementById('vp-video').textTracks).filter(t => t.kind === 'captions')"
    assert page.evaluate(f"{modes}.map(t => t.mode)") == ["disabled", "disabled"]
    page.click(".vp-captions-menu-button")
    page.click('.vp-captions-menu button[data-language="fr"]')
    assert page.evaluate(f"{modes}.map(t => [t.language, t.mode])") == [["en", "disabled"], ["fr", "showing"]]
    page.click(".vp-play")
    page.wait_for_function(f"() => {modes}.some(t => t.activeCues && t.activeCues.length > 0)", timeout=60_000)
    cue = page.evaluate(f"{modes}.find(t => t.mode === 'showing').activeCues[0].text")
    assert cue == "Bonjour des sous-titres"

    page.click(".vp-chapters-menu-button")
    chapters = page.locator(".vp-chapters-menu button")
    chapters.first.wait_for()
    assert chapters.all_inner_texts() == ["0:00 Opening", "0:04 Closing"]
    chapters.nth(1).click()
    assert page.evaluate("document.getElementById('vp-video').currentTime") >= 4
    page.close()


def test_the_players_colours_and_logo_are_on_screen(
    browser: Any, themed_video: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = open_player(browser, themed_video["assets"]["player"])
    logo = page.locator(".vp-logo img")
    logo.wait_for()
    page.wait_for_function("() => document.querySelector('.vp-logo img').complete")
    title, controls, track = (page.locator(s).bounding_box() for s in (".vp-title", ".vp-controls", ".vp-progress"))
    logo_box = logo.bounding_box()
    assert logo_box is not None and (round(logo_box["width"]), round(logo_box["height"])) == (120, 40)
    assert page.get_attribute(".vp-logo", "href") == "https://example.com/brand"
    screenshot = page.screenshot()
    artifact = tmp_path_factory.mktemp("artifacts") / "embed-themed.png"
    artifact.write_bytes(screenshot)  # kept for a look when this test fails
    assert title and controls and track
    points = [
        (int(title["x"] + title["width"] * 0.6), int(title["y"] + 3)),
        (int(track["x"] + track["width"] / 2), int(controls["y"] + 1)),
        (int(track["x"] + track["width"] / 2), int(track["y"] + track["height"] / 2)),
        (int(logo_box["x"] + logo_box["width"] / 2), int(logo_box["y"] + logo_box["height"] / 2)),
    ]
    assert pixels(page, screenshot, points) == [RED, BLUE, YELLOW, GREEN], f"see {artifact}"
    page.close()


def test_the_page_fits_a_small_frame(browser: Any, themed_video: dict[str, Any]) -> None:
    """Responsive: in a 320x180 frame every control is on screen and the video fills the width."""
    page = browser.new_page(viewport={"width": 320, "height": 180})
    page.goto(themed_video["assets"]["player"])
    page.wait_for_selector(".vp-controls")
    for selector in (".vp-play", ".vp-progress", ".vp-time", ".vp-captions-menu-button", ".vp-fullscreen"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320, (selector, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= 180, (selector, box)
    assert page.locator("#vp-video").bounding_box() == {"x": 0, "y": 0, "width": 320, "height": 180}
    page.close()


class _SitePage(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site(themed_video: dict[str, Any]) -> Iterator[str]:
    """Another origin on loopback: a CMS page with the video's iframe snippet pasted in."""
    snippet = themed_video["assets"]["iframe"]
    page = f'<!doctype html><html><body><h1>Our blog</h1><div style="width:640px;height:360px">{snippet}</div>'
    handler = type("SitePage", (_SitePage,), {"body": (page + "</body></html>").encode()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/post"
    finally:
        server.shutdown()
        server.server_close()


def test_the_iframe_snippet_plays_inside_another_sites_page(browser: Any, site: str) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(site)
    frame = page.frame_locator("iframe")
    frame.locator(".vp-play").click()
    (player,) = [f for f in page.frames if "/embed/vod/" in f.url]
    player.wait_for_function("() => document.getElementById('vp-video').currentTime >= 2", timeout=60_000)
    assert player.evaluate("document.getElementById('vp-video').videoWidth") > 0
    page.close()


def test_oembed_describes_the_iframe(api: Api, themed_video: dict[str, Any]) -> None:
    player_url = themed_video["assets"]["player"]
    response = requests.get(f"{api.base_url}/oembed", params={"url": player_url}, timeout=15)
    assert response.status_code == 200 and response.json()["title"] == themed_video["title"]
    assert f'src="{player_url}"' in response.json()["html"]
