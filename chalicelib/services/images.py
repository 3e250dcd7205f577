"""Uploaded images: a video's thumbnail and a project's watermarks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.domain import audit, images, thumbnails, watermarks
from chalicelib.domain.access import Actor
from chalicelib.domain.errors import NotFound
from chalicelib.domain.pagination import Page, PageRequest, paginate
from chalicelib.domain.thumbnails import Thumbnail
from chalicelib.domain.videos import Video
from chalicelib.domain.watermarks import Watermark, WatermarkQuery
from chalicelib.ports import ObjectStore, ThumbnailRepository, WatermarkRepository
from chalicelib.services.videos import VideoService


class ThumbnailService:
    def __init__(
        self,
        repository: ThumbnailRepository,
        videos: VideoService,
        objects: ObjectStore,
        clock: Callable[[], datetime],
        chosen: Callable[[str, str, str], None] = lambda project_id, video_id, key: None,
    ) -> None:
        self.repository = repository
        self.videos = videos
        self.objects = objects
        self.clock = clock
        # Tells the video's media state which file its `assets.thumbnail` is now.
        self.chosen = chosen

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
        self.chosen(actor.project_id, video_id, thumbnail.key)
        if previous is not None and previous.key != thumbnail.key:
            # A PNG replaced by a JPEG leaves thumbnail.png behind otherwise.
            self.objects.delete(previous.key)
        return video

    def get_thumbnail(self, actor: Actor, video_id: str) -> Thumbnail | None:
        return self.repository.get_thumbnail(actor.project_id, video_id)


class WatermarkService:
    def __init__(self, repository: WatermarkRepository, objects: ObjectStore, clock: Callable[[], datetime]) -> None:
        self.repository = repository
        self.objects = objects
        self.clock = clock

    def upload(self, actor: Actor, data: bytes) -> Watermark:
        image = images.require_image(data, watermarks.FORMATS, watermarks.EXTENSIONS)
        watermark = watermarks.new_watermark(actor.project_id, image, len(data), self.clock())
        self.objects.put(watermark.object_key, data, watermark.content_type)
        entry = audit.record(
            actor, "watermark.create", "watermark", watermark.watermark_id, self.clock(), after=_snapshot(watermark)
        )
        self.repository.create(watermark, entry)
        return watermark

    def list(self, actor: Actor, query: WatermarkQuery, page: PageRequest) -> Page[Watermark]:
        return paginate(watermarks.select(self.repository.list_all(actor.project_id), query), page)

    def delete(self, actor: Actor, watermark_id: str) -> None:
        watermark = self.repository.get(actor.project_id, watermark_id)
        if watermark is None:
            raise NotFound(name="watermarkId")
        entry = audit.record(
            actor, "watermark.delete", "watermark", watermark_id, self.clock(), before=_snapshot(watermark)
        )
        self.repository.delete(watermark, entry)
        self.objects.delete(watermark.object_key)


def _snapshot(entity: Thumbnail | Watermark) -> dict[str, object]:
    return entity.model_dump(mode="json", exclude={"project_id"})
