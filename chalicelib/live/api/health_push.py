"""The health push channel of managed live events: a REST route that hands out a short-lived token,
and the WebSocket API's `$connect` and `$disconnect` functions (docs/live.md, "Health push channel").
The pushes themselves are sent by consumers/health_push.py."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core import resources
from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import (
    LIVE_EVENT_HEALTH_CONNECTIONS,
    TABLE_INDEX_READ,
    TABLE_READ,
    TABLE_WRITE,
    declare,
)
from chalicelib.live import wiring
from chalicelib.live.api import event_presenters as presenters
from chalicelib.platform.api.authorizer import api_key_authorizer

bp = Blueprint(__name__)
declare(resources.LIVE_EVENT_HEALTH_CONNECT, (TABLE_READ, TABLE_WRITE))
declare(resources.LIVE_EVENT_HEALTH_DISCONNECT, (TABLE_INDEX_READ, TABLE_READ, TABLE_WRITE))
declare(resources.LIVE_EVENT_HEALTH_REQUEST, (TABLE_INDEX_READ, TABLE_READ, TABLE_WRITE, LIVE_EVENT_HEALTH_CONNECTIONS))


@endpoint(
    bp,
    "/live-events/{liveEventId}/health/subscriptions",
    "POST",
    permission=Permission.READ,
    authorizer=api_key_authorizer,
    status=201,
    body_required=False,
    response="LiveEventHealthSubscription",
    errors=(503,),  # the stack has no push channel
)
def subscribe_live_event_health(call: Call, liveEventId: str) -> Any:  # noqa: N803 - named like api.video's ids
    """A short-lived token and the WebSocket URL that pushes this event's health on every change."""
    return presenters.health_subscription(wiring.health_push_service().subscribe(call.actor, liveEventId))


@bp.lambda_function(name=resources.LIVE_EVENT_HEALTH_CONNECT)
def connect_live_event_health(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The WebSocket API's `$connect`: any answer but 2xx refuses the connection."""
    query = event.get("queryStringParameters") or {}
    connection_id = str(event["requestContext"]["connectionId"])
    admitted = wiring.health_push_service().connect(connection_id, query.get("token"))
    return {"statusCode": 200 if admitted else 401}


@bp.lambda_function(name=resources.LIVE_EVENT_HEALTH_DISCONNECT)
def disconnect_live_event_health(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The WebSocket API's `$disconnect` (best effort, as on API Gateway: a push to a connection gone
    unnoticed meets GoneException and drops it too)."""
    wiring.health_push_service().disconnect(str(event["requestContext"]["connectionId"]))
    return {"statusCode": 200}


@bp.lambda_function(name=resources.LIVE_EVENT_HEALTH_REQUEST)
def request_live_event_health(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The WebSocket API's `$default`: any message is answered with the event's current health."""
    wiring.health_push_service().send_current(str(event["requestContext"]["connectionId"]))
    return {"statusCode": 200}
