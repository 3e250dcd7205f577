"""Call quality: the samples a client posts, their aggregation into call detail records (pure), the
stats token that binds a sample to one participant, and the service that stores them on fakes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError

from chalicelib.core.domain.errors import NotFound, TooManyRequests
from chalicelib.rooms.domain import enablex, quality, sessions
from chalicelib.rooms.domain.errors import JoinTokenExpired, JoinTokenInvalid, JoinTokenRevoked
from chalicelib.rooms.domain.quality import Flow, Sample, StatsClaims, StatsReport
from chalicelib.rooms.domain.rooms import Room, RoomCreation, new_room
from chalicelib.rooms.domain.sessions import Attendance, EndReason, PlaneEvent
from chalicelib.rooms.domain.tokens import Role
from chalicelib.rooms.services.quality import QualityService

T0 = datetime(2026, 3, 4, 10, 0, 0, tzinfo=UTC)
KEY = b"k" * 32
ISSUER = "https://videoplane.test"
PROJECT, ROOM = "pr" + "1" * 22, "ro" + "2" * 22


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sample(pid: str, seconds: float, send: int | None = None, rtt: float | None = None, lost: int = 0) -> Sample:
    flow = None if send is None else Flow(send, 100, lost)
    return Sample(pid, at(seconds), send=flow, round_trip_time=rtt)


# -- aggregation ---------------------------------------------------------------------------------


def test_nearest_rank_percentile() -> None:
    values = list(range(1, 21))  # 1..20
    assert quality.percentile(values, 0.95) == 19
    assert quality.percentile(values, 1.0) == 20
    assert quality.percentile([7], 0.95) == 7


def test_figures_of_a_participants_samples() -> None:
    found = [
        sample("a", 10, send=1_000_000, rtt=0.040, lost=0),
        sample("a", 20, send=2_000_000, rtt=0.060, lost=10),
        sample("a", 30, send=3_000_000, rtt=0.200, lost=0),
    ]
    q = quality.summarize(found)
    assert q is not None and q.send is not None
    assert (q.samples, q.send.avg_bitrate, q.send.min_bitrate, q.send.max_bitrate) == (
        3,
        2_000_000,
        1_000_000,
        3_000_000,
    )
    assert q.send.p95_bitrate == 3_000_000
    # 10 lost of 300 sent (sent packets include the lost ones).
    assert q.send.loss_percent == pytest.approx(3.33)
    assert (q.avg_rtt_ms, q.p95_rtt_ms) == (100, 200)
    assert q.receive is None and q.avg_jitter_ms is None


def test_received_loss_counts_lost_packets_on_top_of_the_received_ones() -> None:
    found = [Sample("a", at(10), receive=Flow(500_000, 90, 10))]
    q = quality.summarize(found)
    assert q is not None and q.receive is not None
    assert q.receive.loss_percent == 10.0
    assert q.receive.rating == "Bad"


def test_no_samples_no_figures_and_no_packets_no_loss() -> None:
    assert quality.summarize([]) is None
    q = quality.summarize([Sample("a", at(1), send=Flow(100, 0, 0))])
    assert q is not None and q.send is not None and q.send.loss_percent is None and q.send.rating == "Good"


def test_only_samples_taken_while_in_count() -> None:
    found = [sample("a", s, send=1000) for s in (-30, -5, 10, 40, 49, 70)]
    kept = quality.within(found, at(0), at(40))
    # 10 s of slack either side: -5 and 49 are the first and last intervals.
    assert [s.at for s in kept] == [at(-5), at(10), at(40), at(49)]
    assert len(quality.within(found, at(0), None)) == 5


def attendance(pid: str, joined: float) -> Attendance:
    return Attendance(participant_id=pid, token_id=f"jt-{pid}", user_ref=f"u-{pid}", role=Role.PARTICIPANT,
                      joined_at=at(joined))  # fmt: skip


def test_records_take_their_own_samples_and_the_session_totals_all_of_them() -> None:
    session = sessions.admit(sessions.start("pr1", "ro1", "rs1", attendance("a", 0)), attendance("b", 5))
    session = sessions.observe(
        session,
        [],
        [PlaneEvent("a", "JOINED", at(1)), PlaneEvent("a", "LEFT", at(60)), PlaneEvent("b", "JOINED", at(6))],
        at(61),
        listed=False,
    )
    session = sessions.end(session, EndReason.DURATION_LIMIT, at(100))
    found = [
        sample("a", 20, send=1_000_000, rtt=0.05),
        sample("a", 30, send=3_000_000, rtt=0.05),
        sample("a", 300, send=9_000_000),  # long after a's leave: not counted
        sample("b", 20, send=2_000_000, rtt=0.25),
        sample("x", 20, send=7_000_000),  # no such participant
    ]
    a, b = sessions.call_records(session, found)
    assert a.quality is not None and a.quality.samples == 2 and a.quality.send is not None
    assert a.quality.send.avg_bitrate == 2_000_000
    assert b.quality is not None and b.quality.samples == 1 and b.quality.avg_rtt_ms == 250
    total = sessions.totals(session, found)
    assert total.quality is not None and total.quality.samples == 3
    assert total.quality.send is not None and total.quality.send.avg_bitrate == 2_000_000
    assert total.quality.p95_rtt_ms == 250
    # Without samples, nothing is made up.
    assert [r.quality for r in sessions.call_records(session)] == [None, None]


def test_enablex_stats_quality_in_its_shape() -> None:
    q = quality.summarize([sample("a", 10, send=1_500_000, rtt=0.08, lost=1)])
    out = enablex.stats_quality_out(q)
    assert out["send"] == {
        "avg_bitrate": "1500000",
        "avg_bitrate_quality": "Good",
        "max_bitrate": "1500000",
        "min_bitrate": "1500000",
        "p95_bitrate": "1500000",
        "packet_loss": "1.0",
        # The client did not tell the kinds apart.
        "video": {},
        "audio": {},
    }
    assert out["receive"] == {} and out["rtt"] == {"avg": "80", "p95": "80"} and out["samples"] == "1"
    assert enablex.stats_quality_out(None) == {}


def test_each_kind_is_summed_up_apart_when_the_client_tells_them_apart() -> None:
    video, audio = Flow(1_000_000, 90, 9), Flow(64_000, 50, 0)
    found = [
        Sample("a", at(10), send=Flow(1_064_000, 140, 9, audio=audio, video=video)),
        Sample("a", at(20), send=Flow(2_000_000, 100, 0)),  # no kinds: counts only together
    ]
    q = quality.summarize(found)
    assert q is not None and q.send is not None and q.send.video is not None and q.send.audio is not None
    assert (q.send.avg_bitrate, q.send.video.avg_bitrate, q.send.audio.avg_bitrate) == (1_532_000, 1_000_000, 64_000)
    assert (q.send.video.loss_percent, q.send.video.rating) == (10.0, "Bad")
    out = enablex.stats_quality_out(q)
    assert out["send"]["video"]["avg_bitrate"] == "1000000" and out["send"]["audio"]["packet_loss"] == "0.0"


# -- the report ----------------------------------------------------------------------------------


def test_a_report_is_validated() -> None:
    ok = StatsReport.model_validate(
        {"token": "t", "send": {"bitrate": 1, "packets": 2, "packetsLost": 0}, "roundTripTime": 0.1}
    )
    assert ok.send is not None and ok.round_trip_time == 0.1
    for bad in (
        {"token": "t"},  # nothing reported
        {"token": "t", "send": {"bitrate": -1}},
        {"token": "t", "send": {"bitrate": 10**9}},
        {"token": "t", "send": {"bitrate": "1000"}},
        {"token": "t", "roundTripTime": 600},
        {"token": "t", "roundTripTime": 0.1, "projectId": PROJECT},  # nothing else is taken
        {"token": "", "roundTripTime": 0.1},
    ):
        with pytest.raises(ValidationError):
            StatsReport.model_validate(bad)


# -- the stats token and the service --------------------------------------------------------------


class FakeQuality:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str, int], Sample] = {}

    def add(self, project_id: str, session_id: str, sample: Sample) -> bool:
        key = (project_id, session_id, sample.participant_id, quality.slot(sample.at))
        if key in self.items:
            return False
        self.items[key] = sample
        return True

    def of_session(self, project_id: str, session_id: str) -> list[Sample]:
        return [s for (p, sid, _, _), s in self.items.items() if (p, sid) == (project_id, session_id)]


class Clock:
    def __init__(self) -> None:
        self.now = at(0)

    def __call__(self) -> datetime:
        return self.now


THE_ROOM = new_room(PROJECT, RoomCreation.model_validate({"name": "R", "settings": {"mode": "group"}}), T0)
THE_ROOM = THE_ROOM.model_copy(update={"room_id": ROOM, "token_secret": base64.b64encode(KEY).decode()})


def room_of(project_id: str, room_id: str) -> Room:
    if (project_id, room_id) != (PROJECT, ROOM):
        raise NotFound(name="roomId")
    return THE_ROOM


@pytest.fixture
def service() -> tuple[QualityService, FakeQuality, Clock]:
    repository, clock = FakeQuality(), Clock()
    return QualityService(room_of, repository, clock, ISSUER), repository, clock


def stats_token(key: bytes = KEY, expires: float = 3600, room_id: str = ROOM) -> str:
    claims = StatsClaims(PROJECT, room_id, "rs1", "pa1", int((at(expires)).timestamp()))
    return quality.encode_stats(claims, key, ISSUER, at(0))


def report(token: str) -> StatsReport:
    return StatsReport.model_validate({"token": token, "send": {"bitrate": 800_000, "packets": 70}})


def test_a_sample_is_stored_for_the_participant_the_token_names(
    service: tuple[QualityService, FakeQuality, Clock],
) -> None:
    svc, repository, _ = service
    svc.report(report(stats_token()))
    (stored,) = repository.of_session(PROJECT, "rs1")
    assert (stored.participant_id, stored.at, stored.send) == ("pa1", at(0), Flow(800_000, 70, 0))


def test_one_sample_per_slot(service: tuple[QualityService, FakeQuality, Clock]) -> None:
    svc, repository, clock = service
    clock.now = at(3)
    svc.report(report(stats_token()))
    clock.now = at(7)
    with pytest.raises(TooManyRequests) as refused:
        svc.report(report(stats_token()))
    assert refused.value.headers["Retry-After"] == "3"
    clock.now = at(10)
    svc.report(report(stats_token()))
    assert len(repository.of_session(PROJECT, "rs1")) == 2


def test_forged_expired_and_foreign_tokens_are_refused(service: tuple[QualityService, FakeQuality, Clock]) -> None:
    svc, repository, clock = service
    with pytest.raises(JoinTokenInvalid):
        svc.report(report(stats_token(key=b"x" * 32)))
    with pytest.raises(JoinTokenRevoked):
        svc.report(report(stats_token(room_id="ro" + "3" * 22)))
    with pytest.raises(JoinTokenInvalid):
        svc.report(report("not-a-token"))
    # A join token is not a stats token (another audience), though signed with the same key.
    join_like = jwt.encode(
        {"iss": ISSUER, "aud": "videoplane-room-join", "sub": "pa1", "pid": PROJECT, "rid": ROOM, "sid": "rs1",
         "exp": int(at(60).timestamp())},
        KEY, algorithm="HS256", headers={"kid": ROOM},
    )  # fmt: skip
    with pytest.raises(JoinTokenInvalid):
        svc.report(report(join_like))
    clock.now = at(3600 + 31)
    with pytest.raises(JoinTokenExpired):
        svc.report(report(stats_token()))
    assert repository.items == {}
