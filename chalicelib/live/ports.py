"""What the live services need from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.core.domain.audit import AuditEvent
    from chalicelib.core.domain.events import DomainEvent
    from chalicelib.live.domain.health_push import HealthConnection, HealthSubscription
    from chalicelib.live.domain.live_event_templates import LiveEventTemplate
    from chalicelib.live.domain.live_events import ChannelResources, LiveEvent, RouteName
    from chalicelib.live.domain.live_streams import Channel, LiveStream, Relay, Restream, StreamKey


class LiveStreamRepository(Protocol):
    def get(self, project_id: str, live_stream_id: str) -> LiveStream | None: ...
    def list_all(self, project_id: str) -> list[LiveStream]: ...
    def reserve(self, stream: LiveStream) -> None:
        """Stores a provisioning stream (create-only); it expires unless activated."""
        ...

    def activate(
        self, stream: LiveStream, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]
    ) -> None:
        """The ready stream, its audit entry and its events, in one transaction."""
        ...

    def save(
        self, stream: LiveStream, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]
    ) -> None: ...
    def record_broadcast(self, stream: LiveStream, expected_version: int, events: Sequence[DomainEvent]) -> None:
        """A change the live plane reported, with its events, in one transaction (Conflict if the
        stream changed meanwhile)."""
        ...

    def delete(
        self, stream: LiveStream, expected_version: int, audit: AuditEvent | None, events: Sequence[DomainEvent]
    ) -> None: ...


class LiveChannels(Protocol):
    """The live plane's control API (IVS): one channel and one stream key per live stream."""

    def create_channel(
        self, name: str, tags: dict[str, str], record: bool, authorized: bool = False
    ) -> tuple[Channel, StreamKey]: ...
    def set_authorized(self, channel_arn: str, authorized: bool) -> None:
        """A private stream's channel requires playback tokens; a public one does not."""
        ...

    def reset_stream_key(self, channel_arn: str) -> StreamKey:
        """Deletes every key of the channel, then creates one: safe to repeat after a crash."""
        ...

    def is_live(self, channel_arn: str) -> bool: ...
    def stop_stream(self, channel_arn: str) -> None: ...
    def delete_channels(self, name: str) -> int:
        """Deletes every channel with this name (0 when none is left); returns how many."""
        ...


class PrivateTokenMint(Protocol):
    """api.video's single-use private tokens, one minted each time a private stream is shown
    (the playback context uses them up)."""

    def mint(self, project_id: str, live_stream_id: str, now: datetime) -> str: ...


class ReconnectTimers(Protocol):
    """Calls back (BroadcastService.on_window_expired) once a drop's reconnect window has passed."""

    def arm(self, project_id: str, live_stream_id: str, disconnected_at: datetime, delay_seconds: float) -> None: ...


class RestreamRelays(Protocol):
    """Runs one relay per restream target (an ECS task on AWS): it reads the channel's live HLS,
    pushes it unchanged to the target, and reports its state back (RelayReport messages on the
    live-events queue)."""

    def start(self, stream: LiveStream, relay: Relay, target: Restream) -> None:
        """Idempotent per relay id: starting the same relay again runs no second one."""
        ...

    def stop(self, relay: Relay) -> None:
        """Idempotent: a relay already gone counts as stopped."""
        ...


class LiveEventTemplateRepository(Protocol):
    def get(self, project_id: str, template_id: str) -> LiveEventTemplate | None: ...
    def list_all(self, project_id: str) -> list[LiveEventTemplate]: ...
    def save(self, changes: Sequence[tuple[LiveEventTemplate, int | None]], audit: AuditEvent) -> None:
        """Templates at their expected versions (None: new), with the audit entry, in one transaction."""
        ...

    def delete(self, template: LiveEventTemplate, audit: AuditEvent) -> None: ...


class LiveEventRepository(Protocol):
    def get(self, project_id: str, live_event_id: str) -> LiveEvent | None: ...
    def list_all(self, project_id: str) -> list[LiveEvent]: ...
    def find_by_channel(self, channel_arn: str) -> LiveEvent | None:
        """The event whose MediaLive channel this is (plane events name only the channel)."""
        ...

    def create(self, event: LiveEvent, audit: AuditEvent) -> None: ...
    def save(
        self, event: LiveEvent, expected_version: int, audit: AuditEvent | None, events: Sequence[DomainEvent]
    ) -> None:
        """The event, its audit entry (None for the plane's changes) and its domain events, in one
        transaction; Conflict if the event changed meanwhile."""
        ...

    def delete(self, event: LiveEvent, audit: AuditEvent) -> None: ...


class LiveEventChannels(Protocol):
    """MediaLive: one channel, its push (or file) inputs and their security group per event. Every
    call is idempotent: names and tags carry the event id and are looked up before anything is made."""

    def create(self, event: LiveEvent) -> ChannelResources:
        """Creates what is missing, up to the channel, without starting it."""
        ...

    def start(self, event: LiveEvent) -> None:
        """Starts the event's stored channel when it is IDLE (a starting or running one is left alone)."""
        ...

    def release(self, event: LiveEvent) -> None:
        """Stops and deletes the channel, then its inputs and security group (gone counts as done)."""
        ...

    def switch_input(self, event: LiveEvent, route: RouteName) -> None:
        """An immediate input switch to the route's attachment (MediaLive's schedule)."""
        ...


class VideoSources(Protocol):
    """A video's uploaded source, which a premiere plays (the VOD context's item, read by layout)."""

    def source_url(self, project_id: str, video_id: str) -> str | None:
        """Where MediaLive reads it (s3ssl://bucket/key); None when the video or its source is missing."""
        ...


class LiveEventTimers(Protocol):
    """Calls back (LiveEventPlaneService.on_timer) at `due_at`, or sooner: the callee checks."""

    def arm(self, project_id: str, live_event_id: str, due_at: datetime, now: datetime) -> None: ...


class HealthSubscriptionRepository(Protocol):
    """The health push channel's subscription tokens and open connections (TTL-expiring items)."""

    def add_subscription(self, subscription: HealthSubscription) -> None: ...
    def subscription(self, project_id: str, secret_hash: str) -> HealthSubscription | None: ...
    def add_connection(self, connection: HealthConnection) -> None: ...
    def connections(self, project_id: str, live_event_id: str) -> list[HealthConnection]: ...
    def find_connection(self, connection_id: str) -> HealthConnection | None:
        """By the id alone (API Gateway's `$disconnect` names nothing else)."""
        ...

    def remove_connection(self, connection: HealthConnection) -> None: ...


class HealthConnections(Protocol):
    """Sends to an open WebSocket connection (API Gateway Management API's PostToConnection)."""

    def post(self, connection_id: str, data: bytes) -> None:
        """Raises ConnectionGone when the client has gone away."""
        ...

    def close(self, connection_id: str) -> None:
        """Ends the connection from the server's side (DeleteConnection); one already gone is done."""
        ...


class IncidentAlarms(Protocol):
    """CloudWatch alarms on an event's channel metrics (domain/incidents.py): made when it is armed,
    deleted when it ends. Idempotent."""

    def ensure(self, event: LiveEvent, channel_id: str) -> None: ...
    def remove(self, event: LiveEvent) -> None: ...


class IncidentTimers(Protocol):
    """Calls back (LiveEventIncidentService.on_revert) at `due_at`, or sooner: the callee checks."""

    def arm(self, project_id: str, live_event_id: str, due_at: datetime, now: datetime) -> None: ...
