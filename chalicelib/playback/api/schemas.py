"""Wire shapes of the playback responses, for `/openapi.json` only (the presenters build the
bodies), field for field as the api.video SDK 1.4.7 models read them, plus Videoplane's own."""

# ruff: noqa: N815 - the attributes are the wire names

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PlayerThemeAssets(BaseModel):
    logo: str | None = Field(default=None, description="URL of the logo image")
    link: str | None = Field(default=None, description="Where a click on the logo leads")


class PlayerTheme(BaseModel):
    playerId: str
    name: str | None = None
    text: str
    link: str
    linkHover: str
    linkActive: str
    trackPlayed: str
    trackUnplayed: str
    trackBackground: str
    backgroundTop: str
    backgroundBottom: str
    backgroundText: str
    enableApi: bool
    enableControls: bool
    forceAutoplay: bool
    hideTitle: bool
    forceLoop: bool
    createdAt: datetime
    updatedAt: datetime
    assets: PlayerThemeAssets


class EmbedCaption(BaseModel):
    srclang: str
    label: str
    src: str = Field(description="WebVTT file on the media CDN")
    default: bool


class EmbedChapter(BaseModel):
    language: str
    src: str = Field(description="WebVTT file on the media CDN")


class EmbedLogo(BaseModel):
    src: str
    link: str | None = None


class EmbedData(BaseModel):
    """Videoplane: what a viewer may see of a public video, as the embed page uses it."""

    videoId: str
    title: str
    playable: bool = Field(description="False until the first rendition can be played")
    hls: str
    poster: str | None = None
    captions: list[EmbedCaption]
    chapters: list[EmbedChapter]
    theme: dict[str, str | bool] = Field(description="The player's colours and switches, by api.video's names")
    logo: EmbedLogo | None = None


class LiveEmbedData(BaseModel):
    """Videoplane: what a viewer may see of a live stream, as the embed page uses it."""

    liveStreamId: str
    title: str
    live: bool = Field(description="Always true: the page plays from the live edge")
    playable: bool
    broadcasting: bool
    hls: str = Field(description="The live HLS (with the viewer's playback token when the stream is private)")
    poster: str | None = None
    captions: list[EmbedCaption]
    chapters: list[EmbedChapter]
    theme: dict[str, str | bool] = Field(description="The player's colours and switches, by api.video's names")
    logo: EmbedLogo | None = None


class Oembed(BaseModel):
    """An oEmbed 1.0 `video` response."""

    version: str
    type: str
    provider_name: str
    provider_url: str
    title: str
    html: str
    width: int
    height: int
    thumbnail_url: str | None = None


class PlaybackSession(BaseModel):
    """api.video's private video session: pass it as `?avh=` to the page or its data, or use the
    media URLs the page gives (they carry it in their path). `null` when the video is public: it
    needs no session, and its token is not used up."""

    session_token: str | None


class PlaybackKey(BaseModel):
    """Videoplane: a playback signing key; `publicKey` is its JWK (`kid` = `playbackKeyId`)."""

    playbackKeyId: str
    createdAt: str
    publicKey: dict[str, str]


class PlaybackKeyCreated(PlaybackKey):
    privateKey: str = Field(description="PKCS#8 PEM of the ES256 private key; shown only in this response")


class PlaybackKeyList(BaseModel):
    data: list[PlaybackKey]


class Jwks(BaseModel):
    keys: list[dict[str, str]]


class PlayerAllowedOrigins(BaseModel):
    """Videoplane: the sites (origins) that may open the player's private videos; empty: any."""

    origins: list[str]


class PlaybackGeo(BaseModel):
    """Videoplane: the project's geo restriction; `allow` or `deny` the listed countries, or `off`."""

    mode: str = Field(description="allow | deny | off")
    countries: list[str] = Field(description="ISO 3166-1 alpha-2 codes, sorted")
