"""Captions and chapters of a video (api.video CaptionsApi and ChaptersApi)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core import wiring as core_wiring
from chalicelib.core.api.files import FILE_BODY, uploaded_file
from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import MEDIA_OBJECTS_WRITE
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.vod import wiring
from chalicelib.vod.api import subresource_presenters as presenters
from chalicelib.vod.domain.tracks import CaptionUpdate

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE
CAPTION = "/videos/{videoId}/captions/{language}"
CHAPTER = "/videos/{videoId}/chapters/{language}"


@endpoint(
    bp,
    CAPTION,
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(MEDIA_OBJECTS_WRITE,),
    content_types=FILE_BODY,
    response="Caption",
    operation_id="POST_videos-videoId-captions-language",
)
def upload_caption(call: Call, videoId: str, language: str) -> Any:  # noqa: N803 - named as in api.video
    form = uploaded_file(call)
    track = wiring.caption_service().upload(call.actor, videoId, language, form.filename, form.data)
    return presenters.caption(track, core_wiring.media_base_url())


@endpoint(
    bp,
    CAPTION,
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="Caption",
    operation_id="GET_videos-videoId-captions-language",
)
def get_caption(call: Call, videoId: str, language: str) -> Any:  # noqa: N803
    return presenters.caption(wiring.caption_service().get(call.actor, videoId, language), core_wiring.media_base_url())


@endpoint(
    bp,
    CAPTION,
    "PATCH",
    permission=WRITE,
    authorizer=api_key_authorizer,
    body=CaptionUpdate,
    response="Caption",
    operation_id="PATCH_videos-videoId-captions-language",
)
def update_caption(call: Call, videoId: str, language: str) -> Any:  # noqa: N803
    default = call.body(CaptionUpdate).default
    track = wiring.caption_service().set_default(call.actor, videoId, language, default)
    return presenters.caption(track, core_wiring.media_base_url())


@endpoint(
    bp,
    CAPTION,
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    uses=(MEDIA_OBJECTS_WRITE,),
    operation_id="DELETE_videos-videoId-captions-language",
)
def delete_caption(call: Call, videoId: str, language: str) -> Any:  # noqa: N803
    wiring.caption_service().delete(call.actor, videoId, language)
    return Reply(status=204)


@endpoint(
    bp,
    "/videos/{videoId}/captions",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="Caption",
    paged=True,
    operation_id="GET_videos-videoId-captions",
)
def list_captions(call: Call, videoId: str) -> Any:  # noqa: N803
    page = wiring.caption_service().list(call.actor, videoId, call.page())
    base = core_wiring.media_base_url()
    return page.envelope([presenters.caption(t, base) for t in page.items], f"/videos/{videoId}/captions", [])


@endpoint(
    bp,
    CHAPTER,
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(MEDIA_OBJECTS_WRITE,),
    content_types=FILE_BODY,
    response="Chapter",
    operation_id="POST_videos-videoId-chapters-language",
)
def upload_chapter(call: Call, videoId: str, language: str) -> Any:  # noqa: N803
    form = uploaded_file(call)
    track = wiring.chapter_service().upload(call.actor, videoId, language, form.filename, form.data)
    return presenters.chapter(track, core_wiring.media_base_url())


@endpoint(
    bp,
    CHAPTER,
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="Chapter",
    operation_id="GET_videos-videoId-chapters-language",
)
def get_chapter(call: Call, videoId: str, language: str) -> Any:  # noqa: N803
    return presenters.chapter(wiring.chapter_service().get(call.actor, videoId, language), core_wiring.media_base_url())


@endpoint(
    bp,
    CHAPTER,
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    uses=(MEDIA_OBJECTS_WRITE,),
    operation_id="DELETE_videos-videoId-chapters-language",
)
def delete_chapter(call: Call, videoId: str, language: str) -> Any:  # noqa: N803
    wiring.chapter_service().delete(call.actor, videoId, language)
    return Reply(status=204)


@endpoint(
    bp,
    "/videos/{videoId}/chapters",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="Chapter",
    paged=True,
    operation_id="GET_videos-videoId-chapters",
)
def list_chapters(call: Call, videoId: str) -> Any:  # noqa: N803
    page = wiring.chapter_service().list(call.actor, videoId, call.page())
    base = core_wiring.media_base_url()
    return page.envelope([presenters.chapter(t, base) for t in page.items], f"/videos/{videoId}/chapters", [])
