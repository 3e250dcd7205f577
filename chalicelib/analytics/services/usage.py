"""Usage per project and day: counters fed by domain events, watch time from the event store,
bytes stored from the media and uploads buckets; the account resource and the daily usage event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from chalicelib.analytics.domain import queries, usage
from chalicelib.analytics.domain.errors import BroadcastNotOpen
from chalicelib.analytics.domain.usage import Count, Counter, Quota, Term, UsageDay
from chalicelib.analytics.ports import MediaStorage, ProjectDirectory, QueryExecutor, RoomSessions, UsageCounters
from chalicelib.core.clock import from_atom
from chalicelib.core.domain import events
from chalicelib.core.observability import logger


@dataclass(frozen=True)
class Account:
    term: Term
    quota: Quota
    # The term so far, summed (stored bytes: measured now).
    usage: UsageDay


class UsageService:
    def __init__(
        self,
        counters: UsageCounters,
        executor: QueryExecutor,
        storage: MediaStorage,
        projects: ProjectDirectory,
        rooms: RoomSessions,
        now: Callable[[], datetime],
        quota_minutes: int = 0,
    ) -> None:
        self.counters = counters
        self.rooms = rooms
        self.executor = executor
        self.storage = storage
        self.projects = projects
        self.now = now
        self.quota_minutes = quota_minutes

    def count(self, event: events.DomainEvent) -> bool:
        """Counts one domain event; False when it counts nothing (or was counted already)."""
        if isinstance(event, events.VideoReady):
            if not event.encoded_seconds:
                return False
            day = usage.day_of(from_atom(event.emitted_at))
            return self.counters.count(
                Count(event.project_id, event.event_id, Counter.ENCODED, {day: event.encoded_seconds})
            )
        if isinstance(event, events.LiveStreamBroadcastStarted):
            self.counters.open_broadcast(event.project_id, event.live_stream_id, from_atom(event.emitted_at))
            return False
        if isinstance(event, events.LiveStreamBroadcastEnded):
            started = self.counters.broadcast_start(event.project_id, event.live_stream_id)
            if started is None:
                # Counted already (its start went with the count), or its start is late: retried.
                if self.counters.counted(event.project_id, event.event_id):
                    return False
                raise BroadcastNotOpen(name="liveStreamId")
            cut = usage.seconds_by_day(started, from_atom(event.emitted_at))
            count = Count(event.project_id, event.event_id, Counter.LIVE, cut)
            return self.counters.count(count, closing=event.live_stream_id)
        if isinstance(event, events.RoomCdrReady):
            return self._count_room(event)
        return False

    def _count_room(self, event: events.RoomCdrReady) -> bool:
        """A room session's participant minutes, cut at UTC midnights: the session is written whole
        with this event, so its stretches are final when it arrives."""
        stretches = self.rooms.connected(event.project_id, event.session_id)
        if stretches is None:
            # Gone (its retention, or its room's removal, went first): nothing left to count.
            logger.warning("usage room session missing", extra={"sessionId": event.session_id})
            return False
        by_day = usage.stretches_by_day(stretches)
        if not by_day:
            return False
        return self.counters.count(Count(event.project_id, event.event_id, Counter.ROOM, by_day))

    def days(self, project_id: str, first: date, last: date) -> list[UsageDay]:
        wanted = usage.days(first, last)
        counted = self.counters.days(project_id, wanted[0], wanted[-1])
        return usage.merge(counted, self._watched(project_id, wanted[0], wanted[-1]), wanted)

    def account(self, project_id: str) -> Account:
        now = self.now()
        term = usage.Term.of(now)
        rows = self.days(project_id, term.start, now.date())
        stored = self.storage.stored_bytes(project_id)
        summed = usage.total(rows).model_copy(update={"stored_bytes": stored})
        return Account(term, usage.quota(rows, self.quota_minutes), summed)

    def report(self, day: str) -> int:
        """The daily usage event of `day` for every project, once per project and day (a rerun
        emits nothing twice). Bytes stored are measured when the report runs."""
        now = self.now()
        reported = 0
        for project_id in self.projects.project_ids():
            stored = self.storage.stored_bytes(project_id)
            self.counters.measure_storage(project_id, day, stored)
            row = self.days(project_id, date.fromisoformat(day), date.fromisoformat(day))[0]
            event = events.UsageDailyReady(
                **events.envelope(project_id, now),
                day=day,
                encodedMinutes=round(row.encoded_seconds / 60, 3),
                storedBytes=stored,
                watchedMinutes=round(row.watched_seconds / 60, 3),
                deliveredBytes=row.delivered_bytes,
                liveMinutes=round(row.live_seconds / 60, 3),
                roomParticipantMinutes=round(row.room_seconds / 60, 3),
            )
            reported += self.counters.report(event)
        return reported

    def _watched(self, project_id: str, first: str, last: str) -> dict[str, dict[str | None, float]]:
        watched: dict[str, dict[str | None, float]] = {}
        for row in self.executor.rows(queries.usage_sql(project_id, first, last)):
            day, seconds = row["day"], row["watched"]
            if day is None or seconds is None:
                continue
            watched.setdefault(day, {})[row["rendition"]] = float(seconds)
        return watched
