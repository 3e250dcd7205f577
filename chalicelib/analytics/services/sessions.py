"""api.video's session views: a media's playback sessions over a period and one session's events,
through the same query builder and executor as /data, in the caller's project only."""

from __future__ import annotations

from chalicelib.analytics.domain import queries
from chalicelib.analytics.domain.beacons import MediaType, media_type_of
from chalicelib.analytics.domain.queries import Filters, Scope
from chalicelib.analytics.domain.sessions import (
    LISTED_EVENTS,
    Period,
    SessionEvent,
    SessionRow,
    metadata_fragment,
    session_event,
)
from chalicelib.analytics.ports import MediaDirectory, QueryExecutor
from chalicelib.core.domain.errors import NotFound
from chalicelib.core.domain.pagination import Page, PageRequest

_ID_NAMES = {MediaType.VIDEO: "videoId", MediaType.LIVE_STREAM: "liveStreamId"}


class SessionsService:
    def __init__(self, executor: QueryExecutor, media: MediaDirectory) -> None:
        self.executor = executor
        self.media = media

    def media_sessions(
        self,
        project_id: str,
        media_type: MediaType,
        media_id: str,
        period: Period,
        metadata: dict[str, str],
        page: PageRequest,
    ) -> Page[SessionRow]:
        """A video's or live stream's sessions; another project's media (or another kind) is 404."""
        if media_type_of(media_id) != media_type or self.media.project_of(media_id) != project_id:
            raise NotFound(name=_ID_NAMES[media_type])
        scope = Scope(project_id, period.start_ms, period.end_ms, Filters(media_ids=(media_id,)))
        fragments = [metadata_fragment(key, value) for key, value in sorted(metadata.items())]
        offset = (page.current_page - 1) * page.page_size
        rows = self.executor.rows(queries.media_sessions_sql(scope, fragments, offset, page.page_size))
        if rows:
            total = int(rows[0]["total"] or 0)
        else:
            counted = self.executor.rows(queries.media_sessions_count_sql(scope, fragments)) if offset else []
            total = int(counted[0]["total"] or 0) if counted else 0
        return Page([_session(row) for row in rows], page.current_page, page.page_size, total)

    def events(self, project_id: str, session_id: str, page: PageRequest) -> Page[SessionEvent]:
        """A session's events in order; a session the project does not have is 404."""
        kinds = list(LISTED_EVENTS)
        offset = (page.current_page - 1) * page.page_size
        rows = self.executor.rows(queries.session_events_sql(project_id, session_id, kinds, offset, page.page_size))
        if rows:
            total = int(rows[0]["total"] or 0)
        else:
            counted = self.executor.rows(queries.session_count_sql(project_id, session_id, kinds))
            if not counted or not int(counted[0]["found"] or 0):
                raise NotFound(name="sessionId")
            total = int(counted[0]["total"] or 0)
        listed = [
            session_event(str(row["event"]), _int(row["ts"]), float(row["playhead"] or 0), _float(row["seek_from"]))
            for row in rows
        ]
        return Page(listed, page.current_page, page.page_size, total)


def _session(row: dict[str, str | None]) -> SessionRow:
    return SessionRow(
        session_id=str(row["session_id"]),
        loaded_ms=_int(row["loaded"]),
        ended_ms=_int(row["ended"]),
        referrer=row["referrer"] or "",
        country=row["country"] or "",
        device_type=row["device_type"] or "",
        operating_system=row["operating_system"] or "",
        browser=row["browser"] or "",
        metadata=row["metadata"],
    )


def _int(text: str | None) -> int:
    return int(float(text or 0))


def _float(text: str | None) -> float | None:
    return None if text is None or text == "" else float(text)
