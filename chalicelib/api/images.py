"""Uploaded images: a video's thumbnail (VideosApi.upload_thumbnail) and watermarks (WatermarksApi)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel

from chalicelib import wiring
from chalicelib.api import presenters, subresource_presenters
from chalicelib.api.auth import api_key_authorizer
from chalicelib.api.files import FILE_BODY, uploaded_file
from chalicelib.api.http import Call, Reply, endpoint
from chalicelib.domain.access import Permission
from chalicelib.domain.videos import Timecode
from chalicelib.domain.watermarks import WatermarkQuery
from chalicelib.permissions import MEDIA_OBJECTS_WRITE, MEDIACONVERT_JOBS, MEDIACONVERT_PASS_ROLE

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE


@endpoint(
    bp, "/videos/{videoId}/thumbnail", "POST", permission=WRITE, authorizer=api_key_authorizer,
    uses=(MEDIA_OBJECTS_WRITE,), content_types=FILE_BODY,
)  # fmt: skip
def upload_thumbnail(call: Call, videoId: str) -> Any:  # noqa: N803 - named as in api.video
    form = uploaded_file(call)
    return presenters.video(wiring.thumbnail_service().upload(call.actor, videoId, form.data))


class ThumbnailPick(BaseModel):
    timecode: Timecode


@endpoint(
    bp, "/videos/{videoId}/thumbnail", "PATCH", permission=WRITE, authorizer=api_key_authorizer,
    uses=(MEDIACONVERT_JOBS, MEDIACONVERT_PASS_ROLE),
)  # fmt: skip
def pick_thumbnail(call: Call, videoId: str) -> Any:  # noqa: N803 - named as in api.video
    timecode = call.body(ThumbnailPick).timecode
    return presenters.video(*wiring.pipeline_service().pick_thumbnail(call.actor, videoId, timecode))


@endpoint(bp, "/watermarks", "POST", permission=WRITE, authorizer=api_key_authorizer, uses=(MEDIA_OBJECTS_WRITE,),
          content_types=FILE_BODY)  # fmt: skip
def upload_watermark(call: Call) -> Any:
    form = uploaded_file(call)
    return subresource_presenters.watermark(wiring.watermark_service().upload(call.actor, form.data))


@endpoint(bp, "/watermarks", "GET", permission=READ, authorizer=api_key_authorizer)
def list_watermarks(call: Call) -> Any:
    data = {k: v for k in ("sortBy", "sortOrder") if (v := call.single(k)) is not None}
    page = wiring.watermark_service().list(call.actor, call.query(WatermarkQuery, data), call.page())
    return page.envelope(
        [subresource_presenters.watermark(w) for w in page.items], "/watermarks", call.filters("sortBy", "sortOrder")
    )


@endpoint(
    bp, "/watermarks/{watermarkId}", "DELETE", permission=WRITE, authorizer=api_key_authorizer, status=204,
    uses=(MEDIA_OBJECTS_WRITE,),
)  # fmt: skip
def delete_watermark(call: Call, watermarkId: str) -> Any:  # noqa: N803
    wiring.watermark_service().delete(call.actor, watermarkId)
    return Reply(status=204)
