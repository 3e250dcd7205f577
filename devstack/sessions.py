"""Synthetic playback sessions with known answers, as event records (what Firehose stores).

Each session: an impression, then (unless it is an exit before start) a play, a start with its
startup time, heartbeats every HEARTBEAT_SECONDS each carrying that much watch time, and an end.
Viewers cycle through COUNTRIES, DEVICES and BROWSERS, media through `media_ids`, so every count,
sum and breakdown is computable from the parameters (`Expected`). Used by tests/unit (every
generated query in DuckDB) and benchmarks/analytics.py (1 million events).
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.analytics.domain.beacons import EventRecord, EventType, day_of

HEARTBEAT_SECONDS = 5
COUNTRIES = (("FR", "EU"), ("US", "NA"), ("BR", "SA"), ("JP", "AS"))
DEVICES = (("desktop", "Linux", "Chrome"), ("phone", "iOS", "Mobile Safari"), ("tablet", "Android", "Chrome Mobile"))
SESSION_SPACING_MS = 1_000


@dataclass(frozen=True)
class Quality:
    """Among the sessions that play (counted from 0): every `stall_every`-th stalls once for
    `stall_ms` after its first heartbeat, every `fail_every`-th ends with an error instead of an end,
    every `abandon_every`-th leaves after its play request (no start). 0: never."""

    stall_every: int = 0
    stall_ms: int = 2000
    fail_every: int = 0
    abandon_every: int = 0


def _every(n: int, index: int) -> bool:
    return n > 0 and index % n == n - 1


@dataclass
class Expected:
    """What the /data measures must answer for the sessions generated."""

    impressions: int = 0
    plays: int = 0
    starts: int = 0
    ends: int = 0
    watch_seconds: float = 0.0
    startup_ms_sum: int = 0
    views: dict[int, int] = field(default_factory=dict)  # view duration (s) -> sessions that long
    plays_by_country: Counter[str] = field(default_factory=Counter)
    plays_by_device: Counter[str] = field(default_factory=Counter)
    plays_by_media: Counter[str] = field(default_factory=Counter)
    startups_ms: list[int] = field(default_factory=list)
    stalls: int = 0
    stalled_seconds: float = 0.0
    failures: int = 0
    exits_before_start: int = 0
    events: int = 0


def sessions(
    project_id: str,
    media_ids: Sequence[str],
    count: int,
    start_ms: int,
    *,
    heartbeats: int = 3,
    exit_every: int = 5,
    view_durations: Sequence[int] = (3, 5, 10, 30),
    quality: Quality | None = None,
) -> tuple[list[EventRecord], Expected]:
    """`count` sessions from `start_ms`, one every SESSION_SPACING_MS; every `exit_every`-th leaves
    before playing. Session i watches `heartbeats + i % 3` heartbeats. `quality` adds stalls,
    failures and exits before start (none by default)."""
    records: list[EventRecord] = []
    expected = Expected(views=dict.fromkeys(view_durations, 0))
    for index in range(count):
        records.extend(
            _session(project_id, media_ids, index, start_ms, heartbeats, exit_every, quality or Quality(), expected)
        )
    expected.events = len(records)
    return records, expected


def _session(
    project_id: str,
    media_ids: Sequence[str],
    index: int,
    start_ms: int,
    heartbeats: int,
    exit_every: int,
    quality: Quality,
    expected: Expected,
) -> Iterator[EventRecord]:
    country, continent = COUNTRIES[index % len(COUNTRIES)]
    device, system, browser = DEVICES[index % len(DEVICES)]
    media_id = media_ids[index % len(media_ids)]
    at = start_ms + index * SESSION_SPACING_MS
    session = f"synthetic-{index:08d}"

    def record(kind: EventType, ts: int, **fields: float | int | None) -> EventRecord:
        return EventRecord(
            project=project_id,
            dt=day_of(ts),
            ts=ts,
            received=ts,
            session_id=session,
            media_id=media_id,
            media_type="live-stream" if media_id.startswith("li") else "video",
            event=kind.value,
            playhead=float(fields.get("playhead") or 0.0),
            watched=float(fields.get("watched") or 0.0),
            startup_ms=fields.get("startup_ms"),  # type: ignore[arg-type]
            seek_from=None,
            rendition=None,
            error=None,
            player_id=None,
            referrer="https://example.com/synthetic",
            device_type=device,
            operating_system=system,
            browser=browser,
            country=country,
            continent=continent,
            source="videoplane",
        )

    expected.impressions += 1
    yield record(EventType.IMPRESSION, at)
    if _every(exit_every, index):
        return
    playing = expected.plays  # this session's rank among the sessions that play
    startup = 200 + index % 7 * 50
    expected.plays += 1
    expected.plays_by_country[country] += 1
    expected.plays_by_device[device] += 1
    expected.plays_by_media[media_id] += 1
    yield record(EventType.PLAY, at + 100)
    if _every(quality.abandon_every, playing):
        expected.exits_before_start += 1
        return
    expected.starts += 1
    expected.startup_ms_sum += startup
    expected.startups_ms.append(startup)
    yield record(EventType.START, at + 100 + startup, startup_ms=startup)
    beats = heartbeats + index % 3
    t = at + 100 + startup
    watched = 0.0
    for beat in range(1, beats + 1):
        t += HEARTBEAT_SECONDS * 1000
        watched += HEARTBEAT_SECONDS
        yield record(EventType.HEARTBEAT, t, playhead=beat * HEARTBEAT_SECONDS, watched=HEARTBEAT_SECONDS)
        if beat == 1 and _every(quality.stall_every, playing):
            stalled = quality.stall_ms / 1000
            expected.stalls += 1
            expected.stalled_seconds += stalled
            watched += stalled
            yield record(EventType.BUFFER_START, t + 1, playhead=beat * HEARTBEAT_SECONDS)
            t += quality.stall_ms + 1
            yield record(EventType.BUFFER_END, t, playhead=beat * HEARTBEAT_SECONDS, watched=stalled)
    expected.watch_seconds += watched
    for duration in expected.views:
        expected.views[duration] += watched >= duration
    if _every(quality.fail_every, playing):
        expected.failures += 1
        yield record(EventType.ERROR, t + 100, playhead=beats * HEARTBEAT_SECONDS)
        return
    expected.ends += 1
    yield record(EventType.END, t + 100, playhead=beats * HEARTBEAT_SECONDS)


def write_files(records: Sequence[EventRecord], directory: Path, per_file: int = 50_000) -> list[Path]:
    """Newline-delimited JSON, GZIP, `per_file` records a file (as Firehose writes them)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, start in enumerate(range(0, len(records), per_file)):
        path = directory / f"events-{number:05d}.json.gz"
        lines = (json.dumps(r.as_json(), separators=(",", ":")) for r in records[start : start + per_file])
        path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1))
        paths.append(path)
    return paths
