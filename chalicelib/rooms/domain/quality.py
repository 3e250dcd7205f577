"""Call quality: what a participant's client reports of its media, and the figures call detail records
carry (docs/rooms.md, "Call quality"). Pure rules.

IVS real-time's control plane has no per-participant statistics: `GetParticipant` and
`ListParticipantEvents` say who joined, published and left, and from which browser, never bitrate,
loss or round-trip time (research C1-C2). The only place those exist is the WebRTC peer itself
(`RTCPeerConnection.getStats()`: RTCP receiver reports for what it sends, its inbound streams for what
it receives). So the client reports them: the join answers a **stats token** (bound to the project,
room, session and participant, signed with the room's key like the join token, expiring with the
media credentials), and the client posts one sample per `SAMPLE_SECONDS` to the public stats
endpoint. Each sample holds the figures of its interval; the records aggregate them.

A sample is stored under its participant and its **slot** (the server's time, `SAMPLE_SECONDS`
wide): a second post in the same slot is refused (the rate limit, and a replay writes nothing new),
and samples outside the participant's attendance are left out of its figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated, Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, StrictStr, StringConstraints, model_validator

from chalicelib.core.clock import epoch_seconds
from chalicelib.rooms.domain.errors import JoinTokenExpired, JoinTokenInvalid
from chalicelib.rooms.domain.tokens import ALGORITHM, LEEWAY_SECONDS, MAX_JOIN_TOKEN_CHARS, Addressed, address

STATS_AUDIENCE = "videoplane-room-stats"
# One sample per participant per this many seconds (the client's interval, and the server's slot).
SAMPLE_SECONDS = 10
# Samples this long after a participant's leave still count (its last interval, posted on the way out).
LATE_SAMPLE = timedelta(seconds=SAMPLE_SECONDS)
# A flow losing this share of its packets or more is rated "Bad" (EnableX's avg_bitrate_quality).
BAD_LOSS_PERCENT = 5.0
# Bounds of one interval's figures: far above what IVS allows (8.5 Mbps video, 160 kbps audio).
MAX_BITRATE = 50_000_000
MAX_PACKETS = 1_000_000
MAX_SECONDS = 60.0

Bitrate = Annotated[int, Field(ge=0, le=MAX_BITRATE, strict=True, description="Bits per second over the interval")]
Packets = Annotated[int, Field(ge=0, le=MAX_PACKETS, strict=True)]
Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS)]


class KindStats(BaseModel):
    """One kind's (audio or video) media over the interval."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    bitrate: Bitrate
    packets: Packets = 0
    packets_lost: Packets = Field(default=0, alias="packetsLost")


class FlowStats(KindStats):
    """One direction's media over the interval, audio and video together: its bitrate, the packets
    sent (or received) and those lost (RTCP receiver reports for sending; inbound streams for
    receiving); and, when the client tells them apart, each kind's (EnableX reports by kind)."""

    audio: KindStats | None = None
    video: KindStats | None = None


class StatsReport(BaseModel):
    """`POST /join/stats` body: one interval's getStats() figures."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    token: Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_JOIN_TOKEN_CHARS)]
    send: FlowStats | None = None
    receive: FlowStats | None = None
    round_trip_time: Seconds | None = Field(default=None, alias="roundTripTime", description="Seconds")
    jitter: Seconds | None = Field(default=None, description="Seconds")

    @model_validator(mode="after")
    def _something(self) -> StatsReport:
        if self.send is None and self.receive is None and self.round_trip_time is None:
            raise ValueError("A sample reports `send`, `receive` or `roundTripTime`.")
        return self


@dataclass(frozen=True)
class Flow:
    bitrate: int
    packets: int
    packets_lost: int
    audio: Flow | None = None
    video: Flow | None = None


@dataclass(frozen=True)
class Sample:
    """A stored sample: one participant's interval, at the server's time."""

    participant_id: str
    at: datetime
    send: Flow | None = None
    receive: Flow | None = None
    round_trip_time: float | None = None
    jitter: float | None = None


def sample(participant_id: str, report: StatsReport, at: datetime) -> Sample:
    def kind(stats: KindStats | None) -> Flow | None:
        return None if stats is None else Flow(stats.bitrate, stats.packets, stats.packets_lost)

    def flow(stats: FlowStats | None) -> Flow | None:
        if stats is None:
            return None
        return Flow(stats.bitrate, stats.packets, stats.packets_lost, kind(stats.audio), kind(stats.video))

    return Sample(participant_id, at, flow(report.send), flow(report.receive), report.round_trip_time, report.jitter)


def slot(at: datetime) -> int:
    """The sample's slot: at most one sample of a participant per slot."""
    return epoch_seconds(at) // SAMPLE_SECONDS


