"""What the rooms services need from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.core.domain.audit import AuditEvent
    from chalicelib.core.domain.events import DomainEvent
    from chalicelib.rooms.domain.quality import Sample
    from chalicelib.rooms.domain.recordings import Recording, VideoAssets
    from chalicelib.rooms.domain.rooms import Room, Stage
    from chalicelib.rooms.domain.sessions import Attendance, PlaneEvent, Session, Sighting
    from chalicelib.rooms.domain.tokens import Capability, JoinToken, SeatClaim


class RoomRepository(Protocol):
    def get(self, project_id: str, room_id: str) -> Room | None: ...
    def list_all(self, project_id: str) -> list[Room]: ...
    def reserve(self, room: Room) -> None:
        """Stores a provisioning room (create-only); it expires unless activated."""
        ...

    def save(self, room: Room, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        """The room, its audit entry and its events, in one transaction."""
        ...

    def delete(
        self, room: Room, expected_version: int, audit: AuditEvent | None, events: Sequence[DomainEvent]
    ) -> None: ...


class JoinTokenRepository(Protocol):
    def add(self, token: JoinToken, audit: AuditEvent) -> None: ...
    def get(self, project_id: str, room_id: str, token_id: str) -> JoinToken | None: ...
    def of_user(self, project_id: str, room_id: str, user_ref: str) -> list[JoinToken]: ...
    def revoke(self, token: JoinToken, audit: AuditEvent) -> bool:
        """Deletes the token's record; False when it was already gone."""
        ...

    def use_once(self, token: JoinToken, now: datetime) -> bool:
        """Marks a single-use token used; False when it already was."""
        ...


class SessionRepository(Protocol):
    """Room sessions: the active one of each room (a small summary with its seat counters, and one
    item per join: docs/rooms.md, "Big sessions"), and every session's record (its call detail
    records once ended)."""

    def active(self, project_id: str, room_id: str) -> Session | None:
        """The room's active session with every attendance (what a poll merges into)."""
        ...

    def summary(self, project_id: str, room_id: str) -> Session | None:
        """The room's active session without its attendances: its seat counts (what a join reads)."""
        ...

    def holdings(self, project_id: str, session_id: str, user_ref: str) -> set[str]:
        """The seat groups in which this user holds a seat in the session."""
        ...

    def get(self, project_id: str, session_id: str) -> Session | None: ...
    def of_room(self, project_id: str, room_id: str) -> list[Session]:
        """The room's sessions, oldest first."""
        ...

    def ended_between(self, project_id: str, since: datetime, until: datetime) -> list[Session]:
        """Sessions of the project that ended in [since, until), by end time."""
        ...

    def admit(self, summary: Session, attendance: Attendance, claim: SeatClaim, events: Sequence[DomainEvent]) -> None:
        """Adds a join to the active session with its events, taking its seat as `claim` says, in
        one transaction of a bounded size; Conflict when the claim no longer holds or the session
        ended."""
        ...

    def save(self, session: Session, before: Session | None, events: Sequence[DomainEvent]) -> None:
        """Creates (`before` None), updates or ends the room's active session, writing only what
        changed since `before` (each attendance at its own version, with its own events, in
        transactions of at most 100 items); Conflict when another change came first."""
        ...


class SessionTimers(Protocol):
    """Calls back (SessionService.poll) after a delay: the active session's poll loop."""

    def arm(self, project_id: str, room_id: str, session_id: str, tick: int, delay_seconds: float) -> None: ...


class Stages(Protocol):
    """The real-time plane's control API (IVS real-time): one stage per room."""

    def create_stage(self, name: str, tags: dict[str, str]) -> Stage: ...
    def delete_stages(self, name: str, arn: str | None) -> int:
        """Deletes the stage with this ARN, or every stage with this name (0 when none is left)."""
        ...

    def presence(self, stage_arn: str) -> tuple[Stage, set[str]]:
        """The stage as it is now (its endpoints), and the ids of the participants connected to its
        active session (none without one)."""
        ...

    def stage_room(self, stage_arn: str) -> tuple[str, str] | None:
        """(project id, room id) from this app's tags on the stage; None for another's, or gone."""
        ...

    def attendance(self, stage_arn: str, plane_sessions: Sequence[str]) -> tuple[str | None, list[Sighting]]:
        """The stage's active session id (None without one), and the participants of it and of these
        earlier stage sessions."""
        ...

    def participant_events(self, stage_arn: str, plane_session: str, participant_id: str) -> list[PlaneEvent]: ...

    def disconnect(self, stage_arn: str, participant_id: str, reason: str) -> bool:
        """Removes a connected participant; False when it is not connected (or unknown)."""
        ...

    def participant_token(
        self,
        stage_arn: str,
        user_id: str,
        minutes: int,
        capabilities: frozenset[Capability],
        attributes: dict[str, str],
    ) -> tuple[str, str, datetime | None]:
        """(participant id, token, expiry) of a new IVS participant token."""
        ...


class RecordingRepository(Protocol):
    """Recordings of room sessions (IVS compositions), by id and by session."""

    def get(self, project_id: str, recording_id: str) -> Recording | None: ...
    def of_session(self, project_id: str, session_id: str) -> list[Recording]:
        """The session's recordings, oldest first."""
        ...

    def save(
        self,
        recording: Recording,
        expected_version: int | None,
        audit: AuditEvent | None,
        events: Sequence[DomainEvent],
    ) -> None: ...


class Compositions(Protocol):
    """The plane's recorder: IVS real-time server-side composition to the media bucket."""

    def start_composition(self, stage_arn: str, idempotency_token: str, tags: dict[str, str]) -> tuple[str, str]:
        """Starts recording the stage: the composition's ARN and the S3 prefix it writes under."""
        ...

    def stop_composition(self, composition_arn: str) -> bool:
        """Stops it; False when it was already gone."""
        ...


class QualityRepository(Protocol):
    """What participants' clients reported of their media (docs/rooms.md, "Call quality")."""

    def add(self, project_id: str, session_id: str, sample: Sample) -> bool:
        """Stores the sample; False when its participant already has one in that slot."""
        ...

    def of_session(self, project_id: str, session_id: str) -> list[Sample]: ...


class RecordedVideos(Protocol):
    """The VOD context's videos that recordings became: only whether one exists and what it plays."""

    def assets(self, project_id: str, video_id: str) -> VideoAssets | None:
        """None when the video is gone (deleted, or discarded)."""
        ...
