"""The health push channel of managed live events: short-lived subscription tokens, the connections
they open, and when an event's health changed (the pure rules; docs/live.md, "Health push channel").

A token names its tenant and event in clear and carries a random secret, stored only as its hash:
the WebSocket `$connect` (which sees nothing but the query string) finds the subscription in the
tenant's partition, and a token of one project can never open another project's event."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.core import ids
from chalicelib.core.domain import events
from chalicelib.core.domain.errors import RepositoryUnavailable
from chalicelib.live.domain.live_events import LiveEvent, LiveEventState

SECRET_LENGTH = 32
TOKEN_SEPARATOR = "."
# API Gateway closes a WebSocket connection after 2 hours at most; a record outliving that is stale.
CONNECTION_SECONDS = 2 * 3600


class ConnectionGone(Exception):
    """The client went away (API Gateway's GoneException): its connection record is dropped."""


class PushUnavailable(RepositoryUnavailable):
    """The push channel is not configured on this stack, or API Gateway refused for a reason a retry may fix."""

    title = "The live event health push channel is unavailable."


class HealthSubscription(BaseModel):
    """What a client may connect to, until `expires_at`; the secret itself is not kept."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    live_event_id: str
    secret_hash: str
    expires_at: datetime


class HealthConnection(BaseModel):
    """One open WebSocket (or, on the devstack, server-sent events) connection to an event's health."""

    model_config = ConfigDict(frozen=True)
    connection_id: str
    project_id: str
    live_event_id: str
    connected_at: datetime
    expires_at: datetime


def new_subscription(
    project_id: str, live_event_id: str, now: datetime, seconds: int
) -> tuple[str, HealthSubscription]:
    """(the token to hand out once, the subscription to store)."""
    secret = ids.random_base62(SECRET_LENGTH)
    token = TOKEN_SEPARATOR.join((project_id, live_event_id, secret))
    stored = HealthSubscription(
        project_id=project_id,
        live_event_id=live_event_id,
        secret_hash=ids.hash_secret(secret),
        expires_at=now + timedelta(seconds=seconds),
    )
    return token, stored


def parse_token(token: str | None) -> tuple[str, str, str] | None:
    """(project id, live event id, secret), or None for anything that is not a token's shape."""
    parts = (token or "").split(TOKEN_SEPARATOR)
    if len(parts) != 3 or not all(part.isalnum() for part in parts):
        return None
    return parts[0], parts[1], parts[2]


def admits(subscription: HealthSubscription | None, live_event_id: str, secret: str, now: datetime) -> bool:
    return (
        subscription is not None
        and subscription.live_event_id == live_event_id
        and subscription.expires_at > now
        and ids.secrets_match(secret, subscription.secret_hash)
    )


def new_connection(connection_id: str, project_id: str, live_event_id: str, now: datetime) -> HealthConnection:
    return HealthConnection(
        connection_id=connection_id,
        project_id=project_id,
        live_event_id=live_event_id,
        connected_at=now,
        expires_at=now + timedelta(seconds=CONNECTION_SECONDS),
    )


def _signature(event: LiveEvent) -> tuple[Any, ...]:
    """What GET /live-events/{id}/health shows of an event (api/event_presenters.health), its version
    aside: that grows with changes the document does not show."""
    return (
        event.state,
        event.route_mode,
        event.active_route,
        event.active_route_at,
        event.plane_state,
        tuple((a.alarm_id, a.alert_type, a.pipeline, a.message, a.set_at) for a in event.alerts),
        tuple((i.route, i.protocol) for i in (event.channel.ingest if event.channel else ())),
        event.incident,  # and the ladder cap, which follows from it
    )


def health_changed(before: LiveEvent, after: LiveEvent) -> bool:
    return _signature(before) != _signature(after)


def health_announcement(before: LiveEvent, after: LiveEvent, envelope: dict[str, str]) -> list[events.DomainEvent]:
    """`live-event.health.changed` when the change shows in the health document (a draft's edits do
    not: nobody watches a draft's health), else nothing."""
    if after.state is LiveEventState.DRAFT or not health_changed(before, after):
        return []
    announced = events.LiveEventHealthChanged(
        **envelope,
        liveEventId=after.live_event_id,
        state=after.state.value,
        activeRoute=after.active_route.value if after.active_route else None,
        openAlerts=len(after.alerts),
    )
    return [announced]


class IssuedSubscription(BaseModel):
    """`POST /live-events/{id}/health/subscriptions`' answer: where to connect, with which token."""

    model_config = ConfigDict(frozen=True)
    url: str
    token: str
    expires_at: datetime
    stream_url: str | None = None


def connect_url(base: str, token: str) -> str:
    """The URL a browser opens as is (it cannot set headers on a WebSocket: the token rides in the query)."""
    return f"{base}{'&' if '?' in base else '?'}token={token}"


def hash_of(secret: str) -> str:
    return ids.hash_secret(secret)
