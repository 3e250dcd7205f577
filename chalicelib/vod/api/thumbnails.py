"""A video's thumbnail: upload, or pick a frame (api.video VideosApi)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel

from chalicelib.core.api.files import FILE_BODY, uploaded_file
from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import MEDIA_OBJECTS_WRITE, MEDIACONVERT_JOBS, MEDIACONVERT_PASS_ROLE
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.vod import wiring
from chalicelib.vod.api import presenters
from chalicelib.vod.domain.videos import Timecode

bp = Blueprint(__name__)


READ, WRITE = Permission.READ, Permission.WRITE


@endpoint(
    bp,
    "/videos/{videoId}/thumbnail",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(MEDIA_OBJECTS_WRITE,),
    content_types=FILE_BODY,
    response="Video",
    operation_id="POST_videos-videoId-thumbnail",
)
def upload_thumbnail(call: Call, videoId: str) -> Any:  # noqa: N803 - named as in api.video
    form = uploaded_file(call)
    return presenters.video(wiring.thumbnail_service().upload(call.actor, videoId, form.data))


class ThumbnailPick(BaseModel):
    timecode: Timecode


@endpoint(
    bp,
    "/videos/{videoId}/thumbnail",
    "PATCH",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(MEDIACONVERT_JOBS, MEDIACONVERT_PASS_ROLE),
    body=ThumbnailPick,
    response="Video",
    operation_id="PATCH_videos-videoId-thumbnail",
)
def pick_thumbnail(call: Call, videoId: str) -> Any:  # noqa: N803 - named as in api.video
    timecode = call.body(ThumbnailPick).timecode
    return presenters.video(*wiring.pipeline_service().pick_thumbnail(call.actor, videoId, timecode))
