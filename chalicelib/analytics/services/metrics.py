"""api.video's /data answers: one query from the builder, run by the executor (Athena on AWS,
DuckDB on the devstack), scoped to the caller's project."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.analytics.domain import data, queries
from chalicelib.analytics.domain.data import Special, Timeframe
from chalicelib.analytics.domain.queries import Dimension, Filters, Interval, Measure, Scope
from chalicelib.analytics.ports import QueryExecutor, TaggedMedia

Number = int | float
# Timeseries buckets with no events answer 0, except ratios and percentiles (no impressions: no
# rate; no start: no startup time).
_NO_ZERO_FILL = frozenset(
    {
        Measure.PLAY_RATE,
        Measure.STARTUP_TIME_P50,
        Measure.STARTUP_TIME_P95,
        Measure.REBUFFER_PERCENTAGE,
        Measure.REBUFFER_FREQUENCY,
        Measure.PLAYBACK_FAILURE_RATE,
        Measure.EXITS_BEFORE_START_RATE,
    }
)


class MetricsService:
    def __init__(
        self, executor: QueryExecutor, now: Callable[[], datetime], tagged: TaggedMedia, rollup: bool = False
    ) -> None:
        self.executor = executor
        self.now = now
        self.tagged = tagged
        self.rollup = rollup  # the event store has the hourly rollup (queries.ROLLUP_TABLE)

    def _filters(self, project_id: str, filters: Filters) -> Filters:
        """`filterBy[tag]` as the project's videos carrying the tag now: the events keep no tags,
        so a tag added to a video counts its past plays too, as the rollup's rows do."""
        if filters.tag is None:
            return filters
        return data.tagged(filters, self.tagged.media_ids(project_id, filters.tag))

    def _sql(
        self,
        measure: Measure,
        scope: Scope,
        view_seconds: int,
        dimension: Dimension | None = None,
        interval: Interval | None = None,
    ) -> str:
        """The rollup where the query's grain allows it (and raw events for the rest), else raw."""
        now_ms = int(self.now().timestamp() * 1000)
        hours = queries.rolled_hours(measure, scope, now_ms, interval) if self.rollup else None
        if hours is not None:
            return queries.rolled_sql(measure, scope, hours, interval, dimension)
        if dimension is not None:
            return queries.breakdown_sql(measure, dimension, scope, view_seconds)
        if interval is not None:
            return queries.timeseries_sql(measure, interval, scope, view_seconds)
        return queries.measure_sql(measure, scope, view_seconds=view_seconds)

    def aggregate(
        self, project_id: str, what: Measure | Special, frame: Timeframe, filters: Filters, view_seconds: int
    ) -> Number | None:
        filters = self._filters(project_id, filters)
        if what == Special.CCV_LIVE:
            sql = queries.live_viewers_sql(project_id, int(self.now().timestamp() * 1000), filters)
        elif what == Special.PLAY_TOTAL:
            sql = self._sql(Measure.PLAYS, Scope(project_id, None, None, filters), view_seconds)
        else:
            sql = self._sql(what, self._scope(project_id, frame, filters), view_seconds)
        rows = self.executor.rows(sql)
        value = _number(rows[0].get("value")) if rows else None
        return value if value is not None or what in _NO_ZERO_FILL else 0

    def breakdown(
        self,
        project_id: str,
        what: Measure | Special,
        dimension: Dimension,
        frame: Timeframe,
        filters: Filters,
        view_seconds: int,
    ) -> list[tuple[str, Number | None]]:
        filters = self._filters(project_id, filters)
        if what == Special.PLAY_TOTAL:
            measure, scope = Measure.PLAYS, Scope(project_id, None, None, filters)
        else:
            measure, scope = _measure(what), self._scope(project_id, frame, filters)
        rows = self.executor.rows(self._sql(measure, scope, view_seconds, dimension=dimension))
        return [(str(row.get("dimension") or ""), _number(row.get("value"))) for row in rows]

    def timeseries(
        self,
        project_id: str,
        what: Measure | Special,
        interval: Interval,
        frame: Timeframe,
        filters: Filters,
        view_seconds: int,
    ) -> list[tuple[int, Number | None]]:
        """One point per interval of the timeframe, oldest first."""
        filters = self._filters(project_id, filters)
        measure = Measure.PLAYS if what == Special.PLAY_TOTAL else _measure(what)
        scope = self._scope(project_id, frame, filters)
        rows = self.executor.rows(self._sql(measure, scope, view_seconds, interval=interval))
        found = {int(float(row["dimension"] or 0)): _number(row.get("value")) for row in rows}
        step = interval.milliseconds
        first = frame.start_ms - frame.start_ms % step
        zero: Number | None = None if measure in _NO_ZERO_FILL else 0
        return [(at, found.get(at, zero)) for at in range(first, frame.end_ms, step)]

    @staticmethod
    def _scope(project_id: str, frame: Timeframe, filters: Filters) -> Scope:
        return Scope(project_id, frame.start_ms, frame.end_ms, filters)


def _measure(what: Measure | Special) -> Measure:
    assert isinstance(what, Measure), what
    return what


def _number(text: str | None) -> Number | None:
    if text is None or text == "":
        return None
    value = float(text)
    return int(value) if value.is_integer() else value
