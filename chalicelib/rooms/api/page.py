"""`GET /join`: a page that joins a room with the join token in its URL fragment (`/join#token=…`,
never sent to a server), publishes the camera over WHIP and shows the other publishers (the
devstack's WHEP-style subscribe). Plain scripts from this origin, so it works offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalice import Blueprint

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.errors import NotFound
from chalicelib.rooms import wiring

bp = Blueprint(__name__)
ASSETS_DIR = Path(__file__).resolve().parent / "join_assets"
ASSETS = {"join.js": "application/javascript; charset=utf-8", "join.css": "text/css; charset=utf-8"}
ASSET_CACHE = {"Cache-Control": "public, max-age=300"}
HTML = "text/html; charset=utf-8"
TAG = "rooms"
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Videoplane room</title>
<link rel="stylesheet" href="join/join.css">
</head>
<body>
<header id="status">Joining…</header>
<main>
<figure><video id="local" autoplay playsinline muted></video><figcaption>You</figcaption></figure>
<div id="remotes"></div>
</main>
<script src="join/join.js"></script>
</body>
</html>
"""


def headers(whep_url: str) -> dict[str, str]:
    """Scripts from this origin only; the page calls the join endpoint here, WHIP/WHEP on the media
    plane (IVS over https, the devstack's stage plane on its loopback origin)."""
    parts = urlsplit(whep_url)
    plane = f" {parts.scheme}://{parts.netloc}" if parts.netloc else ""
    policy = "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src 'self' https:{plane}",
            "media-src 'self' blob: mediastream:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    return {"Content-Security-Policy": policy, "Permissions-Policy": "camera=(self), microphone=(self)"}


@endpoint(bp, "/join", "GET", permission=None, response_content_type=HTML, tag=TAG)
def get_join_page(call: Call) -> Any:
    """A page that joins a room with the join token in its fragment (`/join#token=…`) and shows the others"""
    return Reply(body=PAGE, content_type=HTML, headers=headers(wiring.settings().rooms_whep_url))


@endpoint(bp, "/join/{file}", "GET", permission=None, response_content_type="application/javascript", tag=TAG)
def get_join_asset(call: Call, file: str) -> Any:
    """The script and styles of the join page"""
    content_type = ASSETS.get(file)
    if content_type is None:
        raise NotFound(name="file", detail="No such file.")
    return Reply(body=(ASSETS_DIR / file).read_text(encoding="utf-8"), content_type=content_type, headers=ASSET_CACHE)
