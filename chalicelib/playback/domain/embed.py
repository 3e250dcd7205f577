"""What a viewer of the embed page may see of a video, and the page's configuration: pure rules.

The page is public: its URL names only the video. So everything here is chosen for a stranger with
that URL: title, poster, the HLS manifest, captions and chapters, and the theme of the video's
player. Never the project, the source, metadata or tags; nothing at all of a video that is
discarded, nor of a private one to a viewer without a token (domain/access.py).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from chalicelib.playback.domain.players import COLOUR_PATTERN, Theme

VIDEO_ID = re.compile(r"^vi[0-9A-Za-z]{22}$")
LIVE_STREAM_ID = re.compile(r"^li[0-9A-Za-z]{22}$")
_COLOUR = re.compile(COLOUR_PATTERN)
# oEmbed sizes when the consumer gives no bounds: 16:9 at a common embed width.
DEFAULT_WIDTH, DEFAULT_HEIGHT = 640, 360


class TextTrack(BaseModel):
    model_config = ConfigDict(frozen=True)
    language: str
    default: bool = False


class PublicVideo(BaseModel):
    """A video as the VOD context stores it, reduced to what the page needs to decide and show.
    `project_id` finds the video's player; it is never shown."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    video_id: str
    title: str
    public: bool
    discarded: bool
    playable: bool
    player_id: str | None = None
    thumbnail_file: str | None = None
    captions: tuple[TextTrack, ...] = ()
    chapters: tuple[TextTrack, ...] = ()


class PublicLiveStream(BaseModel):
    """A live stream as the live context stores it, reduced to what its embed page needs.
    `hls` is the channel's playback URL (IVS's CDN on AWS, the media server locally)."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    live_stream_id: str
    name: str
    public: bool
    broadcasting: bool
    hls: str
    channel_arn: str
    player_id: str | None = None
    thumbnail_key: str | None = None


class PageTheme(BaseModel):
    """The player's look, as the page applies it."""

    model_config = ConfigDict(frozen=True)
    theme: Theme = Theme()
    logo_url: str | None = None
    logo_link: str | None = None


def viewable(video: PublicVideo | None) -> bool:
    """Public, not discarded: what anyone may see without a token (oEmbed, the page without one)."""
    return video is not None and video.public and not video.discarded


def page_config(video: PublicVideo, look: PageTheme, media_base_url: str, session: str | None = None) -> dict[str, Any]:
    """The per-video data of the embed page (also served as JSON for custom players). A private
    video's media URLs carry its playback `session` in their path (domain/access.py)."""
    base = f"{media_base_url.rstrip('/')}/vod/{video.video_id}" + (f"/token/{session}" if session else "")
    return {
        "videoId": video.video_id,
        "title": video.title,
        "playable": video.playable,
        "hls": f"{base}/hls/manifest.m3u8",
        "poster": f"{base}/{video.thumbnail_file}" if video.thumbnail_file else None,
        "captions": [
            {
                "srclang": c.language,
                "label": c.language,
                "src": f"{base}/captions/{c.language}.vtt",
                "default": c.default,
            }
            for c in video.captions
        ],
        "chapters": [{"language": c.language, "src": f"{base}/chapters/{c.language}.vtt"} for c in video.chapters],
        **look_config(look),
    }


def live_thumbnail_url(stream: PublicLiveStream, media_base_url: str, session: str | None = None) -> str | None:
    """The uploaded thumbnail (`live/<liveStreamId>/thumbnail-….jpg`) on the media domain; with a
    playback `session`, through it (`live/<id>/token/<session>/thumbnail-….jpg`: a private stream's
    files are refused without one, domain/access.py)."""
    if not stream.thumbnail_key:
        return None
    base = media_base_url.rstrip("/")
    if session is None:
        return f"{base}/{stream.thumbnail_key}"
    folder = f"live/{stream.live_stream_id}/"
    return f"{base}/{folder}token/{session}/{stream.thumbnail_key.removeprefix(folder)}"


