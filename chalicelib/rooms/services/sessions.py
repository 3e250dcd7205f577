"""Room sessions: reading them and their call detail records, and the poll that follows an active
session until its last participant leaves (docs/rooms.md, "Sessions and leaves").

The poll runs when a timer of the session's loop fires (every `POLL_SECONDS`, armed by the
`room.session.started` event and then by each poll), and when IVS reports a participant of the room
published or unpublished. It reads the stage's participants, asks the plane for the events of each
one that disconnected, merges all of it (pure rules, chalicelib.rooms.domain.sessions) and writes
the session at its version with the events the change implies: `room.participant.left`, and at the
end `room.session.ended` and `room.cdr.ready`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.core.domain import events
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import Conflict, NotFound
from chalicelib.core.domain.events import DomainEvent
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.core.observability import logger
from chalicelib.rooms.domain import sessions
from chalicelib.rooms.domain.quality import Sample
from chalicelib.rooms.domain.rooms import Room
from chalicelib.rooms.domain.sessions import CallRecord, EndReason, PlaneEvent, Session, Totals
from chalicelib.rooms.ports import QualityRepository, SessionRepository, SessionTimers, Stages

POLL_ATTEMPTS = 3
LIMIT_REASON = "The room's session reached its duration limit."
# Stage Update event names → the participant event they stand for.
STAGE_UPDATES = {"Participant Published": "PUBLISH_STARTED", "Participant Unpublished": "PUBLISH_STOPPED"}


@dataclass(frozen=True)
class Report:
    """Call detail records with the rooms they took place in (a room deleted since is left out)."""

    records: list[CallRecord]
    rooms: dict[str, Room]


class SessionService:
    def __init__(
        self,
        rooms_: Callable[[str, str], Room],
        repository: SessionRepository,
        stages: Callable[[], Stages],
        timers: Callable[[], SessionTimers],
        clock: Callable[[], datetime],
        quality: QualityRepository | None = None,
    ) -> None:
        # The ready room of a project, or NotFound (RoomService.find).
        self.rooms = rooms_
        self.repository = repository
        self.stages = stages
        self.timers = timers
        self.clock = clock
        # The quality samples clients posted (none read without it).
        self.quality = quality

    # -- reads -----------------------------------------------------------------------------------

    def of_room(self, actor: Actor, room_id: str, page: PageRequest) -> Page[Session]:
        self.rooms(actor.project_id, room_id)
        return paginate(self.repository.of_room(actor.project_id, room_id), page)

    def get(self, actor: Actor, session_id: str) -> Session:
        found = self.repository.get(actor.project_id, session_id)
        if found is None:
            raise NotFound(name="sessionId")
        return found

    def summary(self, actor: Actor, session_id: str) -> tuple[Session, Totals]:
        """The session with its totals, quality included."""
        session = self.get(actor, session_id)
        return session, sessions.totals(session, self._samples(actor.project_id, [session_id]))

    def records(self, actor: Actor, session_id: str, page: PageRequest) -> Page[CallRecord]:
        return self._with_quality(actor, paginate(sessions.call_records(self.get(actor, session_id)), page))

    def records_between(self, actor: Actor, since: datetime, until: datetime, page: PageRequest) -> Page[CallRecord]:
        ended = self.repository.ended_between(actor.project_id, since, until)
        return self._with_quality(actor, paginate([r for s in ended for r in sessions.call_records(s)], page))

    def room_report(self, actor: Actor, room_id: str) -> Report:
        """Every record of a room's ended sessions (EnableX's `/cdr/room/{room_id}`)."""
        room = self.rooms(actor.project_id, room_id)
        ended = [s for s in self.repository.of_room(actor.project_id, room_id) if not s.active]
        records = [r for s in ended for r in sessions.call_records(s)]
        return Report(self._quality_of(actor.project_id, records), {room_id: room})

    def report_between(self, actor: Actor, since: datetime, until: datetime) -> Report:
        """Every record of the sessions that ended in [since, until), with their rooms."""
        ended = self.repository.ended_between(actor.project_id, since, until)
        records = self._quality_of(actor.project_id, [r for s in ended for r in sessions.call_records(s)])
        rooms: dict[str, Room] = {}
        for room_id in sorted({r.room_id for r in records}):
            try:
                rooms[room_id] = self.rooms(actor.project_id, room_id)
            except NotFound:
                continue
        return Report(records, rooms)

    def _samples(self, project_id: str, session_ids: Sequence[str]) -> list[Sample]:
        if self.quality is None:
            return []
        return [s for session_id in session_ids for s in self.quality.of_session(project_id, session_id)]

    def _quality_of(self, project_id: str, records: list[CallRecord]) -> list[CallRecord]:
        """The records with their quality: one read of samples per session they belong to."""
        session_ids = list(dict.fromkeys(r.session_id for r in records))
        return sessions.with_quality(records, self._samples(project_id, session_ids))

    def _with_quality(self, actor: Actor, page: Page[CallRecord]) -> Page[CallRecord]:
        # Only the page's sessions are read: a long period costs its pages, not every session.
        return replace(page, items=self._quality_of(actor.project_id, list(page.items)))

    def removed(self, project_id: str, room_id: str, participant_id: str) -> None:
        """A moderator removed this participant (RoomService.remove_participant): its leave is
        `removed`, now, whatever the plane reports later."""
        for _ in range(POLL_ATTEMPTS):
            active = self.repository.active(project_id, room_id)
            if active is None:
                return
            now = self.clock()
            after = sessions.remove(active, participant_id, now)
            if sessions.ending(after):
                after = sessions.end(after, EndReason.EMPTY, now)
            if after == active:
                return
            try:
                self.repository.save(
                    after.model_copy(update={"version": active.version + 1}), active, _events(active, after, now)
                )
                return
            except Conflict:
                continue
        raise Conflict(name="participantId")

    # -- the poll loop ---------------------------------------------------------------------------

    def on_started(self, project_id: str, room_id: str, session_id: str) -> None:
        """`room.session.started` came back from the bus: the loop's first poll (generation 0)."""
        self.poll(project_id, room_id, session_id, tick=0)

    def on_stage_update(self, stage_arn: str, detail: dict[str, object], at: datetime) -> None:
        """An `IVS Stage Update` event: the publish mark it carries, and a poll of the room now."""
        room = self.stages().stage_room(stage_arn)
        if room is None:
            return
        name = STAGE_UPDATES.get(str(detail.get("event_name", "")))
        participant = str(detail.get("participant_id", ""))
        marks = [PlaneEvent(participant, name, at)] if name and participant else []
        self.poll(*room, session_id=None, tick=None, reported=marks)

    def poll(
        self,
        project_id: str,
        room_id: str,
        session_id: str | None,
        tick: int | None,
        reported: Sequence[PlaneEvent] = (),
    ) -> Session | None:
        """One poll of the room's active session (of `session_id`, when given). A timer of the
        loop's current generation (`tick`) arms the next one; any other poll only observes."""
        for _ in range(POLL_ATTEMPTS):
            active = self.repository.active(project_id, room_id)
            if active is None or (session_id is not None and active.session_id != session_id):
                return None
            try:
                return self._poll(active, tick, reported)
            except Conflict:
                continue  # a join or another poll wrote first: observe again
        raise Conflict(name="sessionId")

    def _poll(self, active: Session, tick: int | None, reported: Sequence[PlaneEvent]) -> Session:
        now = self.clock()
        try:
            room: Room | None = self.rooms(active.project_id, active.room_id)
        except NotFound:
            room = None
        if room is None or room.stage is None:
            after = sessions.end(active, EndReason.ROOM_DELETED, now)
        else:
            after = self._observed(active, room, reported, now)
        if after.active and tick is not None and tick == active.tick:
            limit = sessions.limit_at(after, room.settings.duration if room else None)
            delay = (
                sessions.POLL_SECONDS if limit is None else min(sessions.POLL_SECONDS, (limit - now).total_seconds())
            )
            after = after.model_copy(update={"tick": tick + 1})
            # Armed before the write: if the write fails, this message comes again and arms again
            # (the two timers are of one generation, and only the first to poll arms the next).
            self.timers().arm(after.project_id, after.room_id, after.session_id, tick + 1, delay)
        if after == active:
            return active
        self.repository.save(
            after.model_copy(update={"version": active.version + 1}), active, _events(active, after, now)
        )
        if not after.active:
            logger.info(
                "room session ended",
                extra={"projectId": after.project_id, "roomId": after.room_id, "sessionId": after.session_id},
            )
        return after

    def _observed(self, active: Session, room: Room, reported: Sequence[PlaneEvent], now: datetime) -> Session:
        assert room.stage is not None
        stages = self.stages()
        plane_session, sightings = stages.attendance(room.stage.arn, active.plane_sessions)
        session = sessions.with_plane_session(active, plane_session)
        found = list(reported)
        for sighting in sightings:
            attendance = session.attendance.get(sighting.participant_id)
            if not sighting.connected and attendance is not None and attendance.present:
                # Its exact leave and publish times (ListParticipants only says it is gone).
                found.extend(stages.participant_events(room.stage.arn, sighting.plane_session, sighting.participant_id))
        session = sessions.observe(session, sightings, found, now)
        if sessions.limit_reached(session, room.settings.duration, now):
            connected = {s.participant_id for s in sightings if s.connected}
            for attendance in session.attendance.values():
                if attendance.present and attendance.participant_id in connected:
                    stages.disconnect(room.stage.arn, attendance.participant_id, LIMIT_REASON)
            return sessions.end(session, EndReason.DURATION_LIMIT, now)
        if sessions.ending(session):
            return sessions.end(session, EndReason.EMPTY, now)
        return session


def _events(before: Session, after: Session, now: datetime) -> list[DomainEvent]:
    """What the change from `before` to `after` tells subscribers."""
    envelope = events.envelope(after.project_id, now)
    found: list[DomainEvent] = [
        events.RoomParticipantLeft(
            **events.envelope(after.project_id, now),
            roomId=after.room_id,
            sessionId=after.session_id,
            participantId=a.participant_id,
            userRef=a.user_ref,
            reason=(a.leave_reason or sessions.LeaveReason.LEFT).value,
        )
        for a in sessions.newly_left(before, after)
    ]
    if before.active and not after.active:
        assert after.end_reason is not None
        found.append(
            events.RoomSessionEnded(
                **envelope, roomId=after.room_id, sessionId=after.session_id, reason=after.end_reason.value
            )
        )
        found.append(
            events.RoomCdrReady(
                **events.envelope(after.project_id, now),
                roomId=after.room_id,
                sessionId=after.session_id,
                participants=len(after.attendance),
            )
        )
    return found
