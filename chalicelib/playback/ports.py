"""What the playback services need from the outside world."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from chalicelib.core.domain.audit import AuditEvent
    from chalicelib.core.domain.events import DomainEvent
    from chalicelib.playback.domain.embed import PublicLiveStream, PublicVideo
    from chalicelib.playback.domain.geo import GeoPolicy
    from chalicelib.playback.domain.playback_keys import PlaybackKey
    from chalicelib.playback.domain.players import Player


class PlayerRepository(Protocol):
    def get(self, project_id: str, player_id: str) -> Player | None: ...
    def list_all(self, project_id: str) -> list[Player]: ...
    def create(self, player: Player, audit: AuditEvent, event: DomainEvent) -> None: ...
    def save(self, player: Player, expected_version: int, audit: AuditEvent, event: DomainEvent | None) -> None: ...
    def delete(self, player: Player, expected_version: int, audit: AuditEvent, event: DomainEvent) -> None: ...


class PublicVideos(Protocol):
    """The VOD context's videos, read as a viewer may see them (no credentials, no project given).

    The embed page is public and its URL names only the video, so this port finds the video's
    project itself. It answers None for anything a viewer may not play: unknown, discarded or
    private videos."""

    def find(self, video_id: str) -> PublicVideo | None: ...


class PublicLiveStreams(Protocol):
    """The live context's streams, read as the embed page needs them (no credentials, no project
    given): None for an unknown stream or one still being provisioned."""

    def find(self, live_stream_id: str) -> PublicLiveStream | None: ...


class PrivateTokens(Protocol):
    def consume(self, project_id: str, video_id: str, token: str, now: datetime) -> bool: ...


class DenialCounter(Protocol):
    def count(self, project_id: str, reason: str, now: datetime) -> None: ...


class PlaybackKeys(Protocol):
    def list_all(self, project_id: str) -> list[PlaybackKey]: ...
    def create(self, key: PlaybackKey, audit: AuditEvent) -> None: ...
    def delete(self, key: PlaybackKey, audit: AuditEvent) -> None: ...


class VideoPrivacy(Protocol):
    def privacy(self, project_id: str, video_id: str) -> bool | None:
        """Whether the video is private now; None when it has no item (removed)."""
        ...

    def video_ids(self, project_id: str) -> Iterator[str]:
        """Every video of the project (discarded ones included)."""
        ...


class LiveStreamPrivacy(Protocol):
    def privacy(self, project_id: str, live_stream_id: str) -> bool | None:
        """Whether the live stream is private now; None when it has no item (removed)."""
        ...


class EdgeStore(Protocol):
    """The store the edge check reads (chalicelib/playback/domain/edge.py names its entries)."""

    def put(self, key: str, value: str) -> None: ...
    def delete(self, key: str) -> None: ...


class BatchEdgeStore(EdgeStore, Protocol):
    """The store with batched puts, for a project's videos at once."""

    def put_many(self, entries: dict[str, str]) -> None: ...


class GeoPolicies(Protocol):
    def get(self, project_id: str) -> GeoPolicy: ...
    def save(self, policy: GeoPolicy, audit: AuditEvent, event: DomainEvent) -> None: ...