def live_page_config(stream: PublicLiveStream, look: PageTheme, poster: str | None, hls: str) -> dict[str, Any]:
    """A live stream's embed page data: its live HLS (`hls`: with the viewer's playback token when
    the stream is private), its thumbnail as `poster` (live_thumbnail_url), its player's theme.
    `live` tells the page to play from the live edge."""
    return {
        "liveStreamId": stream.live_stream_id,
        "title": stream.name,
        "live": True,
        "playable": True,
        "broadcasting": stream.broadcasting,
        "hls": hls,
        "poster": poster,
        "captions": [],
        "chapters": [],
        **look_config(look),
    }


def look_config(look: PageTheme) -> dict[str, Any]:
    """The page's `theme` (switches and checked colours) and `logo`."""
    theme = look.theme
    return {
        "theme": {
            **{k: v for k, v in theme.model_dump(mode="json", by_alias=True).items() if isinstance(v, bool)},
            **colours(theme),
        },
        "logo": {"src": look.logo_url, "link": look.logo_link} if look.logo_url else None,
    }


def colours(theme: Theme) -> dict[str, str]:
    """The theme's colours by API name, each re-checked against the colour grammar (a stored value
    that does not match falls back to the default) since they are written into a style sheet."""
    defaults = Theme()
    checked: dict[str, str] = {}
    for name, info in Theme.model_fields.items():
        value = getattr(theme, name)
        if isinstance(value, str):
            checked[info.alias or name] = value if _COLOUR.fullmatch(value) else getattr(defaults, name)
    return checked


def style_variables(config: dict[str, Any]) -> str:
    """The CSS custom properties the page's style sheet reads (`--vp-trackPlayed:...;`), from a
    page configuration's checked colours."""
    theme = config["theme"]
    return "".join(f"--vp-{name}:{value};" for name, value in theme.items() if isinstance(value, str))


def script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element: no `</script>`, no HTML comment opener."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def iframe(player_url: str, width: str = "100%", height: str = "100%") -> str:
    """api.video's iframe snippet."""
    src = html.escape(player_url, quote=True)
    return (
        f'<iframe src="{src}" width="{width}" height="{height}" frameborder="0" scrolling="no" allowfullscreen="">'
        "</iframe>"
    )


def video_id_of(url: str, player_base_url: str) -> str | None:
    """The video an oEmbed `url` names, when it is one of this deployment's player URLs
    (`<player base>/vod/<videoId>`, with an optional query or fragment); else None."""
    base = urlsplit(player_base_url.rstrip("/"))
    try:
        given = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if (given.scheme, given.netloc) != (base.scheme, base.netloc):
        return None
    prefix = f"{base.path}/vod/"
    if not given.path.startswith(prefix):
        return None
    candidate = given.path[len(prefix) :]
    return candidate if VIDEO_ID.fullmatch(candidate) else None


def oembed_size(max_width: int | None, max_height: int | None) -> tuple[int, int]:
    """16:9, as large as the default and no larger than the consumer's bounds."""
    width, height = DEFAULT_WIDTH, DEFAULT_HEIGHT
    if max_width is not None and max_width < width:
        width, height = max_width, max_width * 9 // 16
    if max_height is not None and max_height < height:
        width, height = max_height * 16 // 9, max_height
    return max(width, 1), max(height, 1)


def oembed(
    video: PublicVideo, player_url: str, poster: str | None, size: tuple[int, int], provider_url: str
) -> dict[str, Any]:
    """An oEmbed 1.0 `video` response (https://oembed.com, section 2.3.4.3)."""
    width, height = size
    body: dict[str, Any] = {
        "version": "1.0",
        "type": "video",
        "provider_name": "Videoplane",
        "provider_url": provider_url,
        "title": video.title,
        "html": iframe(player_url, str(width), str(height)),
        "width": width,
        "height": height,
    }
    if poster:
        body["thumbnail_url"] = poster
    return body
