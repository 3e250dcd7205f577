"""The one query builder of the event store: api.video's /data questions as SQL that Athena
(Trino) and DuckDB both run unchanged, always scoped to one project's partition.

Portable SQL only: no engine-specific functions, integer arithmetic for time buckets (`ts - ts %
n`: `/` divides integers in Trino but not in DuckDB), `SUM(CASE ...)` for conditional counts, and
string literals in standard SQL quoting (neither engine reads backslash escapes in them). Every
value that is not ours (filter values) is a quoted literal; identifiers are never taken from
input."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from chalicelib.analytics.domain.beacons import EventType

TABLE = "events"
# The hourly rollup (below): partial sums per project, media, viewer and hour.
ROLLUP_TABLE = "hourly"
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
# api.video: `live` is the peak of concurrent viewers over the last 20 seconds.
LIVE_WINDOW_MS = 20_000


class Measure(StrEnum):
    """What a query computes: api.video's metric and aggregation pairs and breakdown metrics."""

    PLAYS = "plays"
    STARTS = "starts"
    ENDS = "ends"
    IMPRESSIONS = "impressions"
    PLAY_RATE = "play-rate"
    IMPRESSION_TIME_SUM = "impression-time-sum"
    IMPRESSION_TIME_AVERAGE = "impression-time-average"
    WATCH_TIME_SUM = "watch-time-sum"
    WATCH_TIME_AVERAGE = "watch-time-average"
    VIEWS = "views"
    # api.video's `unique` views: a viewer is a session (no viewer id is kept), counted once a day.
    UNIQUE_VIEWS = "unique-views"
    CCV_PEAK = "ccv-peak"
    CCV_AVERAGE = "ccv-average"
    # Quality of experience (Videoplane extension, Mux Data's definitions).
    STARTUP_TIME_P50 = "startup-time-p50"
    STARTUP_TIME_P95 = "startup-time-p95"
    REBUFFER_PERCENTAGE = "rebuffer-percentage"
    REBUFFER_FREQUENCY = "rebuffer-frequency"
    PLAYBACK_FAILURE_RATE = "playback-failure-rate"
    EXITS_BEFORE_START_RATE = "exits-before-start-rate"


# Startup time percentiles: the nearest rank of the start events' startup_ms.
_PERCENTILES = {Measure.STARTUP_TIME_P50: 0.5, Measure.STARTUP_TIME_P95: 0.95}


def _ratio(numerator: str, denominator: str) -> str:
    return f"CAST({numerator} AS DOUBLE) / CAST(NULLIF({denominator}, 0) AS DOUBLE)"


# Measures over sessions (one row per session and group, below): a session that requested play
# is a "view attempt"; it failed with an error, and exited before start without a start event.
# Watch time includes stalls (the beacon script counts playing and stalled time), so the rebuffer
# percentage is stalled / watched and the frequency stalls per minute watched.
_SESSION_EXPRESSIONS = {
    Measure.REBUFFER_PERCENTAGE: _ratio("SUM(stalled)", "SUM(watched)"),
    Measure.REBUFFER_FREQUENCY: _ratio("SUM(stalls) * 60", "SUM(watched)"),
    Measure.PLAYBACK_FAILURE_RATE: _ratio(
        "SUM(CASE WHEN plays > 0 AND errors > 0 THEN 1 ELSE 0 END)", "SUM(CASE WHEN plays > 0 THEN 1 ELSE 0 END)"
    ),
    Measure.EXITS_BEFORE_START_RATE: _ratio(
        "SUM(CASE WHEN plays > 0 AND starts = 0 THEN 1 ELSE 0 END)", "SUM(CASE WHEN plays > 0 THEN 1 ELSE 0 END)"
    ),
}


def _count(event: EventType) -> str:
    return f"SUM(CASE WHEN event = '{event.value}' THEN 1 ELSE 0 END)"


