"""Recording room sessions (docs/rooms.md, "Recordings"): start and stop by API or with the session
(`autoRecording`), the composition's end → `room.recording.ended` (the VOD context makes the
video), and the video's id back from `room.recording.ready`. Rules: chalicelib.rooms.domain.recordings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from chalicelib.core.clock import to_atom
from chalicelib.core.domain import audit, events
from chalicelib.core.domain.access import Actor, Principal
from chalicelib.core.domain.access import Role as AccessRole
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.errors import Conflict, NotFound
from chalicelib.core.domain.events import DomainEvent
from chalicelib.core.observability import logger
from chalicelib.rooms.domain import recordings
from chalicelib.rooms.domain.errors import NoActiveSession
from chalicelib.rooms.domain.recordings import Archived, Recording, RecordingState
from chalicelib.rooms.domain.rooms import Room, stage_tags
from chalicelib.rooms.ports import Compositions, RecordedVideos, RecordingRepository, SessionRepository, Stages

RESOURCE = "room"
ATTEMPTS = 3
# Who the audit log names when the session itself starts or stops a recording.
SYSTEM_KEY = "system:rooms"


class RecordingService:
    def __init__(
        self,
        rooms_: Callable[[str, str], Room],
        sessions: SessionRepository,
        repository: RecordingRepository,
        compositions: Callable[[], Compositions],
        stages: Callable[[], Stages],
        clock: Callable[[], datetime],
        videos: Callable[[], RecordedVideos] | None = None,
    ) -> None:
        # The ready room of a project, or NotFound (RoomService.find).
        self.rooms = rooms_
        self.sessions = sessions
        self.repository = repository
        self.compositions = compositions
        self.stages = stages
        self.clock = clock
        # The VOD context's videos the recordings became (the archive reads none without it).
        self.videos = videos

    def of_session(self, project_id: str, session_id: str) -> list[Recording]:
        return self.repository.of_session(project_id, session_id)

    def archive_of_room(self, actor: Actor, room_id: str) -> list[Archived]:
        """The room's recordings that became videos, every session's (EnableX's archive by room)."""
        self.rooms(actor.project_id, room_id)
        sessions = self.sessions.of_room(actor.project_id, room_id)
        found = [r for s in sessions for r in self.of_session(actor.project_id, s.session_id)]
        return self._archived(actor.project_id, found)

    def archive_of_session(self, actor: Actor, session_id: str) -> list[Archived]:
        """One session's recordings that became videos (EnableX's archive by conference)."""
        if self.sessions.get(actor.project_id, session_id) is None:
            raise NotFound(name="sessionId")
        return self._archived(actor.project_id, self.of_session(actor.project_id, session_id))

    def _archived(self, project_id: str, found: list[Recording]) -> list[Archived]:
        videos = self.videos
        if videos is None:
            return []
        return recordings.archived(found, lambda video_id: videos().assets(project_id, video_id))

    # -- by API ----------------------------------------------------------------------------------

    def start(self, actor: Actor, room_id: str) -> Recording:
        """Records the room's active session (the running recording when there is one)."""
        room = self.rooms(actor.project_id, room_id)
        active = self.sessions.active(actor.project_id, room_id)
        if active is None:
            raise NoActiveSession(name="roomId")
        return self._start(actor, room, active.session_id)

    def stop(self, actor: Actor, room_id: str) -> Recording:
        """Stops the active session's running recording (404 when none runs)."""
        self.rooms(actor.project_id, room_id)
        active = self.sessions.active(actor.project_id, room_id)
        current = recordings.running(self.of_session(actor.project_id, active.session_id)) if active else None
        if current is None:
            raise NotFound(name="recording", detail="The room's session is not being recorded.")
        return self._stop(actor, current)

    # -- with the session ------------------------------------------------------------------------

    def on_session_started(self, project_id: str, room_id: str, session_id: str) -> Recording | None:
        """`autoRecording`: the session records from its start."""
        try:
            room = self.rooms(project_id, room_id)
        except NotFound:
            return None
        if not room.settings.auto_recording or room.stage is None:
            return None
        return self._start(_system(project_id, session_id), room, session_id)

    def on_session_ended(self, project_id: str, session_id: str) -> None:
        """The session ended: its running recording stops (IVS would after a minute without publishers)."""
        current = recordings.running(self.of_session(project_id, session_id))
        if current is not None:
            self._stop(_system(project_id, session_id), current)

    # -- the plane's reports ---------------------------------------------------------------------

    def on_composition_event(self, composition_arn: str, detail: Mapping[str, object], at: datetime) -> None:
        """`IVS Composition State Change`: "Session End" (stored) or "Session Failure"."""
        state = recordings.COMPOSITION_EVENTS.get(str(detail.get("event_name", "")))
        if state is None:
            return
        room = self.stages().stage_room(str(detail.get("stage_arn", "")))
        if room is None:
            return
        project_id, room_id = room
        for _ in range(ATTEMPTS):
            found = self.repository.get(project_id, recordings.recording_id(composition_arn))
            if found is None or found.composition_arn != composition_arn:
                return
            after = recordings.advance(found, state, at)
            if after == found:
                return
            try:
                self._save(found, after, None, self._ended_events(found, after, room_id))
                return
            except Conflict:
                continue
        raise Conflict(name="recordingId")

    def on_video(self, project_id: str, recording_id: str, video_id: str) -> None:
        """`room.recording.ready` came back: the recording names its video."""
        for _ in range(ATTEMPTS):
            found = self.repository.get(project_id, recording_id)
            if found is None:
                return
            after = recordings.with_video(found, video_id)
            if after == found:
                return
            try:
                self._save(found, after, None, [])
                return
            except Conflict:
                continue
        raise Conflict(name="recordingId")

    # -- internals -------------------------------------------------------------------------------

    def _start(self, actor: Actor, room: Room, session_id: str) -> Recording:
        assert room.stage is not None
        existing = self.of_session(actor.project_id, session_id)
        current = recordings.running(existing)
        if current is not None:
            return current
        token = recordings.idempotency_token(session_id, existing)
        tags = {**stage_tags(actor.project_id, room.room_id), "videoplane:sessionId": session_id}
        # Idempotent at IVS (the token): a retry after a lost write gets the same composition.
        arn, prefix = self.compositions().start_composition(room.stage.arn, token, tags)
        now = self.clock()
        recording = Recording(
            project_id=actor.project_id,
            room_id=room.room_id,
            session_id=session_id,
            recording_id=recordings.recording_id(arn),
            composition_arn=arn,
            prefix=prefix,
            started_at=now,
        )
        entry = audit.record(actor, "room.recording.start", RESOURCE, room.room_id, now, detail=recording.recording_id)
        try:
            self.repository.save(recording, None, entry, [])
        except Conflict:
            stored = self.repository.get(actor.project_id, recording.recording_id)
            if stored is None:
                raise
            return stored
        logger.info("room recording started", extra=_extra(recording))
        return recording

    def _stop(self, actor: Actor, current: Recording) -> Recording:
        self.compositions().stop_composition(current.composition_arn)
        after = recordings.advance(current, RecordingState.STOPPING, self.clock())
        if after == current:
            return current
        entry = audit.record(
            actor, "room.recording.stop", RESOURCE, current.room_id, self.clock(), detail=current.recording_id
        )
        try:
            self._save(current, after, entry, [])
        except Conflict:
            # The composition's end came first: it is further along than stopping.
            return self.repository.get(current.project_id, current.recording_id) or after
        return after

    def _save(self, before: Recording, after: Recording, entry: AuditEvent | None, found: list[DomainEvent]) -> None:
        self.repository.save(after.model_copy(update={"version": before.version + 1}), before.version, entry, found)

    def _ended_events(self, before: Recording, after: Recording, room_id: str) -> list[DomainEvent]:
        if after.state is not RecordingState.ENDED or before.state is RecordingState.ENDED:
            if after.state is RecordingState.FAILED:
                logger.error("room recording failed", extra=_extra(after))
            return []
        try:
            name = self.rooms(after.project_id, room_id).name
        except NotFound:
            name = room_id
        return [
            events.RoomRecordingEnded(
                **events.envelope(after.project_id, self.clock()),
                roomId=room_id,
                sessionId=after.session_id,
                recordingId=after.recording_id,
                name=name,
                startedAt=to_atom(after.started_at),
                recordings=[after.prefix],
            )
        ]


def _system(project_id: str, session_id: str) -> Actor:
    return Actor(Principal(project_id, SYSTEM_KEY, AccessRole.OPERATOR), session_id)


def _extra(recording: Recording) -> dict[str, str]:
    return {
        "projectId": recording.project_id,
        "roomId": recording.room_id,
        "sessionId": recording.session_id,
        "recordingId": recording.recording_id,
    }
