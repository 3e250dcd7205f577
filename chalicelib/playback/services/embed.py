"""The embed page's data and oEmbed: public reads of a video with the theme of its player."""

from __future__ import annotations

from typing import Any

from chalicelib.core.domain.errors import NotFound
from chalicelib.playback.domain import embed
from chalicelib.playback.domain.embed import PageTheme, PublicVideo
from chalicelib.playback.ports import PlayerRepository, PublicVideos


class EmbedService:
    def __init__(
        self, videos: PublicVideos, players: PlayerRepository, media_base_url: str, player_base_url: str
    ) -> None:
        self.videos = videos
        self.players = players
        self.media_base_url = media_base_url.rstrip("/")
        self.player_base_url = player_base_url.rstrip("/")

    def video(self, video_id: str) -> PublicVideo:
        """The video a stranger may watch; anything else answers as unknown (404)."""
        video = self.videos.find(video_id)
        if video is None or not embed.viewable(video):
            raise NotFound(name="videoId")
        return video

    def page(self, video_id: str) -> dict[str, Any]:
        video = self.video(video_id)
        return embed.page_config(video, self._look(video), self.media_base_url)

    def player_url(self, video_id: str) -> str:
        return f"{self.player_base_url}/vod/{video_id}"

    def oembed(self, url: str, max_width: int | None, max_height: int | None) -> dict[str, Any]:
        video_id = embed.video_id_of(url, self.player_base_url)
        if video_id is None:
            raise NotFound(name="url", detail="The URL is not a player URL of this service.")
        video = self.video(video_id)
        poster = embed.page_config(video, PageTheme(), self.media_base_url)["poster"]
        size = embed.oembed_size(max_width, max_height)
        return embed.oembed(video, self.player_url(video_id), poster, size, self.player_base_url)

    def _look(self, video: PublicVideo) -> PageTheme:
        """The video's player's theme; the default one when it names none (or one since deleted)."""
        if video.player_id is None:
            return PageTheme()
        # Looked up in the video's own project: a player of another project is never applied.
        player = self.players.get(video.project_id, video.player_id)
        if player is None:
            return PageTheme()
        logo = player.logo
        return PageTheme(
            theme=player.theme,
            logo_url=f"{self.media_base_url}/{logo.key}" if logo else None,
            logo_link=logo.link if logo else None,
        )
