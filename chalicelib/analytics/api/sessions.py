"""api.video's retired session views (research A1, removed from its API in 2023; SDK 1.4.7 has no
call for them): a video's or live stream's playback sessions over a period, and a session's events.
Read from the event store like /data, in the caller's project only."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.analytics import wiring
from chalicelib.analytics.api import presenters
from chalicelib.analytics.api.data import QUERY_ACCESS
from chalicelib.analytics.domain import sessions
from chalicelib.analytics.domain.beacons import MediaType
from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import TABLE_INDEX_READ
from chalicelib.platform.api.authorizer import api_key_authorizer

bp = Blueprint(__name__)
TAG = "Analytics"
# The media's project (the id → project index), then the event store.
SESSIONS_ACCESS = (TABLE_INDEX_READ, *QUERY_ACCESS)


class SessionsQuery(BaseModel):
    period: str = Field(description=sessions.PERIOD_DETAIL, pattern=sessions.PERIOD_PATTERN)
    metadata: dict[str, str] | None = Field(default=None, description="metadata[key]=value: sessions carrying it")


@endpoint(
    bp,
    "/analytics/videos/{videoId}",
    "GET",
    permission=Permission.READ,
    authorizer=api_key_authorizer,
    uses=SESSIONS_ACCESS,
    query=SessionsQuery,
    response="PlaybackSession",
    paged=True,
    operation_id="listVideoSessions",
    errors=(404,),
    tag=TAG,
)
def list_video_sessions(call: Call, videoId: str) -> Any:  # noqa: N803 - the route's name
    """List a video's playback sessions"""
    return _sessions(call, MediaType.VIDEO, videoId)


@endpoint(
    bp,
    "/analytics/live-streams/{liveStreamId}",
    "GET",
    permission=Permission.READ,
    authorizer=api_key_authorizer,
    uses=SESSIONS_ACCESS,
    query=SessionsQuery,
    response="PlaybackSession",
    paged=True,
    operation_id="listLiveStreamSessions",
    errors=(404,),
    tag=TAG,
)
def list_live_stream_sessions(call: Call, liveStreamId: str) -> Any:  # noqa: N803
    """List a live stream's playback sessions"""
    return _sessions(call, MediaType.LIVE_STREAM, liveStreamId)


@endpoint(
    bp,
    "/analytics/sessions/{playbackSessionId}/events",
    "GET",
    permission=Permission.READ,
    authorizer=api_key_authorizer,
    uses=QUERY_ACCESS,
    response="PlayerSessionEvent",
    paged=True,
    operation_id="listSessionEvents",
    errors=(404,),
    tag=TAG,
)
def list_session_events(call: Call, playbackSessionId: str) -> Any:  # noqa: N803
    """List a playback session's events"""
    page = wiring.sessions_service().events(call.actor.project_id, playbackSessionId, call.page())
    return presenters.session_events(page, call.path)


def _sessions(call: Call, media_type: MediaType, media_id: str) -> Any:
    period = sessions.period_of(call.query(SessionsQuery, {"period": call.single("period")}).period)
    metadata = sessions.metadata_of(call.query_values())
    found = wiring.sessions_service().media_sessions(
        call.actor.project_id, media_type, media_id, period, metadata, call.page()
    )
    return presenters.sessions(found, call.path, call.filters("period", "metadata"))
