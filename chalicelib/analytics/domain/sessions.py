"""api.video's retired session views (research A1: `/analytics/videos/{videoId}`,
`/analytics/live-streams/{liveStreamId}`, `/analytics/sessions/{sessionId}/events`): the `period`
and `metadata` they take, and the sessions and events they answer, from event store rows. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chalicelib.analytics.domain.beacons import MAX_METADATA, MAX_METADATA_KEY, MAX_METADATA_VALUE, EventType
from chalicelib.analytics.domain.data import invalid_query

_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?|-W(\d{2}))?$")
# The shape of `period` (the calendar is checked by period_of), for the query's description.
PERIOD_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?|-W\d{2})?(/\d{4}(-\d{2}(-\d{2})?|-W\d{2})?)?$"
PERIOD_DETAIL = (
    "Period must be a day (2018-01-01), a week (2018-W01), a month (2018-01), a year (2018) or a range of"
    " them (2018-01-01/2018-01-15)."
)
# api.video's session event types (A1), from ours; the others (start, buffering, renditions,
# errors, heartbeats) have no name there and stay in /data.
LISTED_EVENTS = {
    EventType.IMPRESSION.value: "ready",
    EventType.PLAY.value: "play",
    EventType.PAUSE.value: "pause",
    EventType.RESUME.value: "resume",
    EventType.SEEK.value: "seek",
    EventType.END.value: "end",
}


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC."""

    start: datetime
    end: datetime

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)


def period_of(value: str) -> Period:
    """api.video's `period`: a day, an ISO week, a month, a year, or `first/last` of those."""
    first, ranged, last = value.partition("/")
    start = _bounds(first)[0]
    end = _bounds(last if ranged else first)[1]
    if end <= start:
        raise invalid_query("period", PERIOD_DETAIL)
    return Period(start, end)


def _bounds(text: str) -> tuple[datetime, datetime]:
    found = _PERIOD.match(text)
    if found is None:
        raise invalid_query("period", PERIOD_DETAIL)
    year, month, day, week = found.groups()
    try:
        if week is not None:
            first = date.fromisocalendar(int(year), int(week), 1)
            following = first + timedelta(days=7)
        elif day is not None:
            first = date(int(year), int(month), int(day))
            following = first + timedelta(days=1)
        elif month is not None:
            first = date(int(year), int(month), 1)
            following = date(int(year) + int(month) // 12, int(month) % 12 + 1, 1)
        else:
            first, following = date(int(year), 1, 1), date(int(year) + 1, 1, 1)
    except ValueError:
        raise invalid_query("period", PERIOD_DETAIL) from None
    return _midnight(first), _midnight(following)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def metadata_of(query: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """`metadata[key]=value` (deepObject): the sessions carrying every pair."""
    pairs: dict[str, str] = {}
    for name, values in query.items():
        if not name.startswith("metadata[") or not name.endswith("]"):
            continue
        key = name[len("metadata[") : -1]
        check_metadata_pair(key, values[-1], f"metadata[{key}]")
        pairs[key] = values[-1]
    if len(pairs) > MAX_METADATA:
        raise invalid_query("metadata", f"At most {MAX_METADATA} metadata pairs.")
    return pairs


def check_metadata_pair(key: str, value: str, name: str) -> None:
    if not 0 < len(key) <= MAX_METADATA_KEY or len(value) > MAX_METADATA_VALUE:
        raise invalid_query(name, f"Keys take 1 to {MAX_METADATA_KEY} characters, values at most {MAX_METADATA_VALUE}.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key + value):
        raise invalid_query(name, "This value must not contain control characters.")


def metadata_fragment(key: str, value: str) -> str:
    """How one pair appears inside `beacons.stored_metadata`'s text. A quote inside a JSON string is always
    escaped, so the fragment preceded by `{` or `,` and followed by `,` or `}` is that pair."""
    return json.dumps(key, ensure_ascii=True) + ":" + json.dumps(value, ensure_ascii=True)


def metadata_list(stored: str | None) -> list[dict[str, str]]:
    if not stored:
        return []
    return [{"key": key, "value": value} for key, value in json.loads(stored).items()]


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    loaded_ms: int
    ended_ms: int
    referrer: str
    country: str
    device_type: str
    operating_system: str
    browser: str
    metadata: str | None


@dataclass(frozen=True)
class SessionEvent:
    type: str
    emitted_ms: int
    at: int | None = None
    from_: int | None = None
    to: int | None = None


def session_event(kind: str, ts: int, playhead: float, seek_from: float | None) -> SessionEvent:
    """A stored event as api.video listed it: the playhead in whole seconds; a seek's direction
    from where it left (`from`) and landed (`to`)."""
    name = LISTED_EVENTS[kind]
    if name != "seek":
        return SessionEvent(name, ts, at=int(playhead))
    start = int(seek_from or 0)
    direction = "seek.backward" if playhead < (seek_from or 0) else "seek.forward"
    return SessionEvent(direction, ts, from_=start, to=int(playhead))
