"""The embed page's data and oEmbed: public reads of a video with the theme of its player."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from chalicelib.core.domain.errors import NotFound
from chalicelib.playback.domain import access, embed, geo, ivs_tokens, playback_keys, players
from chalicelib.playback.domain.access import Denial, SessionKey
from chalicelib.playback.domain.embed import PageTheme, PublicLiveStream, PublicVideo
from chalicelib.playback.domain.players import Player
from chalicelib.playback.ports import (
    DenialCounter,
    GeoPolicies,
    PlaybackKeys,
    PlayerRepository,
    PrivateTokens,
    PublicLiveStreams,
    PublicVideos,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Viewing:
    """A video a viewer may watch, and the playback session its media URLs carry (private videos)."""

    video: PublicVideo
    session: str | None = None


@dataclass(frozen=True)
class LiveViewing:
    """A live stream a viewer may watch, the HLS URL its page plays, and (a private stream) the
    playback session its files on the media domain (the thumbnail) are fetched through."""

    stream: PublicLiveStream
    hls: str
    private: bool = False
    session: str | None = None


class EmbedService:
    def __init__(
        self,
        videos: PublicVideos,
        players: PlayerRepository,
        media_base_url: str,
        player_base_url: str,
        private_tokens: PrivateTokens | None = None,
        denials: DenialCounter | None = None,
        session_keys: tuple[SessionKey, ...] | Callable[[], tuple[SessionKey, ...]] = (),
        clock: Callable[[], datetime] | None = None,
        playback_keys: PlaybackKeys | None = None,
        geo_policies: GeoPolicies | None = None,
        live_streams: PublicLiveStreams | None = None,
        live_playback_key: str | Callable[[], str] = "",
    ) -> None:
        self.videos = videos
        self.players = players
        self.media_base_url = media_base_url.rstrip("/")
        self.player_base_url = player_base_url.rstrip("/")
        self.private_tokens = private_tokens
        self.denials = denials
        # A fixed tuple, or where to read the current ones (a rotated secret).
        self._session_keys = session_keys
        self.clock = clock
        self.playback_keys = playback_keys
        self.geo_policies = geo_policies
        self.live_streams = live_streams
        # Signs IVS playback JWTs of private live streams (ES384 PEM), or where to read it (a
        # secret, on AWS); empty: they cannot play.
        self._live_playback_key = live_playback_key

    def view(
        self,
        video_id: str,
        token: str | None = None,
        session: str | None = None,
        origin: str | None = None,
        country: str | None = None,
    ) -> Viewing:
        """The video, for a viewer holding nothing, a private token (used up here), a playback JWT
        (checked against the embedding page's `origin`) or a playback session (`avh`). A public
        video ignores them: a video made public plays for old links too. A private one without
        any answers as unknown; with a bad one, 403 and the reason. The project's geo restriction
        applies to the viewer's `country` (None: unknown) once the video may be revealed, and
        before a private token is used up."""
        found = self.videos.find(video_id)
        if found is None or found.discarded:
            raise NotFound(name="videoId")
        if found.public:
            self._check_country(found, country)
            return Viewing(found)
        now = self._now()
        if session is not None:
            denial = access.check_session(session, video_id, now, self._keys())
            if denial is not None:
                self._refuse(found, denial, now)
            self._check_country(found, country)
            return Viewing(found, session)
        if token is None:
            self._refuse(found, Denial.NO_TOKEN, now)
        self._check_country(found, country)
        return self._exchange(found, token, origin, now)

    def _check_country(self, video: PublicVideo | PublicLiveStream, country: str | None) -> None:
        """The video's project's geo restriction (one read; none configured: no restriction)."""
        if self.geo_policies is None:
            return
        if not geo.allowed(self.geo_policies.get(video.project_id), country):
            self._refuse(video, Denial.GEO, self._now())

    # -- live streams ----------------------------------------------------------------------------

    def view_live(
        self, live_stream_id: str, token: str | None = None, origin: str | None = None, country: str | None = None
    ) -> LiveViewing:
        """A live stream's page: its channel's live HLS. A private stream plays for a private token
        (used up here) or a playback JWT (`sub` = the stream), as a private video does, through an
        IVS playback JWT on its channel's URL, and gets a playback session for its thumbnail on the
        media domain (as a private video's, `live/<id>/token/<session>/…`); without either it
        answers as unknown."""
        found = self.live_streams.find(live_stream_id) if self.live_streams else None
        if found is None:
            raise NotFound(name="liveStreamId")
        if found.public:
            self._check_country(found, country)
            return LiveViewing(found, found.hls)
        now = self._now()
        if token is None:
            self._refuse(found, Denial.NO_TOKEN, now)
        self._check_country(found, country)
        signing_key = self.live_playback_key()
        if not signing_key or not self.session_keys():
            self._refuse(found, Denial.MALFORMED, now)
        if not players.origin_allowed(self._player(found), origin):
            self._refuse(found, Denial.REFERRER, now)
        ttl = access.SESSION_TTL
        if playback_keys.looks_like_jwt(token):
            ttl = self._jwt_session_ttl(found, live_stream_id, token, origin, now)
        elif not access.is_private_token(token):
            self._refuse(found, Denial.MALFORMED, now)
        elif not self._consume(found.project_id, live_stream_id, token, now):
            self._refuse(found, Denial.USED, now)
        # The page's own origin fetches the HLS (hls.js inside the iframe), so any origin may.
        signed = ivs_tokens.ivs_token(found.channel_arn, signing_key, now)
        session = access.issue_session(live_stream_id, now, self.session_keys()[0], ttl)
        return LiveViewing(found, f"{found.hls}?token={signed}", private=True, session=session)

    def _consume(self, project_id: str, subject_id: str, token: str, now: datetime) -> bool:
        return self.private_tokens is not None and self.private_tokens.consume(project_id, subject_id, token, now)

    def live_page_of(self, viewing: LiveViewing) -> dict[str, Any]:
        poster = embed.live_thumbnail_url(viewing.stream, self.media_base_url, viewing.session)
        return embed.live_page_config(viewing.stream, self._look(viewing.stream), poster, viewing.hls)

    def live_thumbnail_url(self, viewing: LiveViewing) -> str:
        """The stream's uploaded thumbnail on the media domain, through the viewer's session when it
        has one; a stream without one answers as unknown."""
        url = embed.live_thumbnail_url(viewing.stream, self.media_base_url, viewing.session)
        if url is None:
            raise NotFound(name="liveStreamId", detail="The live stream has no thumbnail.")
        return url

    def live_player_url(self, live_stream_id: str) -> str:
        return f"{self.player_base_url}/live/{live_stream_id}"

    def _exchange(self, video: PublicVideo, token: str, origin: str | None, now: datetime) -> Viewing:
        """A private token (used up) or a playback JWT for a playback session."""
        if not self.session_keys():
            self._refuse(video, Denial.MALFORMED, now)
        # The player's allowed sites, before a private token is used up (Videoplane extension).
        if not players.origin_allowed(self._player(video), origin):
            self._refuse(video, Denial.REFERRER, now)
        if playback_keys.looks_like_jwt(token):
            return self._signed(video, token, origin, now)
        if not access.is_private_token(token):
            self._refuse(video, Denial.MALFORMED, now)
        if self.private_tokens is None or not self.private_tokens.consume(video.project_id, video.video_id, token, now):
            self._refuse(video, Denial.USED, now)
        return Viewing(video, access.issue_session(video.video_id, now, self.session_keys()[0]))

    def _signed(self, video: PublicVideo, token: str, origin: str | None, now: datetime) -> Viewing:
        ttl = self._jwt_session_ttl(video, video.video_id, token, origin, now)
        return Viewing(video, access.issue_session(video.video_id, now, self.session_keys()[0], ttl))

    def _jwt_session_ttl(
        self, subject: PublicVideo | PublicLiveStream, subject_id: str, token: str, origin: str | None, now: datetime
    ) -> timedelta:
        """How long the session a tenant's playback JWT is exchanged for lives; refuses a bad JWT."""
        keys = self.playback_keys.list_all(subject.project_id) if self.playback_keys else []
        verdict = playback_keys.verify(token, subject_id, keys, now, origin)
        if verdict.denial is not None or verdict.expires is None:
            self._refuse(subject, verdict.denial or Denial.MALFORMED, now)
        # The session ends with the JWT (never later than a private token's would).
        return min(access.SESSION_TTL, datetime.fromtimestamp(verdict.expires, now.tzinfo) - now)

    def page_of(self, viewing: Viewing) -> dict[str, Any]:
        return embed.page_config(viewing.video, self._look(viewing.video), self.media_base_url, viewing.session)

    def media_url(self, viewing: Viewing, file: str) -> str:
        """A file of the video on the media domain, through its session when it has one."""
        video_id = viewing.video.video_id
        token = f"/token/{viewing.session}" if viewing.session else ""
        return f"{self.media_base_url}/vod/{video_id}{token}/{file}"

    def _refuse(self, video: PublicVideo | PublicLiveStream, denial: Denial, now: datetime) -> NoReturn:
        # Counted per project, day and reason (the analytics context reads the counters).
        live = isinstance(video, PublicLiveStream)
        subject = video.live_stream_id if isinstance(video, PublicLiveStream) else video.video_id
        logger.info("playback denied", extra={"video_id": subject, "reason": denial.value})
        if self.denials is not None:
            self.denials.count(video.project_id, denial.value, now)
        if denial is Denial.NO_TOKEN:
            # A private video or stream is not revealed to a stranger.
            raise NotFound(name="liveStreamId" if live else "videoId")
        if denial is Denial.GEO:
            raise access.GeoBlocked(name="CloudFront-Viewer-Country", detail=access.DENIAL_DETAILS[denial])
        raise access.PlaybackDenied(name="token", detail=access.DENIAL_DETAILS[denial])

    def _keys(self) -> dict[str, bytes]:
        return {key.kid: key.secret for key in self.session_keys()}

    def session_keys(self) -> tuple[SessionKey, ...]:
        keys = self._session_keys
        return keys() if callable(keys) else keys

    def live_playback_key(self) -> str:
        key = self._live_playback_key
        return key() if callable(key) else key

    def _now(self) -> datetime:
        if self.clock is None:
            raise RuntimeError("EmbedService needs a clock for private videos")
        return self.clock()

    def video(self, video_id: str) -> PublicVideo:
        """The video a stranger may watch; anything else answers as unknown (404)."""
        video = self.videos.find(video_id)
        if video is None or not embed.viewable(video):
            raise NotFound(name="videoId")
        return video

    def page(self, video_id: str) -> dict[str, Any]:
        return self.page_of(Viewing(self.video(video_id)))

    def player_url(self, video_id: str) -> str:
        return f"{self.player_base_url}/vod/{video_id}"

    def oembed(
        self, url: str, max_width: int | None, max_height: int | None, country: str | None = None
    ) -> dict[str, Any]:
        video_id = embed.video_id_of(url, self.player_base_url)
        if video_id is None:
            raise NotFound(name="url", detail="The URL is not a player URL of this service.")
        video = self.video(video_id)
        self._check_country(video, country)
        poster = embed.page_config(video, PageTheme(), self.media_base_url)["poster"]
        size = embed.oembed_size(max_width, max_height)
        return embed.oembed(video, self.player_url(video_id), poster, size, self.player_base_url)

    def _player(self, video: PublicVideo | PublicLiveStream) -> Player | None:
        if video.player_id is None:
            return None
        # Looked up in the video's own project: a player of another project is never applied.
        return self.players.get(video.project_id, video.player_id)

    def _look(self, video: PublicVideo | PublicLiveStream) -> PageTheme:
        """The video's player's theme; the default one when it names none (or one since deleted)."""
        player = self._player(video)
        if player is None:
            return PageTheme()
        logo = player.logo
        return PageTheme(
            theme=player.theme,
            logo_url=f"{self.media_base_url}/{logo.key}" if logo else None,
            logo_link=logo.link if logo else None,
        )
