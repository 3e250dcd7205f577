"""The health push channel of managed live events: a subscription token per client, the WebSocket
connections it opens (`$connect` / `$disconnect`), and the push of the health document to every
connection of an event after `live-event.health.changed` (docs/live.md, "Health push channel")."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import NotFound
from chalicelib.core.observability import logger
from chalicelib.live.domain import health_push
from chalicelib.live.domain.health_push import ConnectionGone, IssuedSubscription, PushUnavailable
from chalicelib.live.domain.live_events import LiveEvent, LiveEventState
from chalicelib.live.ports import HealthConnections, HealthSubscriptionRepository, LiveEventRepository


class HealthPushService:
    def __init__(
        self,
        events: LiveEventRepository,
        subscriptions: HealthSubscriptionRepository,
        connections: Callable[[], HealthConnections],
        render: Callable[[LiveEvent], dict[str, Any]],
        clock: Callable[[], datetime],
        push_url: str,
        stream_url: str = "",
        token_seconds: int = 300,
    ) -> None:
        self.events = events
        self.subscriptions = subscriptions
        # Built on first use: subscribing and connecting never reach API Gateway's management API.
        self.connections = connections
        # The same document as GET /live-events/{id}/health (api/event_presenters.health).
        self.render = render
        self.clock = clock
        self.push_url = push_url
        self.stream_url = stream_url
        self.token_seconds = token_seconds

    def subscribe(self, actor: Actor, live_event_id: str) -> IssuedSubscription:
        if self.events.get(actor.project_id, live_event_id) is None:
            raise NotFound(name="liveEventId")
        if not self.push_url:
            raise PushUnavailable(
                detail="This stack has no health push channel (VIDEOPLANE_LIVE_EVENT_HEALTH_PUSH_URL)."
            )
        token, stored = health_push.new_subscription(actor.project_id, live_event_id, self.clock(), self.token_seconds)
        self.subscriptions.add_subscription(stored)
        return IssuedSubscription(
            url=health_push.connect_url(self.push_url, token),
            token=token,
            expires_at=stored.expires_at,
            stream_url=health_push.connect_url(self.stream_url, token) if self.stream_url else None,
        )

    def connect(self, connection_id: str, token: str | None) -> bool:
        """`$connect`: True when the token admits the connection (it is then recorded); a token may
        open connections until it expires, so a client that lost its connection reconnects with it."""
        parsed = health_push.parse_token(token)
        if parsed is None:
            return False
        project_id, live_event_id, secret = parsed
        now = self.clock()
        stored = self.subscriptions.subscription(project_id, health_push.hash_of(secret))
        if not health_push.admits(stored, live_event_id, secret, now):
            return False
        self.subscriptions.add_connection(health_push.new_connection(connection_id, project_id, live_event_id, now))
        return True

    def disconnect(self, connection_id: str) -> None:
        found = self.subscriptions.find_connection(connection_id)
        if found is not None:
            self.subscriptions.remove_connection(found)

    def send_current(self, connection_id: str) -> bool:
        """`$default`: a client's message asks for the current document (API Gateway cannot send on a
        connection before `$connect` returns, so a screen asks once it is open)."""
        found = self.subscriptions.find_connection(connection_id)
        if found is None:
            return False
        event = self.events.get(found.project_id, found.live_event_id)
        if event is None:
            return False
        try:
            self.connections().post(connection_id, self._document(event))
        except ConnectionGone:
            self.subscriptions.remove_connection(found)
            return False
        return True

    def _document(self, event: LiveEvent) -> bytes:
        return json.dumps(self.render(event), separators=(",", ":")).encode()

    def push(self, project_id: str, live_event_id: str) -> int:
        """Sends the event's current health to each of its connections; returns how many got it. The
        document is read at push time, so a late or repeated message still sends the latest."""
        now = self.clock()
        # DynamoDB's TTL removes expired records within days, not at once.
        listening = [c for c in self.subscriptions.connections(project_id, live_event_id) if c.expires_at > now]
        if not listening:
            return 0
        event = self.events.get(project_id, live_event_id)
        if event is None:
            return 0
        data = self._document(event)
        # An ended event changes no more: its screens get the last document, then the server closes
        # them (else they stay open, idle, until API Gateway's 10 minutes or 2 hours run out).
        last = event.state is LiveEventState.ENDED
        sent = 0
        for connection in listening:
            try:
                self.connections().post(connection.connection_id, data)
            except ConnectionGone:
                self.subscriptions.remove_connection(connection)
                continue
            sent += 1
            if last:
                self.connections().close(connection.connection_id)
                self.subscriptions.remove_connection(connection)
        logger.info("live event health pushed", extra={"liveEventId": live_event_id, "connections": sent})
        return sent
