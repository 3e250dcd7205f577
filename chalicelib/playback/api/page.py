"""The embed page's HTML and its response headers. The per-video data travels as JSON inside the
page (no second request before playback starts); player.js builds the controls from it."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote, urlsplit

from chalicelib.playback.domain.embed import script_json

HTML = "text/html; charset=utf-8"
# A player's change shows on the CDN within a minute (api.video: up to 10).
PAGE_CACHE_SECONDS = 60

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="strict-origin-when-cross-origin">
<title>{title}</title>
<link rel="alternate" type="application/json+oembed" href="{oembed}" title="{title}">
<link rel="stylesheet" href="../assets/player.css">
<style>:root{{{variables}}}</style>
</head>
<body>
<div id="vp-player" class="vp">
<video id="vp-video" playsinline preload="metadata" crossorigin="anonymous"></video>
</div>
<script type="application/json" id="vp-config">{config}</script>
<script src="../assets/hls.min.js"></script>
<script src="../assets/player.js"></script>
<script src="../analytics.js" defer></script>
</body>
</html>
"""


# Relative to the page (/embed/vod/{videoId}): the same behind an API stage or the CDN's /oembed.
OEMBED_FROM_PAGE = "../../oembed"


def render(config: dict[str, Any], variables: str, player_url: str) -> str:
    oembed = f"{OEMBED_FROM_PAGE}?url={quote(player_url, safe='')}"
    return _PAGE.format(
        title=html.escape(config["title"]),
        oembed=html.escape(oembed, quote=True),
        variables=variables,
        config=script_json(config),
    )


def headers(media_base_url: str, live_hls: str | None = None) -> dict[str, str]:
    """Embeddable anywhere (frame-ancestors *); scripts only from this origin; media, posters,
    logos and tracks only from the media CDN (hls.js feeds the video through blob: URLs), and a
    live stream's HLS from its channel's playback origin (IVS's CDN on AWS)."""
    origins = {_origin(media_base_url), *([_origin(live_hls)] if live_hls else [])}
    media = " ".join(sorted(origins))
    policy = "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {media} data:",
            f"media-src {media} blob:",
            f"connect-src 'self' {media}",
            "worker-src blob:",
            "frame-ancestors *",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    return {"Content-Security-Policy": policy, "Cache-Control": f"public, max-age={PAGE_CACHE_SECONDS}"}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
