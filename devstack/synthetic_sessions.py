"""Synthetic playback sessions with known answers, for the analytics tests and benchmarks.

Each session: an impression; unless it leaves before playing, a play, a start after
`startup_ms`, a heartbeat every HEARTBEAT_SECONDS with the seconds watched since the previous
event, a stall (buffer start and end) in every `stall_every`-th session, and an end when watched
to the end. `Expected` holds what every /data metric must answer for them."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from chalicelib.analytics.domain.beacons import EventRecord, EventType, day_of, media_type_of

HEARTBEAT_SECONDS = 5
COUNTRIES = (("FR", "EU"), ("US", "NA"), ("JP", "AS"), ("BR", "SA"))
DEVICES = (("computer", "Linux", "Chrome"), ("phone", "iOS", "Mobile Safari"), ("tablet", "Android", "Chrome Mobile"))


@dataclass
class Expected:
    impressions: int = 0
    plays: int = 0
    starts: int = 0
    ends: int = 0
    watched: float = 0.0
    startup_ms: list[int] = field(default_factory=list)
    plays_by_media: dict[str, int] = field(default_factory=dict)
    plays_by_country: dict[str, int] = field(default_factory=dict)
    # Sessions by seconds watched (views are sessions over a threshold).
    session_watched: list[float] = field(default_factory=list)


def sessions(
    project_id: str,
    media_ids: Sequence[str],
    count: int,
    start_ms: int,
    spread_ms: int,
    seed: int = 7,
    expected: Expected | None = None,
) -> Iterator[EventRecord]:
    """`count` sessions starting at random in [start_ms, start_ms + spread_ms)."""
    rng = random.Random(seed)
    for number in range(count):
        media_id = media_ids[number % len(media_ids)]
        country, continent = COUNTRIES[number % len(COUNTRIES)]
        device, system, browser = DEVICES[number % len(DEVICES)]
        session_id = f"synthetic-{seed}-{number:08d}"
        t = start_ms + rng.randrange(spread_ms)

        base = EventRecord(
            project=project_id,
            dt=day_of(t),
            ts=t,
            received=t,
            session_id=session_id,
            media_id=media_id,
            media_type=media_type_of(media_id).value,
            event=EventType.IMPRESSION.value,
            playhead=0.0,
            watched=0.0,
            startup_ms=None,
            seek_from=None,
            rendition=None,
            error=None,
            player_id=None,
            referrer="https://example.com/",
            device_type=device,
            operating_system=system,
            browser=browser,
            country=country,
            continent=continent,
            source="videoplane",
        )

        def record(
            event: EventType, at: int, watched: float = 0.0, startup: int | None = None, base: EventRecord = base
        ) -> EventRecord:
            return replace(
                base, event=event.value, ts=at, received=at, dt=day_of(at), watched=watched, startup_ms=startup
            )

        yield record(EventType.IMPRESSION, t)
        if expected is not None:
            expected.impressions += 1
        if number % 10 == 9:  # leaves before playing
            continue
        startup = 200 + rng.randrange(1800)
        heartbeats = 1 + rng.randrange(12)
        yield record(EventType.PLAY, t + 100)
        yield record(EventType.START, t + 100 + startup, startup=startup)
        now = t + 100 + startup
        for beat in range(heartbeats):
            now += HEARTBEAT_SECONDS * 1000
            if beat == 0 and number % 4 == 0:
                yield record(EventType.BUFFER_START, now - 2000)
                yield record(EventType.BUFFER_END, now - 1000)
            yield record(EventType.HEARTBEAT, now, watched=float(HEARTBEAT_SECONDS))
        ended = number % 3 == 0
        if ended:
            yield record(EventType.END, now + 10)
        if expected is not None:
            expected.plays += 1
            expected.starts += 1
            expected.ends += int(ended)
            expected.watched += heartbeats * HEARTBEAT_SECONDS
            expected.startup_ms.append(startup)
            expected.plays_by_media[media_id] = expected.plays_by_media.get(media_id, 0) + 1
            expected.plays_by_country[country] = expected.plays_by_country.get(country, 0) + 1
            expected.session_watched.append(float(heartbeats * HEARTBEAT_SECONDS))


def ndjson(records: Sequence[EventRecord], compress: bool = True) -> bytes:
    """Records as Firehose writes them: one JSON object a line (GZIP on AWS)."""
    body = "".join(json.dumps(r.as_json(), separators=(",", ":")) + "\n" for r in records).encode()
    return gzip.compress(body) if compress else body
