"""Usage per project and UTC day: what the counters count, how a day's figures are put together,
and api.video's account resource (quota, term) over them. Pure rules.

Minutes encoded, live minutes and room minutes come from domain events (`video.ready` carries the
seconds of output encoded; a live stream's broadcast runs from `live-stream.broadcast.started` to
`live-stream.broadcast.ended`; `room.cdr.ready` closes a room session whose participants' connected
stretches are read then); minutes watched and bytes delivered from the event store (player
beacons); bytes stored from the media and uploads buckets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from chalicelib.analytics.domain.errors import InvalidUsageRange

DAY = timedelta(days=1)
# /account/usage answers at most this many days at once (one query of the event store).
MAX_USAGE_DAYS = 93
# Ceiling of the ladder's video plus audio bitrates per rendition (bits/s; the VOD context's
# ladder caps, QVBR encodes below them): bytes delivered is an upper estimate from watch time.
RENDITION_BITRATES = {
    "240p": 464_000,
    "360p": 1_564_000,
    "480p": 2_596_000,
    "720p": 6_096_000,
    "1080p": 8_628_000,
    "2160p": 15_128_000,
}
# Sessions that reported no rendition (a player without rendition events) count at 720p.
DEFAULT_BITRATE = RENDITION_BITRATES["720p"]
# api.video's account features; Videoplane has no plans, so every project has them all.
FEATURES = ("app.dynamic_metadata", "app.event_log", "app.video_analytics", "app.usage")


class Counter(StrEnum):
    """The counters kept per project and day (their attribute names in the table)."""

    ENCODED = "encodedSeconds"
    LIVE = "liveSeconds"
    ROOM = "roomParticipantSeconds"


@dataclass(frozen=True)
class Count:
    """One event's contribution to a counter of one day. `event_id` makes it count once."""

    project_id: str
    event_id: str
    counter: Counter
    seconds_by_day: dict[str, float]


class UsageDay(BaseModel):
    day: str
    encoded_seconds: float = 0.0
    live_seconds: float = 0.0
    room_seconds: float = 0.0
    watched_seconds: float = 0.0
    delivered_bytes: int = 0
    # The media bucket's bytes when the day was last measured (None: never measured that day).
    stored_bytes: int | None = None


def day_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def seconds_by_day(start: datetime, end: datetime) -> dict[str, float]:
    """A stretch of time cut at UTC midnights: a broadcast across midnight counts on both days."""
    cut: dict[str, float] = {}
    cursor = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while cursor < end:
        midnight = datetime.combine(cursor.date() + DAY, datetime.min.time(), tzinfo=UTC)
        stop = min(midnight, end)
        cut[day_of(cursor)] = round(cut.get(day_of(cursor), 0.0) + (stop - cursor).total_seconds(), 3)
        cursor = stop
    return cut


def stretches_by_day(stretches: list[tuple[datetime, datetime]]) -> dict[str, float]:
    """Several stretches (a room session's participants, each from connected to left), summed per
    UTC day."""
    total: dict[str, float] = {}
    for start, end in stretches:
        for day, seconds in seconds_by_day(start, end).items():
            total[day] = round(total.get(day, 0.0) + seconds, 3)
    return total


def delivered_bytes(watched_by_rendition: dict[str | None, float]) -> int:
    """Bytes delivered, estimated from the seconds watched per rendition."""
    rates = RENDITION_BITRATES
    bits = sum(seconds * rates.get(name or "", DEFAULT_BITRATE) for name, seconds in watched_by_rendition.items())
    return int(bits // 8)


def days(first: date, last: date) -> list[str]:
    if last < first:
        raise InvalidUsageRange(detail="`to` is before `from`.")
    if (last - first).days >= MAX_USAGE_DAYS:
        raise InvalidUsageRange(detail=f"At most {MAX_USAGE_DAYS} days at once.")
    return [(first + DAY * n).isoformat() for n in range((last - first).days + 1)]


def merge(
    counted: dict[str, UsageDay], watched: dict[str, dict[str | None, float]], wanted: list[str]
) -> list[UsageDay]:
    """One row per wanted day: the counters' figures with the event store's watch time."""
    rows = []
    for day in wanted:
        row = counted.get(day, UsageDay(day=day))
        per_rendition = watched.get(day, {})
        rows.append(
            row.model_copy(
                update={
                    "watched_seconds": round(sum(per_rendition.values()), 3),
                    "delivered_bytes": delivered_bytes(per_rendition),
                }
            )
        )
    return rows


@dataclass(frozen=True)
class Term:
    """The account's current term: the calendar month (UTC) of `now`."""

    start: date
    end: date

    @classmethod
    def of(cls, now: datetime) -> Term:
        today = now.astimezone(UTC).date()
        start = today.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return cls(start, following - DAY)


@dataclass(frozen=True)
class Quota:
    """api.video's quota, in minutes encoded over the term; a total of 0 means unlimited (no
    remaining figure is invented)."""

    used: int
    total: int

    @property
    def remaining(self) -> int:
        return max(self.total - self.used, 0) if self.total else 0


def quota(rows: list[UsageDay], total_minutes: int) -> Quota:
    used = sum(row.encoded_seconds for row in rows) / 60
    return Quota(used=round(used), total=total_minutes)


def total(rows: list[UsageDay]) -> UsageDay:
    """The sum of several days (stored bytes: the last measured figure)."""
    stored = [row.stored_bytes for row in rows if row.stored_bytes is not None]
    return UsageDay(
        day=rows[-1].day if rows else "",
        encoded_seconds=round(sum(r.encoded_seconds for r in rows), 3),
        live_seconds=round(sum(r.live_seconds for r in rows), 3),
        room_seconds=round(sum(r.room_seconds for r in rows), 3),
        watched_seconds=round(sum(r.watched_seconds for r in rows), 3),
        delivered_bytes=sum(r.delivered_bytes for r in rows),
        stored_bytes=stored[-1] if stored else None,
    )


def yesterday(now: datetime) -> str:
    return (now.astimezone(UTC).date() - DAY).isoformat()
