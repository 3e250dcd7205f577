"""A project's watermark images."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.core.domain import audit, images
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import NotFound
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.core.ports import MediaFiles
from chalicelib.vod.domain import watermarks
from chalicelib.vod.domain.watermarks import Watermark, WatermarkQuery
from chalicelib.vod.ports import WatermarkRepository
from chalicelib.vod.services.thumbnails import _snapshot


class WatermarkService:
    def __init__(self, repository: WatermarkRepository, objects: MediaFiles, clock: Callable[[], datetime]) -> None:
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

    def image_url(self, project_id: str, watermark_id: str) -> str | None:
        """The s3:// URL of a project's watermark image, for MediaConvert's ImageInserter."""
        watermark = self.repository.get(project_id, watermark_id)
        return None if watermark is None else f"{self.objects.url()}/{watermark.object_key}"
