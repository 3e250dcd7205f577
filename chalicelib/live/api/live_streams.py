"""Live streams (api.video LiveStreamsApi), and Videoplane's stream-key reset."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.files import FILE_BODY, uploaded_file
from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.core.permissions import (
    IVS_CHANNELS_CREATE,
    IVS_CHANNELS_UPDATE,
    IVS_STREAM_KEYS_RESET,
    IVS_STREAMS,
    MEDIA_OBJECTS_WRITE,
    RESTREAM_RELAYS,
    RESTREAM_RELAYS_PASS_ROLE,
)
from chalicelib.live import wiring
from chalicelib.live.api import presenters
from chalicelib.live.domain.live_streams import LiveStreamCreation, LiveStreamQuery, LiveStreamUpdate
from chalicelib.platform.api.authorizer import api_key_authorizer

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE
LIST_FILTERS = ("name", "streamKey", "sortBy", "sortOrder")


def live_stream_update(call: Call) -> LiveStreamUpdate:
    payload = call.body(LiveStreamUpdate)
    nulls = payload.null_violations()
    if nulls:
        names = {name: info.alias or name for name, info in LiveStreamUpdate.model_fields.items()}
        raise InvalidInput([Problem("invalid-attribute", "This value should not be null.", names[n]) for n in nulls])
    return payload


@endpoint(
    bp,
    "/live-streams",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=200,  # as api.video
    uses=(IVS_CHANNELS_CREATE,),
    body=LiveStreamCreation,
    response="LiveStream",
    operation_id="POST_live-streams",
)
def create_live_stream(call: Call) -> Any:
    return presenters.shown(wiring.live_stream_service().create(call.actor, call.body(LiveStreamCreation)))


@endpoint(
    bp,
    "/live-streams",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    query=LiveStreamQuery,
    response="LiveStream",
    paged=True,
    operation_id="GET_live-streams",
)
def list_live_streams(call: Call) -> Any:
    query = call.query(LiveStreamQuery, {k: v[-1] for k, v in call.query_values().items() if k in LIST_FILTERS})
    page = wiring.live_stream_service().list(call.actor, query, call.page())
    return page.envelope([presenters.shown(s) for s in page.items], "/live-streams", call.filters(*LIST_FILTERS))


@endpoint(
    bp,
    "/live-streams/{liveStreamId}",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="LiveStream",
    operation_id="GET_live-streams-liveStreamId",
)
def get_live_stream(call: Call, liveStreamId: str) -> Any:  # noqa: N803 - path parameter named as in api.video
    return presenters.shown(wiring.live_stream_service().get(call.actor, liveStreamId))


@endpoint(
    bp,
    "/live-streams/{liveStreamId}",
    "PATCH",
    permission=WRITE,
    authorizer=api_key_authorizer,
    # `public` flips the channel's authorization; restreams changed while broadcasting start and
    # stop their targets' relays.
    uses=(IVS_CHANNELS_UPDATE, RESTREAM_RELAYS, RESTREAM_RELAYS_PASS_ROLE),
    body=LiveStreamUpdate,
    response="LiveStream",
    operation_id="PATCH_live-streams-liveStreamId",
)
def update_live_stream(call: Call, liveStreamId: str) -> Any:  # noqa: N803
    return presenters.shown(wiring.live_stream_service().update(call.actor, liveStreamId, live_stream_update(call)))


@endpoint(
    bp,
    "/live-streams/{liveStreamId}",
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    operation_id="DELETE_live-streams-liveStreamId",
)
def delete_live_stream(call: Call, liveStreamId: str) -> Any:  # noqa: N803
    wiring.live_stream_service().delete(call.actor, liveStreamId)
    return Reply(status=204)


@endpoint(
    bp,
    "/live-streams/{liveStreamId}/complete",
    "PUT",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=202,
    uses=(IVS_STREAMS, RESTREAM_RELAYS, RESTREAM_RELAYS_PASS_ROLE),
    operation_id="PUT_live-streams-liveStreamId-complete",
)
def complete_live_stream(call: Call, liveStreamId: str) -> Any:  # noqa: N803
    """Complete a live stream: ends its broadcast (nothing changes while none runs)."""
    wiring.live_stream_service().complete(call.actor, liveStreamId)
    return Reply(status=202)


@endpoint(
    bp,
    "/live-streams/{liveStreamId}/stream-key",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(IVS_STREAM_KEYS_RESET,),
    # A new secret: never stored for replay.
    replayable=False,
    body_required=False,
    response="LiveStream",
)
def reset_live_stream_key(call: Call, liveStreamId: str) -> Any:  # noqa: N803
    """Reset the stream key (Videoplane): the old key stops working, the new one is returned."""
    return presenters.shown(wiring.live_stream_service().reset_stream_key(call.actor, liveStreamId))


@endpoint(
    bp,
    "/live-streams/{liveStreamId}/thumbnail",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(MEDIA_OBJECTS_WRITE,),
    content_types=FILE_BODY,
    response="LiveStream",
    operation_id="POST_live-streams-liveStreamId-thumbnail",
)
def upload_live_stream_thumbnail(call: Call, liveStreamId: str) -> Any:  # noqa: N803
    form = uploaded_file(call)
    return presenters.shown(wiring.live_stream_service().upload_thumbnail(call.actor, liveStreamId, form.data))


@endpoint(
    bp,
    "/live-streams/{liveStreamId}/thumbnail",
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    uses=(MEDIA_OBJECTS_WRITE,),
    operation_id="DELETE_live-streams-liveStreamId-thumbnail",
)
def delete_live_stream_thumbnail(call: Call, liveStreamId: str) -> Any:  # noqa: N803
    wiring.live_stream_service().delete_thumbnail(call.actor, liveStreamId)
    return Reply(status=204)
