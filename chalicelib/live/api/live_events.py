"""Managed live events (a Videoplane extension): planned broadcasts on their own MediaLive channel,
with primary and backup routes, templates, a schedule, an operator's override, a timeline and health.
Operators and admins change them; every role reads them."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.core.permissions import (
    INCIDENT_ALARMS,
    MEDIALIVE_CHANNELS_ARM,
    MEDIALIVE_CHANNELS_RELEASE,
    MEDIALIVE_PASS_ROLE,
    MEDIALIVE_SCHEDULE,
    UPLOADS_OBJECTS_READ,
)
from chalicelib.live import wiring
from chalicelib.live.api import event_presenters as presenters
from chalicelib.live.domain.live_events import LiveEventCreation, LiveEventUpdate, RouteChange
from chalicelib.platform.api.authorizer import api_key_authorizer

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE
EVENT = "/live-events/{liveEventId}"


def live_event_update(call: Call) -> LiveEventUpdate:
    payload = call.body(LiveEventUpdate)
    nulls = payload.null_violations()
    if nulls:
        raise InvalidInput([Problem("invalid-attribute", "This attribute must not be null.", n) for n in nulls])
    return payload


@endpoint(
    bp,
    "/live-events",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=201,
    # A premiere's video must have its source in the uploads bucket (HeadObject).
    uses=(UPLOADS_OBJECTS_READ,),
    body=LiveEventCreation,
    response="LiveEvent",
)
def create_live_event(call: Call) -> Any:
    return presenters.live_event(wiring.live_event_service().create(call.actor, call.body(LiveEventCreation)))


@endpoint(bp, "/live-events", "GET", permission=READ, authorizer=api_key_authorizer, response="LiveEvent", paged=True)
def list_live_events(call: Call) -> Any:
    page = wiring.live_event_service().list(call.actor, call.page())
    return page.envelope([presenters.live_event(e) for e in page.items], "/live-events", [])


@endpoint(bp, EVENT, "GET", permission=READ, authorizer=api_key_authorizer, response="LiveEvent")
def get_live_event(call: Call, liveEventId: str) -> Any:  # noqa: N803 - named like api.video's ids
    return presenters.live_event(wiring.live_event_service().get(call.actor, liveEventId))


@endpoint(
    bp,
    EVENT,
    "PATCH",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(UPLOADS_OBJECTS_READ,),
    body=LiveEventUpdate,
    response="LiveEvent",
)
def update_live_event(call: Call, liveEventId: str) -> Any:  # noqa: N803
    payload = live_event_update(call)
    return presenters.live_event(wiring.live_event_service().update(call.actor, liveEventId, payload))


@endpoint(bp, EVENT, "DELETE", permission=WRITE, authorizer=api_key_authorizer, status=204)
def delete_live_event(call: Call, liveEventId: str) -> Any:  # noqa: N803
    wiring.live_event_service().delete(call.actor, liveEventId)
    return Reply(status=204)


@endpoint(
    bp,
    f"{EVENT}/arm",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(MEDIALIVE_CHANNELS_ARM, MEDIALIVE_PASS_ROLE, UPLOADS_OBJECTS_READ, INCIDENT_ALARMS),
    body_required=False,
    response="LiveEvent",
    errors=(409, 422, 503),  # not armable in its state; MediaLive refused; the channel is not ready yet
)
def arm_live_event(call: Call, liveEventId: str) -> Any:  # noqa: N803
    """Arm now (before the schedule's armAt): the MediaLive channel is created and started."""
    event = wiring.live_event_service().arm(call.actor, call.actor.project_id, liveEventId)
    return presenters.live_event(event)


@endpoint(
    bp,
    f"{EVENT}/end",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(MEDIALIVE_CHANNELS_RELEASE, INCIDENT_ALARMS),
    body_required=False,
    response="LiveEvent",
    errors=(409, 503),
)
def end_live_event(call: Call, liveEventId: str) -> Any:  # noqa: N803
    """End now (before the schedule's endAt): the channel and its inputs are stopped and deleted."""
    event = wiring.live_event_service().end(call.actor, call.actor.project_id, liveEventId)
    return presenters.live_event(event)


@endpoint(
    bp,
    f"{EVENT}/route",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(MEDIALIVE_SCHEDULE,),
    body=RouteChange,
    response="LiveEvent",
    errors=(409, 503),  # a manual switch the input preference forbids; MediaLive unavailable
)
def route_live_event(call: Call, liveEventId: str) -> Any:  # noqa: N803
    """Force the primary or the backup route, or return to automatic failover (audited)."""
    mode = call.body(RouteChange).mode
    return presenters.live_event(wiring.live_event_service().set_route(call.actor, liveEventId, mode))


@endpoint(
    bp,
    f"{EVENT}/timeline",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="LiveEventTimelineEntry",
    paged=True,
)
def live_event_timeline(call: Call, liveEventId: str) -> Any:  # noqa: N803
    """API requests (request id, actor), transitions, media health and failovers, in time order."""
    page = wiring.live_event_service().timeline(call.actor, liveEventId, call.page())
    return page.envelope([presenters.timeline_entry(e) for e in page.items], f"/live-events/{liveEventId}/timeline", [])


@endpoint(bp, f"{EVENT}/health", "GET", permission=READ, authorizer=api_key_authorizer, response="LiveEventHealth")
def live_event_health(call: Call, liveEventId: str) -> Any:  # noqa: N803
    """The active route, each input's state and the open alerts."""
    return presenters.health(wiring.live_event_service().get(call.actor, liveEventId))