# Measures computed straight from the events of the timeframe.
_EVENT_EXPRESSIONS = {
    Measure.PLAYS: _count(EventType.PLAY),
    Measure.STARTS: _count(EventType.START),
    Measure.ENDS: _count(EventType.END),
    Measure.IMPRESSIONS: _count(EventType.IMPRESSION),
    Measure.PLAY_RATE: (
        f"CAST({_count(EventType.PLAY)} AS DOUBLE) / CAST(NULLIF({_count(EventType.IMPRESSION)}, 0) AS DOUBLE)"
    ),
    Measure.IMPRESSION_TIME_SUM: f"SUM(CASE WHEN event = '{EventType.START.value}' THEN startup_ms END)",
    Measure.IMPRESSION_TIME_AVERAGE: (
        f"AVG(CAST(CASE WHEN event = '{EventType.START.value}' THEN startup_ms END AS DOUBLE))"
    ),
    Measure.WATCH_TIME_SUM: "SUM(watched)",
    Measure.WATCH_TIME_AVERAGE: (
        "SUM(watched) / CAST(NULLIF(COUNT(DISTINCT CASE WHEN watched > 0 THEN session_id END), 0) AS DOUBLE)"
    ),
}


class Dimension(StrEnum):
    """api.video's breakdowns, by their column in the event store."""

    MEDIA_ID = "media-id"
    MEDIA_TYPE = "media-type"
    CONTINENT = "continent"
    COUNTRY = "country"
    DEVICE_TYPE = "device-type"
    OPERATING_SYSTEM = "operating-system"
    BROWSER = "browser"

    @property
    def column(self) -> str:
        return self.value.replace("-", "_")


