"""The public embed page behind a video's `assets.player` and `assets.iframe`, its data as JSON,
its scripts, and oEmbed. No credentials: these answer anyone with the video's URL, and only for
what a viewer may see (domain/embed.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.errors import NotFound
from chalicelib.core.permissions import (
    CDN_ORIGIN_SECRET_READ,
    LIVE_PLAYBACK_KEY_READ,
    PLAYBACK_SESSION_KEYS_READ,
    TABLE_INDEX_READ,
    TABLE_READ,
    TABLE_WRITE,
)
from chalicelib.core.resources import CDN_ORIGIN_HEADER
from chalicelib.playback import wiring
from chalicelib.playback.api import page
from chalicelib.playback.domain import geo
from chalicelib.playback.domain.embed import style_variables
from chalicelib.playback.domain.playback_keys import origin_of
from chalicelib.playback.services.embed import LiveViewing, Viewing

bp = Blueprint(__name__)
ASSETS_DIR = Path(__file__).resolve().parent / "embed_assets"
# The files the page loads, by the name it asks for.
ASSETS = {
    "hls.min.js": "application/javascript; charset=utf-8",
    "player.js": "application/javascript; charset=utf-8",
    "player.css": "text/css; charset=utf-8",
}
# Assets change only with a deploy (hls.js with its vendored version).
ASSET_CACHE = {"Cache-Control": "public, max-age=86400"}
TAG = "Embed"
# No credentials, so none of the authenticated routes' access: the video's project is found through
# the index, then the video, its tracks and its player are read.
PUBLIC_READ = (TABLE_READ, TABLE_INDEX_READ)
# A private video's page uses up its token, counts refusals and signs or checks a session.
PLAYBACK = (*PUBLIC_READ, TABLE_WRITE, PLAYBACK_SESSION_KEYS_READ, CDN_ORIGIN_SECRET_READ)
# A private live stream's page, data, HLS and thumbnail sign an IVS playback JWT with the stack's key.
LIVE_PLAYBACK = (*PLAYBACK, LIVE_PLAYBACK_KEY_READ)
# A page or data read holding a playback session (or a token) is that viewer's: never cached.
PRIVATE_CACHE = {"Cache-Control": "private, no-store"}


class PlaybackQuery(BaseModel):
    """A private video's credentials: a private token (`token`, used up here) or a playback JWT
    (`token` too), or the playback session either was exchanged for (`avh`, api.video's name)."""

    token: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None
    avh: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None


class SessionQuery(BaseModel):
    """The playback session a private token was already exchanged for (api.video's `avh`)."""

    avh: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None


def viewing(call: Call, video_id: str) -> Viewing:
    data = {k: v for k in ("token", "avh") if (v := call.single(k)) is not None}
    query = call.query(PlaybackQuery, data)
    return wiring.embed_service().view(video_id, query.token, query.avh, embedding_origin(call), viewer_country(call))


def live_viewing(call: Call, live_stream_id: str) -> LiveViewing:
    token = call.query(PlaybackQuery, {k: v for k in ("token",) if (v := call.single(k)) is not None}).token
    return wiring.embed_service().view_live(live_stream_id, token, embedding_origin(call), viewer_country(call))


def viewer_country(call: Call) -> str | None:
    """The viewer's country as CloudFront tells it (AWS: only through the CDN, else unverified); on
    the devstack, as the client sends it."""
    headers = call.request.headers
    return wiring.viewer_countries().country(headers.get(geo.VIEWER_COUNTRY_HEADER), headers.get(CDN_ORIGIN_HEADER))


def embedding_origin(call: Call) -> str | None:
    """The embedding page's origin, for a JWT's `aud` and a player's allowed origins: the iframe's
    request carries it as Referer (a fetch, as Origin)."""
    return origin_of(call.request.headers.get("referer") or call.request.headers.get("origin"))


class OembedQuery(BaseModel):
    """oEmbed 1.0 request parameters (https://oembed.com, section 2.2); JSON only."""

    model_config = ConfigDict(populate_by_name=True)
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    max_width: int | None = Field(default=None, alias="maxwidth", ge=1, le=10_000)
    max_height: int | None = Field(default=None, alias="maxheight", ge=1, le=10_000)
    format: Literal["json"] = "json"


@endpoint(
    bp,
    "/embed/vod/{videoId}",
    "GET",
    permission=None,
    uses=PLAYBACK,
    query=PlaybackQuery,
    response_content_type=page.HTML,
    errors=(403,),
    tag=TAG,
)
def get_embed_page(call: Call, videoId: str) -> Any:  # noqa: N803 - path parameter named as in api.video
    """The embed page of a video: plays it with its player's theme"""
    service = wiring.embed_service()
    seen = viewing(call, videoId)
    config = service.page_of(seen)
    body = page.render(config, style_variables(config), service.player_url(videoId))
    headers = page.headers(service.media_base_url) | (PRIVATE_CACHE if seen.session else {})
    return Reply(body=body, content_type=page.HTML, headers=headers)


@endpoint(
    bp,
    "/embed/vod/{videoId}/data",
    "GET",
    permission=None,
    uses=PLAYBACK,
    query=PlaybackQuery,
    response="EmbedData",
    errors=(403,),
    tag=TAG,
)
def get_embed_data(call: Call, videoId: str) -> Any:  # noqa: N803
    """What a viewer may see of a video: title, poster, HLS, captions, chapters, theme"""
    seen = viewing(call, videoId)
    cache = PRIVATE_CACHE if seen.session else {"Cache-Control": "public, max-age=60"}
    return Reply(body=wiring.embed_service().page_of(seen), headers=cache)


@endpoint(
    bp,
    "/embed/live/{liveStreamId}",
    "GET",
    permission=None,
    uses=LIVE_PLAYBACK,
    query=PlaybackQuery,
    response_content_type=page.HTML,
    errors=(403,),
    tag=TAG,
)
def get_live_embed_page(call: Call, liveStreamId: str) -> Any:  # noqa: N803 - named as in api.video
    """The embed page of a live stream: plays its live HLS with its player's theme"""
    service = wiring.embed_service()
    seen = live_viewing(call, liveStreamId)
    config = service.live_page_of(seen)
    body = page.render(config, style_variables(config), service.live_player_url(liveStreamId))
    headers = page.headers(service.media_base_url, seen.hls) | (PRIVATE_CACHE if seen.private else {})
    return Reply(body=body, content_type=page.HTML, headers=headers)


@endpoint(
    bp,
    "/embed/live/{liveStreamId}/data",
    "GET",
    permission=None,
    uses=LIVE_PLAYBACK,
    query=PlaybackQuery,
    response="LiveEmbedData",
    errors=(403,),
    tag=TAG,
)
def get_live_embed_data(call: Call, liveStreamId: str) -> Any:  # noqa: N803
    """What a viewer may see of a live stream: name, poster, live HLS, theme"""
    service = wiring.embed_service()
    seen = live_viewing(call, liveStreamId)
    cache = PRIVATE_CACHE if seen.private else {"Cache-Control": "public, max-age=60"}
    return Reply(body=service.live_page_of(seen), headers=cache)


@endpoint(
    bp,
    "/embed/live/{liveStreamId}/token/{privateToken}/hls/manifest.m3u8",
    "GET",
    permission=None,
    uses=LIVE_PLAYBACK,
    status=302,
    errors=(403,),
    tag=TAG,
)
def get_private_live_manifest(call: Call, liveStreamId: str, privateToken: str) -> Any:  # noqa: N803
    """A private live stream's `assets.hls`: uses up the token, redirects to the channel's HLS with an IVS token"""
    seen = wiring.embed_service().view_live(liveStreamId, privateToken, embedding_origin(call), viewer_country(call))
    return Reply(status=302, headers={"Location": seen.hls, **PRIVATE_CACHE})


@endpoint(
    bp,
    "/embed/live/{liveStreamId}/token/{privateToken}/thumbnail.jpg",
    "GET",
    permission=None,
    uses=LIVE_PLAYBACK,
    status=302,
    errors=(403,),
    tag=TAG,
)
def get_private_live_thumbnail(call: Call, liveStreamId: str, privateToken: str) -> Any:  # noqa: N803
    """A private live stream's `assets.thumbnail`: uses up the token and redirects into a playback session"""
    service = wiring.embed_service()
    seen = service.view_live(liveStreamId, privateToken, embedding_origin(call), viewer_country(call))
    return Reply(status=302, headers={"Location": service.live_thumbnail_url(seen), **PRIVATE_CACHE})


@endpoint(
    bp,
    "/embed/vod/{videoId}/token/{privateToken}/session",
    "GET",
    permission=None,
    uses=PLAYBACK,
    response="PlaybackSession",
    errors=(403,),
    tag=TAG,
)
def get_playback_session(call: Call, videoId: str, privateToken: str) -> Any:  # noqa: N803
    """Exchanges a private video's token for a playback session (api.video's `session_token`)"""
    seen = wiring.embed_service().view(
        videoId, privateToken, origin=embedding_origin(call), country=viewer_country(call)
    )
    return Reply(body={"session_token": seen.session}, headers=PRIVATE_CACHE)


@endpoint(
    bp,
    "/embed/vod/{videoId}/token/{privateToken}/hls/manifest.m3u8",
    "GET",
    permission=None,
    uses=PLAYBACK,
    query=SessionQuery,
    status=302,
    errors=(403,),
    tag=TAG,
)
def get_private_manifest(call: Call, videoId: str, privateToken: str) -> Any:  # noqa: N803
    """A private video's `assets.hls`: uses up the token (or takes `avh`) and redirects into a playback session"""
    return private_redirect(call, videoId, privateToken, lambda seen: "hls/manifest.m3u8")


@endpoint(
    bp,
    "/embed/vod/{videoId}/token/{privateToken}/thumbnail.jpg",
    "GET",
    permission=None,
    uses=PLAYBACK,
    query=SessionQuery,
    status=302,
    errors=(403,),
    tag=TAG,
)
def get_private_thumbnail(call: Call, videoId: str, privateToken: str) -> Any:  # noqa: N803
    """A private video's `assets.thumbnail`: uses up the token (or takes `avh`) and redirects into a playback session"""
    return private_redirect(call, videoId, privateToken, lambda seen: seen.video.thumbnail_file)


@endpoint(
    bp,
    "/embed/vod/{videoId}/token/{privateToken}/mp4/source.mp4",
    "GET",
    permission=None,
    uses=PLAYBACK,
    query=SessionQuery,
    status=302,
    errors=(403,),
    tag=TAG,
)
def get_private_mp4(call: Call, videoId: str, privateToken: str) -> Any:  # noqa: N803
    """A private video's `assets.mp4`: uses up the token (or takes `avh`) and redirects into a playback session"""
    return private_redirect(call, videoId, privateToken, lambda seen: "mp4/source.mp4")


def private_redirect(call: Call, video_id: str, token: str, file_of: Callable[[Viewing], str | None]) -> Reply:
    """api.video's private asset URLs: the token is used up here, unless the caller already holds
    the session it was exchanged for (`?avh=`, as api.video's players pass it to later assets)."""
    data = {k: v for k in ("avh",) if (v := call.single(k)) is not None}
    avh = call.query(SessionQuery, data).avh
    service = wiring.embed_service()
    seen = service.view(video_id, None if avh else token, avh, embedding_origin(call), viewer_country(call))
    file = file_of(seen)
    if file is None:
        raise NotFound(name="videoId")
    return Reply(status=302, headers={"Location": service.media_url(seen, file), **PRIVATE_CACHE})


@endpoint(bp, "/embed/assets/{file}", "GET", permission=None, response_content_type="application/javascript", tag=TAG)
def get_embed_asset(call: Call, file: str) -> Any:
    """The scripts and styles of the embed page (hls.js included)"""
    content_type = ASSETS.get(file)
    if content_type is None:
        raise NotFound(name="file", detail="No such file.")
    return Reply(body=(ASSETS_DIR / file).read_text(encoding="utf-8"), content_type=content_type, headers=ASSET_CACHE)


@endpoint(
    bp,
    "/oembed",
    "GET",
    permission=None,
    uses=(*PUBLIC_READ, CDN_ORIGIN_SECRET_READ),
    query=OembedQuery,
    response="Oembed",
    errors=(403, 404),
    tag=TAG,
)
def get_oembed(call: Call) -> Any:
    """oEmbed for a player URL, so CMSs can embed a video"""
    data = {k: v for k in ("url", "maxwidth", "maxheight", "format") if (v := call.single(k)) is not None}
    query = call.query(OembedQuery, data)
    return wiring.embed_service().oembed(query.url, query.max_width, query.max_height, viewer_country(call))