# -- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowFigures:
    avg_bitrate: int
    p95_bitrate: int
    min_bitrate: int
    max_bitrate: int
    # Lost / expected packets, in percent (None when no packet was reported).
    loss_percent: float | None
    # Each kind's, from the samples that told them apart.
    audio: FlowFigures | None = None
    video: FlowFigures | None = None

    @property
    def rating(self) -> str:
        """EnableX's `avg_bitrate_quality`."""
        return "Bad" if self.loss_percent is not None and self.loss_percent >= BAD_LOSS_PERCENT else "Good"


@dataclass(frozen=True)
class Quality:
    """The figures of a participant's samples (or of every sample of a session)."""

    samples: int
    send: FlowFigures | None
    receive: FlowFigures | None
    avg_rtt_ms: int | None
    p95_rtt_ms: int | None
    avg_jitter_ms: int | None


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in (0, 1]) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _flow(flows: Sequence[Flow], receiving: bool) -> FlowFigures | None:
    figures = _figures(flows, receiving)
    if figures is None:
        return None
    audio = _figures([f.audio for f in flows if f.audio is not None], receiving)
    video = _figures([f.video for f in flows if f.video is not None], receiving)
    return replace(figures, audio=audio, video=video)


def _figures(flows: Sequence[Flow], receiving: bool) -> FlowFigures | None:
    if not flows:
        return None
    rates = [f.bitrate for f in flows]
    lost = sum(f.packets_lost for f in flows)
    # Sent packets include the lost ones; received packets do not.
    expected = sum(f.packets for f in flows) + (lost if receiving else 0)
    loss = None if expected == 0 else round(100 * min(lost, expected) / expected, 2)
    return FlowFigures(
        avg_bitrate=round(sum(rates) / len(rates)),
        p95_bitrate=round(percentile(rates, 0.95)),
        min_bitrate=min(rates),
        max_bitrate=max(rates),
        loss_percent=loss,
    )


def _ms(values: Sequence[float], share: float | None = None) -> int | None:
    if not values:
        return None
    value = sum(values) / len(values) if share is None else percentile(values, share)
    return round(value * 1000)


def summarize(samples: Iterable[Sample]) -> Quality | None:
    """The figures of these samples (None without any)."""
    found = list(samples)
    if not found:
        return None
    rtts = [s.round_trip_time for s in found if s.round_trip_time is not None]
    jitters = [s.jitter for s in found if s.jitter is not None]
    return Quality(
        samples=len(found),
        send=_flow([s.send for s in found if s.send is not None], receiving=False),
        receive=_flow([s.receive for s in found if s.receive is not None], receiving=True),
        avg_rtt_ms=_ms(rtts),
        p95_rtt_ms=_ms(rtts, 0.95),
        avg_jitter_ms=_ms(jitters),
    )


def within(samples: Iterable[Sample], since: datetime, until: datetime | None) -> list[Sample]:
    """The samples taken while the participant was in (its last interval may arrive a little late)."""
    return [s for s in samples if s.at >= since - LATE_SAMPLE and (until is None or s.at <= until + LATE_SAMPLE)]


def by_participant(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {}
    for s in samples:
        out.setdefault(s.participant_id, []).append(s)
    return out


# -- the stats token -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsClaims:
    project_id: str
    room_id: str
    session_id: str
    participant_id: str
    expires_at: int


def encode_stats(claims: StatsClaims, key: bytes, issuer: str, now: datetime) -> str:
    """The credential the join answers for posting samples: this participant of this session only."""
    body = {
        "iss": issuer,
        "aud": STATS_AUDIENCE,
        "sub": claims.participant_id,
        "pid": claims.project_id,
        "rid": claims.room_id,
        "sid": claims.session_id,
        "iat": epoch_seconds(now),
        "exp": claims.expires_at,
    }
    return jwt.encode(body, key, algorithm=ALGORITHM, headers={"kid": claims.room_id})


def stats_address(token: str) -> Addressed:
    """Where a stats token says it belongs (untrusted until `verify_stats`)."""
    return address(token)


def verify_stats(token: str, key: bytes, issuer: str, now: datetime) -> StatsClaims:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=STATS_AUDIENCE,
            issuer=issuer,
            options={"require": ["exp", "sub", "aud", "iss"], "verify_exp": False},
        )
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise JoinTokenInvalid() from exc
    session_id, participant_id, exp = claims.get("sid"), claims.get("sub"), claims.get("exp")
    if not (isinstance(session_id, str) and isinstance(participant_id, str) and isinstance(exp, int)):
        raise JoinTokenInvalid()
    if exp + LEEWAY_SECONDS <= epoch_seconds(now):
        raise JoinTokenExpired()
    return StatsClaims(claims["pid"], claims["rid"], session_id, participant_id, exp)
