"""A video's thumbnail image: uploaded, picked from a frame, or made by encoding."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from chalicelib.core.domain.images import ImageFormat, ImageInfo

FORMATS = (ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP)
EXTENSIONS = "jpeg, jpg, JPG, JPEG, png, PNG, webp"
ThumbnailSource = Literal["upload", "pick", "auto"]


class Thumbnail(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    video_id: str
    key: str
    content_type: str
    source: ThumbnailSource
    width: int
    height: int
    updated_at: datetime


def object_key(video_id: str, image_format: ImageFormat) -> str:
    """Named by its real format: only a JPEG may be served as `thumbnail.jpg`."""
    return f"vod/{video_id}/thumbnail.{image_format.extension}"


def uploaded(project_id: str, video_id: str, image: ImageInfo, now: datetime) -> Thumbnail:
    return Thumbnail(
        project_id=project_id,
        video_id=video_id,
        key=object_key(video_id, image.format),
        content_type=image.format.content_type,
        source="upload",
        width=image.width,
        height=image.height,
        updated_at=now,
    )
