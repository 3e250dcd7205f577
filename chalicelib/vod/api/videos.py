"""Videos, discarded videos and tags (api.video VideosApi and TagsApi)."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, StrictBool

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.clock import utc_now
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.core.permissions import SOURCES_SEND
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.vod import wiring
from chalicelib.vod.api import presenters
from chalicelib.vod.domain.videos import TagQuery, VideoCreation, VideoQuery, VideoUpdate
from chalicelib.vod.services.videos import Detail

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE
LIST_FILTERS = ("title", "description", "tags[]", "tags", "metadata", "liveStreamId", "sortBy", "sortOrder")
_METADATA_PARAM = re.compile(r"^metadata\[(.+)\]$")


def video_query(call: Call) -> VideoQuery:
    values = call.query_values()
    data: dict[str, Any] = {
        k: v[-1] for k, v in values.items() if k in ("title", "description", "liveStreamId", "sortBy", "sortOrder")
    }
    data["tags"] = values.get("tags[]", []) + values.get("tags", [])
    data["metadata"] = {m.group(1): v[-1] for k, v in values.items() if (m := _METADATA_PARAM.match(k))}
    return call.query(VideoQuery, data)


def video_update(call: Call) -> VideoUpdate:
    payload = call.body(VideoUpdate)
    nulls = payload.null_violations()
    if nulls:
        field_names = {name: info.alias or name for name, info in VideoUpdate.model_fields.items()}
        raise InvalidInput(
            [Problem("invalid-attribute", "This attribute must not be null.", field_names[n]) for n in nulls]
        )
    return payload


def shown(call: Call, detail: Detail) -> dict[str, Any]:
    """The video's wire shape; a private one's assets carry a new single-use token each time."""
    video, media = detail
    if video.public or video.discarded:
        return presenters.video(video, media)
    token = wiring.private_tokens().mint(video.project_id, video.video_id, utc_now())
    return presenters.video(video, media, private_token=token)


# `source` (a URL or a videoId) queues the ingest on the sources queue.
@endpoint(
    bp,
    "/videos",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=201,
    uses=(SOURCES_SEND,),
    body=VideoCreation,
    response="Video",
    operation_id="POST-video",
)
def create_video(call: Call) -> Any:
    return shown(call, (wiring.video_service().create(call.actor, call.body(VideoCreation)), None))


@endpoint(
    bp,
    "/videos",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    query=VideoQuery,
    response="Video",
    paged=True,
    operation_id="LIST-videos",
)
def list_videos(call: Call) -> Any:
    page = wiring.video_service().list(call.actor, video_query(call), call.page())
    return page.envelope([shown(call, detail) for detail in page.items], "/videos", call.filters(*LIST_FILTERS))


@endpoint(
    bp,
    "/videos/{videoId}",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="Video",
    operation_id="GET-video",
)
def get_video(call: Call, videoId: str) -> Any:  # noqa: N803 - path parameter named as in api.video
    return shown(call, wiring.video_service().detail(call.actor, videoId))


@endpoint(
    bp,
    "/videos/{videoId}/status",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="VideoStatus",
    operation_id="GET-video-status",
)
def get_video_status(call: Call, videoId: str) -> Any:  # noqa: N803
    return presenters.video_status(*wiring.upload_service().status(call.actor, videoId))


@endpoint(
    bp,
    "/videos/{videoId}",
    "PATCH",
    permission=WRITE,
    authorizer=api_key_authorizer,
    body=VideoUpdate,
    response="Video",
    operation_id="PATCH-video",
)
def update_video(call: Call, videoId: str) -> Any:  # noqa: N803
    return shown(call, wiring.video_service().update(call.actor, videoId, video_update(call)))


@endpoint(
    bp,
    "/videos/{videoId}",
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    operation_id="DELETE-video",
)
def delete_video(call: Call, videoId: str) -> Any:  # noqa: N803
    wiring.video_service().discard(call.actor, videoId)
    return Reply(status=204)


@endpoint(
    bp,
    "/discarded/videos",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    query=VideoQuery,
    response="Video",
    paged=True,
    operation_id="LIST-discarded-videos",
    tag="Videos",
)
def list_discarded_videos(call: Call) -> Any:
    page = wiring.video_service().list_discarded(call.actor, video_query(call), call.page())
    return page.envelope(
        [presenters.video(*detail) for detail in page.items], "/discarded/videos", call.filters(*LIST_FILTERS)
    )


@endpoint(
    bp,
    "/discarded/videos/{videoId}",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="Video",
    operation_id="GET-discarded-video",
    tag="Videos",
)
def get_discarded_video(call: Call, videoId: str) -> Any:  # noqa: N803
    return presenters.video(wiring.video_service().get_discarded(call.actor, videoId))


class DiscardedVideoUpdate(BaseModel):
    discarded: StrictBool


@endpoint(
    bp,
    "/discarded/videos/{videoId}",
    "PATCH",
    permission=WRITE,
    authorizer=api_key_authorizer,
    body=DiscardedVideoUpdate,
    response="Video",
    operation_id="PATCH-discarded-video",
    tag="Videos",
)
def restore_video(call: Call, videoId: str) -> Any:  # noqa: N803
    if call.body(DiscardedVideoUpdate).discarded:
        raise InvalidInput([Problem("invalid-attribute", "Value must be false.", "discarded")])
    return presenters.video(wiring.video_service().restore(call.actor, videoId))


@endpoint(
    bp,
    "/tags",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    query=TagQuery,
    response="Tag",
    paged=True,
    operation_id="LIST-tags",
)
def list_tags(call: Call) -> Any:
    values = call.query_values()
    query = call.query(TagQuery, {k: v[-1] for k, v in values.items() if k in ("value", "sortBy", "sortOrder")})
    page = wiring.video_service().tags(call.actor, query, call.page())
    return page.envelope(
        [presenters.tag(row) for row in page.items], "/tags", call.filters("value", "sortBy", "sortOrder")
    )