class Interval(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"

    @property
    def milliseconds(self) -> int:
        return {"minute": MINUTE_MS, "hour": 60 * MINUTE_MS, "day": 24 * 60 * MINUTE_MS}[self.value]


@dataclass(frozen=True)
class Filters:
    """api.video's `filterBy`; an empty tuple filters nothing."""

    media_ids: tuple[str, ...] = ()
    media_type: str | None = None
    continents: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    device_types: tuple[str, ...] = ()
    operating_systems: tuple[str, ...] = ()
    browsers: tuple[str, ...] = ()
    referrers: tuple[str, ...] = ()
    # `filterBy[tag]`: the tag as asked, then the project's media carrying it (the service looks
    # them up through its port; an empty tuple matches nothing, None filters nothing).
    tag: str | None = None
    tagged_media: tuple[str, ...] | None = None

    def conditions(self) -> list[str]:
        lists = (
            ("media_id", self.media_ids),
            ("media_type", (self.media_type,) if self.media_type else ()),
            ("continent", self.continents),
            ("country", self.countries),
            ("device_type", self.device_types),
            ("operating_system", self.operating_systems),
            ("browser", self.browsers),
            ("referrer", self.referrers),
        )
        found = [f"{column} IN ({', '.join(literal(v) for v in values)})" for column, values in lists if values]
        if self.tag is not None and self.tagged_media is None:
            raise ValueError("a tag filter whose media were not looked up")
        if self.tagged_media is not None:
            tagged = self.tagged_media
            found.append(f"media_id IN ({', '.join(literal(v) for v in tagged)})" if tagged else "1 = 0")
        return found


@dataclass(frozen=True)
class Scope:
    """One project's events in [start_ms, end_ms) (None: every retained day), filtered."""

    project_id: str
    start_ms: int | None
    end_ms: int | None
    filters: Filters = field(default_factory=Filters)

    def where(self) -> str:
        conditions = [f"project = {literal(self.project_id)}"]
        if self.start_ms is not None:
            # The partition column first, so Athena reads only the days in the timeframe.
            conditions.append(f"dt >= {literal(_day(self.start_ms))}")
            conditions.append(f"ts >= {int(self.start_ms)}")
        if self.end_ms is not None:
            conditions.append(f"dt <= {literal(_day(self.end_ms))}")
            conditions.append(f"ts < {int(self.end_ms)}")
        return " AND ".join(conditions + self.filters.conditions())


def literal(value: str) -> str:
    """A string as a standard SQL literal. Control characters never reach a query (the API
    refuses them), and are refused here too, so no input can end the literal."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("control character in a query literal")
    return "'" + value.replace("'", "''") + "'"


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def measure_sql(measure: Measure, scope: Scope, group: str | None = None, view_seconds: int = 5) -> str:
    """One row per group (`dimension`, `value`), or a single `value` row without a group.
    `group` is one of our own expressions (a Dimension's column or a time bucket), never input."""
    where = scope.where()
    select_group = f"{group} AS dimension, " if group else ""
    outer_group = " GROUP BY dimension" if group else ""
    if measure in _EVENT_EXPRESSIONS:
        group_by = f" GROUP BY {group}" if group else ""
        return f"SELECT {select_group}{_EVENT_EXPRESSIONS[measure]} AS value FROM {TABLE} WHERE {where}{group_by}"
    keep = "dimension, " if group else ""
    if measure in _PERCENTILES:
        return _percentile_sql(_PERCENTILES[measure], where, group)
    if measure in _SESSION_EXPRESSIONS:
        inner = (
            f"SELECT {select_group}session_id, {_count(EventType.PLAY)} AS plays, {_count(EventType.START)} AS starts, "
            f"{_count(EventType.ERROR)} AS errors, {_count(EventType.BUFFER_START)} AS stalls, "
            f"SUM(CASE WHEN event = '{EventType.BUFFER_END.value}' THEN watched ELSE 0 END) AS stalled, "
            f"SUM(watched) AS watched FROM {TABLE} WHERE {where} GROUP BY {group + ', ' if group else ''}session_id"
        )
        return f"SELECT {keep}{_SESSION_EXPRESSIONS[measure]} AS value FROM ({inner}) AS sessions{outer_group}"
    if measure in (Measure.VIEWS, Measure.UNIQUE_VIEWS):
        # A view: a session watched at least `view_seconds` (api.video's viewDuration); a unique
        # view: a session with a view in a UTC day, once that day (api.video: unique is per day).
        per_day = "dt, " if measure == Measure.UNIQUE_VIEWS else ""
        inner = (
            f"SELECT {select_group}session_id, SUM(watched) AS watched FROM {TABLE} WHERE {where} "
            f"GROUP BY {group + ', ' if group else ''}{per_day}session_id"
        )
        value = f"SUM(CASE WHEN watched >= {int(view_seconds)} THEN 1 ELSE 0 END)"
        return f"SELECT {keep}{value} AS value FROM ({inner}) AS sessions{outer_group}"
    # Concurrent viewers: the sessions that sent anything in each minute, then their peak or mean.
    inner = (
        f"SELECT {select_group}ts - ts % {MINUTE_MS} AS minute, COUNT(DISTINCT session_id) AS viewers "
        f"FROM {TABLE} WHERE {where} GROUP BY {group + ', ' if group else ''}ts - ts % {MINUTE_MS}"
    )
    value = "MAX(viewers)" if measure == Measure.CCV_PEAK else "AVG(CAST(viewers AS DOUBLE))"
    return f"SELECT {keep}{value} AS value FROM ({inner}) AS minutes{outer_group}"


def _percentile_sql(fraction: float, where: str, group: str | None) -> str:
    """The nearest-rank percentile of startup times (window functions: no engine's own percentile
    function, which Trino and DuckDB name differently)."""
    partition = f"PARTITION BY {group} " if group else ""
    select_group = f"{group} AS dimension, " if group else ""
    inner = (
        f"SELECT {select_group}startup_ms, ROW_NUMBER() OVER ({partition}ORDER BY startup_ms) AS nth, "
        f"COUNT(*) OVER ({partition.strip()}) AS total FROM {TABLE} WHERE {where} "
        f"AND event = '{EventType.START.value}' AND startup_ms IS NOT NULL"
    )
    keep = "dimension, " if group else ""
    outer_group = " GROUP BY dimension" if group else ""
    return (
        f"SELECT {keep}MIN(startup_ms) AS value FROM ({inner}) AS starts "
        f"WHERE nth >= CEIL({fraction} * total){outer_group}"
    )


def live_viewers_sql(project_id: str, now_ms: int, filters: Filters) -> str:
    """Sessions seen in the last LIVE_WINDOW_MS that have not ended: api.video's ccv `live`."""
    scope = Scope(project_id, now_ms - LIVE_WINDOW_MS, now_ms + 1, filters)
    return (
        f"SELECT COUNT(DISTINCT session_id) AS value FROM {TABLE} WHERE {scope.where()} "
        f"AND event <> '{EventType.END.value}'"
    )


def breakdown_sql(measure: Measure, dimension: Dimension, scope: Scope, view_seconds: int = 5) -> str:
    return measure_sql(measure, scope, dimension.column, view_seconds)


def timeseries_sql(measure: Measure, interval: Interval, scope: Scope, view_seconds: int = 5) -> str:
    return measure_sql(measure, scope, f"ts - ts % {interval.milliseconds}", view_seconds)


def every_query(scope: Scope) -> Sequence[str]:
    """Every shape the builder makes, for the test that runs them all in DuckDB."""
    queries: list[str] = [live_viewers_sql(scope.project_id, scope.end_ms or 0, scope.filters)]
    for measure in Measure:
        queries.append(measure_sql(measure, scope))
        queries.extend(breakdown_sql(measure, d, scope) for d in Dimension)
        queries.extend(timeseries_sql(measure, i, scope) for i in Interval)
    return queries


# The rollup: per project, day, hour, media and viewer (every breakdown's column but the
# referrer), the partial sums the additive measures are made of. Its rows are partial: the same key
# may appear more than once (the devstack rolls each file it reads), so readers always SUM.
ROLLUP_DIMENSIONS = tuple(d.column for d in Dimension)
_START = f"event = '{EventType.START.value}'"
# partial column → its expression over raw events
_PARTIALS = {
    "plays": _count(EventType.PLAY),
    "starts": _count(EventType.START),
    "ends": _count(EventType.END),
    "impressions": _count(EventType.IMPRESSION),
    "errors": _count(EventType.ERROR),
    "stalls": _count(EventType.BUFFER_START),
    "stalled": f"SUM(CASE WHEN event = '{EventType.BUFFER_END.value}' THEN watched ELSE 0 END)",
    "watched": "SUM(watched)",
    "startups": f"SUM(CASE WHEN {_START} AND startup_ms IS NOT NULL THEN 1 ELSE 0 END)",
    "startup_ms": f"SUM(CASE WHEN {_START} THEN startup_ms END)",
}
ROLLUP_COLUMNS: tuple[tuple[str, str], ...] = (
    *((column, "string") for column in ROLLUP_DIMENSIONS),
    ("hour", "bigint"),
    *((name, "double" if name in ("stalled", "watched") else "bigint") for name in _PARTIALS),
)
# The measures the rollup answers, over the partial columns (the same answers as the raw queries:
# tests/unit/test_analytics_rollup.py). Session measures (views, ccv, failures, exits, the average
# watch time per session) and startup percentiles need the raw events.
_ROLLED = {
    Measure.PLAYS: "SUM(plays)",
    Measure.STARTS: "SUM(starts)",
    Measure.ENDS: "SUM(ends)",
    Measure.IMPRESSIONS: "SUM(impressions)",
    Measure.PLAY_RATE: _ratio("SUM(plays)", "SUM(impressions)"),
    Measure.IMPRESSION_TIME_SUM: "SUM(startup_ms)",
    Measure.IMPRESSION_TIME_AVERAGE: _ratio("SUM(startup_ms)", "SUM(startups)"),
    Measure.WATCH_TIME_SUM: "SUM(watched)",
    Measure.REBUFFER_PERCENTAGE: _ratio("SUM(stalled)", "SUM(watched)"),
    Measure.REBUFFER_FREQUENCY: _ratio("SUM(stalls) * 60", "SUM(watched)"),
}
# Hours end this long before the rollup holds them (AWS: Firehose's buffer, the beacons' 60 s of
# client spacing, the schedule's minute); what is newer comes from the raw events.
ROLLUP_DELAY_MS = 15 * MINUTE_MS


def rollup_select(where: str = "true") -> str:
    """The rollup's rows of the events matching `where`, partition columns last (Athena's INSERT
    INTO takes them last; the devstack's plane runs the same SELECT over each file it reads)."""
    keys = ", ".join(ROLLUP_DIMENSIONS)
    partials = ", ".join(f"{expression} AS {name}" for name, expression in _PARTIALS.items())
    hour = f"ts - ts % {HOUR_MS}"
    return (
        f"SELECT {keys}, {hour} AS hour, {partials}, project, dt FROM {TABLE} WHERE {where} "
        f"GROUP BY project, dt, {keys}, {hour}"
    )


def rollup_insert_sql(hour_ms: int) -> str:
    """Athena: the rollup of one hour's events (the schedule runs it for the hour before last)."""
    day = literal(_day(hour_ms))
    where = f"dt = {day} AND ts >= {int(hour_ms)} AND ts < {int(hour_ms) + HOUR_MS}"
    return f"INSERT INTO {ROLLUP_TABLE} {rollup_select(where)}"


def rolled_hours(
    measure: Measure, scope: Scope, now_ms: int, interval: Interval | None = None
) -> tuple[int, int] | None:
    """The whole hours [first, end) of the scope the rollup answers, or None: raw events only
    (a measure or filter the rollup cannot answer, minute buckets, or no complete rolled hour)."""
    if measure not in _ROLLED or scope.filters.referrers or interval == Interval.MINUTE:
        return None
    start = scope.start_ms or 0
    first = start + (-start) % HOUR_MS
    rolled = now_ms - ROLLUP_DELAY_MS
    end = min(rolled, scope.end_ms if scope.end_ms is not None else rolled)
    end -= end % HOUR_MS
    return (first, end) if first < end else None


def rolled_sql(measure: Measure, scope: Scope, hours: tuple[int, int], interval: Interval | None = None,
               dimension: Dimension | None = None) -> str:  # fmt: skip
    """`measure_sql`'s answer, with the hours in `hours` read from the rollup and the rest of the
    scope (a partial first hour, the hours not rolled yet) from the raw events."""
    first, end = hours
    rolled_where = [f"project = {literal(scope.project_id)}", f"dt >= {literal(_day(first))}",
                    f"dt <= {literal(_day(end - 1))}", f"hour >= {first}", f"hour < {end}",
                    *scope.filters.conditions()]  # fmt: skip
    raw_where = f"{scope.where()} AND (ts < {first} OR ts >= {end})"

    def group(time_column: str) -> str:
        if interval is not None:
            return f"{time_column} - {time_column} % {interval.milliseconds}"
        return dimension.column if dimension is not None else ""

    def part(source: str, time_column: str, columns: dict[str, str], where: str) -> str:
        keyed = group(time_column)
        select = f"{keyed} AS dimension, " if keyed else ""
        sums = ", ".join(f"{expression} AS {name}" for name, expression in columns.items())
        return f"SELECT {select}{sums} FROM {source} WHERE {where}" + (f" GROUP BY {keyed}" if keyed else "")

    rolled = part(ROLLUP_TABLE, "hour", {name: f"SUM({name})" for name in _PARTIALS}, " AND ".join(rolled_where))
    raw = part(TABLE, "ts", _PARTIALS, raw_where)
    grouped = interval is not None or dimension is not None
    keep, outer_group = ("dimension, ", " GROUP BY dimension") if grouped else ("", "")
    return f"SELECT {keep}{_ROLLED[measure]} AS value FROM ({rolled} UNION ALL {raw}) AS parts{outer_group}"


def usage_sql(project_id: str, first_day: str, last_day: str) -> str:
    """Seconds watched per UTC day and rendition over [first_day, last_day]: each session's watch
    time of a day at the last rendition it reported that day (NULL: none reported). Reads only the
    days' partitions. `max_by` is in both Trino and DuckDB."""
    where = f"project = {literal(project_id)} AND dt >= {literal(first_day)} AND dt <= {literal(last_day)}"
    sessions = (
        "SELECT dt, session_id, SUM(watched) AS watched, "
        "max_by(rendition, CASE WHEN rendition IS NOT NULL THEN ts END) AS rendition "
        f"FROM {TABLE} WHERE {where} GROUP BY dt, session_id"
    )
    return (
        f"SELECT dt AS day, rendition, SUM(watched) AS watched FROM ({sessions}) AS sessions "
        "GROUP BY dt, rendition HAVING SUM(watched) > 0"
    )


def rollup_hour(now_ms: int) -> int:
    """The hour the schedule rolls up: the last one that has ended."""
    return now_ms - now_ms % HOUR_MS - HOUR_MS


# -- session views (api.video's retired /analytics routes) ---------------------------------------
# The columns a session is listed with: its first and last event in the period and the viewer's
# attributes (the same on every event of a session: one page load, one User-Agent).
_SESSION_COLUMNS = (
    "session_id, MIN(ts) AS loaded, MAX(ts) AS ended, MAX(referrer) AS referrer, MAX(country) AS country, "
    "MAX(device_type) AS device_type, MAX(operating_system) AS operating_system, MAX(browser) AS browser, "
    "MAX(metadata) AS metadata"
)


def _like(text: str) -> str:
    """`text` as a LIKE pattern that matches it literally (escape character `!`)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _has_pair(fragment: str) -> str:
    """The `metadata` column holds the pair: its fragment after `{` or `,` and before `,` or `}`."""
    patterns = [f"%{before}{_like(fragment)}{after}%" for before in "{," for after in ",}"]
    return "(" + " OR ".join(f"metadata LIKE {literal(p)} ESCAPE '!'" for p in patterns) + ")"


def _page(offset: int, limit: int) -> str:
    # OFFSET before LIMIT: Trino takes only this order (DuckDB both).
    return f" OFFSET {int(offset)} LIMIT {int(limit)}"


def _media_sessions(scope: Scope, metadata_fragments: Sequence[str]) -> str:
    having = " AND ".join(f"MAX(CASE WHEN {_has_pair(f)} THEN 1 ELSE 0 END) = 1" for f in metadata_fragments)
    return f"SELECT {_SESSION_COLUMNS} FROM {TABLE} WHERE {scope.where()} GROUP BY session_id" + (
        f" HAVING {having}" if having else ""
    )


def media_sessions_sql(scope: Scope, metadata_fragments: Sequence[str], offset: int, limit: int) -> str:
    """One page of the sessions of the scope (a media id filter, a period), oldest first, each row
    with `total`: how many sessions there are in all. A session is listed when one of its events in
    the period carries every metadata pair."""
    return (
        "SELECT session_id, loaded, ended, referrer, country, device_type, operating_system, browser, metadata, "
        f"COUNT(*) OVER () AS total FROM ({_media_sessions(scope, metadata_fragments)}) AS sessions "
        f"ORDER BY loaded, session_id{_page(offset, limit)}"
    )


def media_sessions_count_sql(scope: Scope, metadata_fragments: Sequence[str]) -> str:
    """How many sessions `media_sessions_sql` pages through (asked only for a page past the end)."""
    return f"SELECT COUNT(*) AS total FROM ({_media_sessions(scope, metadata_fragments)}) AS sessions"


def _session_where(project_id: str, session_id: str) -> str:
    return f"project = {literal(project_id)} AND session_id = {literal(session_id)}"


def _kinds(kinds: Sequence[str]) -> str:
    return f"event IN ({', '.join(literal(kind) for kind in kinds)})"


def session_events_sql(project_id: str, session_id: str, kinds: Sequence[str], offset: int, limit: int) -> str:
    """One page of a session's events of `kinds`, in order, each row with `total`. Every retained
    day of the project is read: a session id does not tell its day."""
    return (
        f"SELECT event, ts, playhead, seek_from, COUNT(*) OVER () AS total FROM {TABLE} "
        f"WHERE {_session_where(project_id, session_id)} AND {_kinds(kinds)} "
        f"ORDER BY ts, received, event{_page(offset, limit)}"
    )


def session_count_sql(project_id: str, session_id: str, kinds: Sequence[str]) -> str:
    """Whether the project has the session (`found`: its events of any kind) and how many of its
    events `session_events_sql` pages through (asked only when a page came back empty)."""
    return (
        f"SELECT COUNT(*) AS found, SUM(CASE WHEN {_kinds(kinds)} THEN 1 ELSE 0 END) AS total FROM {TABLE} "
        f"WHERE {_session_where(project_id, session_id)}"
    )
