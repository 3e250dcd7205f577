"""Watermark images of a project (api.video WatermarksApi), placed on videos at encoding time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core import ids
from chalicelib.core.domain.images import ImageFormat, ImageInfo

WATERMARK_ID_PREFIX = "watermark_"
FORMATS = (ImageFormat.JPEG, ImageFormat.PNG)
EXTENSIONS = "jpeg, jpg, JPG, JPEG, png, PNG"


class Watermark(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    watermark_id: str
    created_at: datetime
    content_type: str
    extension: str
    # Pixel size of the image, so that encoding can place and scale it.
    width: int
    height: int
    size: int

    @property
    def object_key(self) -> str:
        return object_key(self.project_id, self.watermark_id, self.extension)


class WatermarkQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    sort_by: Literal["createdAt"] = Field(default="createdAt", alias="sortBy")
    sort_order: Literal["asc", "desc"] = Field(default="asc", alias="sortOrder")


def object_key(project_id: str, watermark_id: str, extension: str) -> str:
    """Watermarks belong to a project, not to a video, so their objects sit under the tenant."""
    return f"projects/{project_id}/watermarks/{watermark_id}.{extension}"


def new_watermark(project_id: str, image: ImageInfo, size: int, now: datetime) -> Watermark:
    return Watermark(
        project_id=project_id,
        watermark_id=ids.new_id(WATERMARK_ID_PREFIX),
        created_at=now,
        content_type=image.format.content_type,
        extension=image.format.extension,
        width=image.width,
        height=image.height,
        size=size,
    )


def select(watermarks: Sequence[Watermark], query: WatermarkQuery) -> list[Watermark]:
    ordered = sorted(watermarks, key=lambda w: (w.created_at, w.watermark_id))
    return ordered[::-1] if query.sort_order == "desc" else ordered
