"""A video's thumbnail: uploaded, or picked by timecode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.core.domain import audit, images
from chalicelib.core.domain.access import Actor
from chalicelib.core.ports import MediaFiles
from chalicelib.vod.domain import thumbnails
from chalicelib.vod.domain.thumbnails import Thumbnail
from chalicelib.vod.domain.videos import Video
from chalicelib.vod.domain.watermarks import Watermark
from chalicelib.vod.ports import ThumbnailChoice, ThumbnailRepository
from chalicelib.vod.services.videos import VideoService


class ThumbnailService:
    def __init__(
        self,
        repository: ThumbnailRepository,
        videos: VideoService,
        objects: MediaFiles,
        clock: Callable[[], datetime],
        media: ThumbnailChoice,
    ) -> None:
        self.repository = repository
        self.videos = videos
        self.objects = objects
        self.clock = clock
        self.media = media

    def upload(self, actor: Actor, video_id: str, data: bytes) -> Video:
        video = self.videos.get(actor, video_id)
        image = images.require_image(data, thumbnails.FORMATS, thumbnails.EXTENSIONS)
        previous = self.repository.get_thumbnail(actor.project_id, video_id)
        thumbnail = thumbnails.uploaded(actor.project_id, video_id, image, self.clock())
        self.objects.put(thumbnail.key, data, thumbnail.content_type)
        entry = audit.record(
            actor,
            "video.thumbnail.upload",
            "video",
            video_id,
            self.clock(),
            before=_snapshot(previous) if previous else None,
            after=_snapshot(thumbnail),
        )
        self.repository.save_thumbnail(thumbnail, entry)
        # The video's `assets.thumbnail` now names this file; an upload wins over the automatic frame.
        self.media.choose_thumbnail(
            actor.project_id, video_id, thumbnail.key.rsplit("/", 1)[-1], "upload", self.clock()
        )
        if previous is not None and previous.key != thumbnail.key:
            # A PNG replaced by a JPEG leaves thumbnail.png behind otherwise.
            self.objects.delete(previous.key)
        return video

    def get_thumbnail(self, actor: Actor, video_id: str) -> Thumbnail | None:
        return self.repository.get_thumbnail(actor.project_id, video_id)


def _snapshot(entity: Thumbnail | Watermark) -> dict[str, object]:
    return entity.model_dump(mode="json", exclude={"project_id"})
