"""The public beacon endpoints and the embed page's beacon script. No credentials: the project is
the media's (found server side), unknown media is refused, each project's beacons are rate-limited,
and nothing is ever read back here. Refused beacons are answered with problem JSON and counted (one
`beacon refused` log line each, a CloudWatch metric filter on AWS); none is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from chalice import Blueprint
from pydantic import BaseModel

from chalicelib.analytics import wiring
from chalicelib.analytics.domain.beacons import Beacon, WatchBeacon
from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.errors import DomainError
from chalicelib.core.observability import logger
from chalicelib.core.permissions import ANALYTICS_STREAM_PUT, TABLE_INDEX_READ, TABLE_READ, TABLE_WRITE

bp = Blueprint(__name__)
TAG = "Analytics"
SCRIPT = Path(__file__).resolve().parent / "assets" / "analytics.js"
# The media's project (index query), the project's beacon counter (UpdateItem), the stream.
BEACON_ACCESS = (TABLE_READ, TABLE_INDEX_READ, TABLE_WRITE, ANALYTICS_STREAM_PUT)
# navigator.sendBeacon sends text/plain (no CORS preflight); players posting JSON send application/json.
BEACON_TYPES = ("application/json", "text/plain")
# Beacons come from pages on any origin (`cross_origin`); no answer may be cached.
NO_STORE = {"Cache-Control": "no-store"}
ModelT = TypeVar("ModelT", bound=BaseModel)


@endpoint(bp, "/embed/analytics.js", "GET", permission=None, response_content_type="application/javascript", tag=TAG)
def get_beacon_script(call: Call) -> Any:
    """The embed page's beacon script: sends the playback session's events"""
    body = SCRIPT.read_text(encoding="utf-8")
    return Reply(
        body=body,
        content_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@endpoint(
    bp,
    "/embed/beacons",
    "POST",
    permission=None,
    uses=BEACON_ACCESS,
    status=202,
    content_types=BEACON_TYPES,
    body=Beacon,
    response="BeaconReceipt",
    errors=(404, 429),
    tag=TAG,
    cross_origin=True,
)
def post_beacon(call: Call) -> Any:
    """Videoplane: a player's playback session events (impression, play, heartbeats, ...)"""
    beacon = _parsed(call, Beacon, "videoplane")
    accepted = _counted(lambda: wiring.beacon_service().collect(beacon, *_viewer(call)), "videoplane")
    return Reply(body={"accepted": accepted}, headers=NO_STORE)


@endpoint(
    bp,
    "/embed/watch",
    "POST",
    permission=None,
    uses=BEACON_ACCESS,
    content_types=BEACON_TYPES,
    body=WatchBeacon,
    response="WatchReceipt",
    errors=(404, 429),
    tag=TAG,
    cross_origin=True,
)
def post_watch_beacon(call: Call) -> Any:
    """api.video's player-analytics v2 beacon (collector.api.video/watch)"""
    beacon = _parsed(call, WatchBeacon, "api.video-v2")
    _counted(lambda: wiring.beacon_service().collect_watch(beacon, *_viewer(call)), "api.video-v2")
    return Reply(body={"session": beacon.sid}, headers=NO_STORE)


def _viewer(call: Call) -> tuple[str, str]:
    headers = call.request.headers
    return headers.get("user-agent", ""), headers.get("cloudfront-viewer-country", "")


def _parsed(call: Call, model: type[ModelT], source: str) -> ModelT:
    return _counted(lambda: call.body(model), source)


def _counted(step: Any, source: str) -> Any:
    try:
        return step()
    except DomainError as error:
        logger.warning("beacon refused", extra={"source": source, "status": error.status, "reason": error.slug})
        raise
