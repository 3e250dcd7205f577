"""Broadcasts: IVS stream state changes applied to a live stream, in any order and any number of
times; the service writes each flip's api.video event with the change, and nothing else."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.core.domain.events import DomainEvent
from chalicelib.live.adapters.timers import SqsReconnectTimers, parse_timer, timer_message
from chalicelib.live.domain import broadcasts, live_streams
from chalicelib.live.domain.broadcasts import StreamEventName, StreamStateChange, apply_change
from chalicelib.live.domain.live_streams import Channel, LiveStream, LiveStreamCreation, StreamKey
from chalicelib.live.ports import LiveStreamRepository, ReconnectTimers
from chalicelib.live.services.broadcasts import BroadcastService
from tests.unit import strict_model
from tests.unit.test_live_streams import ACTOR, FakeRepository

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
CHANNEL_ARN = "arn:aws:ivs:us-east-1:123456789012:channel/AbCdEf123456"
CREATED, START, END, ENDED = (
    StreamEventName.SESSION_CREATED,
    StreamEventName.STREAM_START,
    StreamEventName.STREAM_END,
    StreamEventName.SESSION_ENDED,
)


def ready_stream(window: int = 0) -> LiveStream:
    """A stream with this reconnect window (0: a drop ends the broadcast at once)."""
    payload = LiveStreamCreation(name="show", reconnectWindow=window)
    pending = live_streams.new_live_stream(ACTOR.project_id, payload, T0)
    channel = Channel(arn=CHANNEL_ARN, ingest_endpoint="in.example", playback_url="https://play.example/x.m3u8")
    return live_streams.provisioned(pending, channel, StreamKey(arn="arn:key", value="sk_1"))


def change(stream: LiveStream, name: StreamEventName, stream_id: str = "st-1", seconds: float = 0) -> StreamStateChange:
    return StreamStateChange(
        channel_arn=CHANNEL_ARN,
        channel_name=stream.channel_name,
        stream_id=stream_id,
        event_name=name,
        time=T0 + timedelta(seconds=seconds),
    )


def run(stream: LiveStream, changes: list[StreamStateChange]) -> tuple[LiveStream, list[str]]:
    flips: list[str] = []
    for each in changes:
        outcome = apply_change(stream, each)
        if outcome is not None:
            stream, flips = outcome.stream, [*flips, *outcome.flips]
    return stream, flips


def test_a_push_connects_then_broadcasts_then_ends() -> None:
    stream = ready_stream()
    connected, flips = run(stream, [change(stream, CREATED)])
    assert (connected.broadcasting, flips, broadcasts.status(connected)["state"]) == (False, [], "connected")
    live, flips = run(connected, [change(stream, START, seconds=1)])
    assert live.broadcasting and flips == ["started"]
    assert broadcasts.status(live)["broadcastStartedAt"] == T0 + timedelta(seconds=1)
    ended, flips = run(live, [change(stream, ENDED, seconds=9), change(stream, END, seconds=9)])
    assert not ended.broadcasting and flips == ["ended"]
    assert broadcasts.status(ended) == {
        "state": "ended",
        "sessionId": "st-1",
        "connectedAt": T0,
        "broadcastStartedAt": T0 + timedelta(seconds=1),
        "endedAt": T0 + timedelta(seconds=9),
    }


def test_a_stream_never_pushed_is_idle() -> None:
    assert broadcasts.status(ready_stream()) == {"state": "idle"}


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations([(CREATED, 0), (START, 1), (END, 9), (ENDED, 9)])),
    ids=lambda order: "-".join(name.name for name, _ in order),
)
def test_every_order_of_one_session_ends_not_broadcasting_with_balanced_flips(
    order: tuple[tuple[StreamEventName, int], ...],
) -> None:
    stream = ready_stream()
    ended, flips = run(stream, [change(stream, name, seconds=at) for name, at in order])
    assert not ended.broadcasting
    assert flips in (["started", "ended"], [])  # a start after its session's end is not replayed
    assert broadcasts.status(ended)["state"] in ("ended", "idle")


def test_duplicates_change_nothing() -> None:
    stream = ready_stream()
    live, _ = run(stream, [change(stream, CREATED), change(stream, START, seconds=1)])
    for name in (CREATED, START):
        assert apply_change(live, change(stream, name, seconds=1)) is None
    ended, _ = run(live, [change(stream, END, seconds=5)])
    for name in (CREATED, START, END, ENDED):
        assert apply_change(ended, change(stream, name, seconds=5)) is None


def test_a_new_session_closes_an_open_one_whose_end_was_lost() -> None:
    stream = ready_stream()
    first, _ = run(stream, [change(stream, START, "st-1")])
    second, flips = run(first, [change(stream, START, "st-2", seconds=60)])
    assert flips == ["ended", "started"] and second.broadcasting
    assert second.session is not None and second.session.session_id == "st-2"
    # The lost end of the first session, arriving at last, changes nothing.
    assert apply_change(second, change(stream, END, "st-1", seconds=30)) is None


def test_a_late_start_of_an_older_session_is_stale() -> None:
    stream = ready_stream()
    current, _ = run(stream, [change(stream, START, "st-2", seconds=60)])
    assert apply_change(current, change(stream, START, "st-1", seconds=10)) is None
    # Its late end is only remembered.
    remembered, flips = run(current, [change(stream, END, "st-1", seconds=20)])
    assert flips == [] and remembered.broadcasting and "st-1" in remembered.ended_sessions


def test_ended_sessions_are_bounded() -> None:
    stream = ready_stream()
    for index in range(broadcasts.ENDED_SESSIONS_KEPT + 5):
        stream, _ = run(
            stream,
            [change(stream, START, f"st-{index}", index * 10), change(stream, END, f"st-{index}", index * 10 + 5)],
        )
    assert len(stream.ended_sessions) == broadcasts.ENDED_SESSIONS_KEPT
    assert stream.ended_sessions[-1] == f"st-{broadcasts.ENDED_SESSIONS_KEPT + 4}"


def event(stream: LiveStream, name: str, stream_id: str = "st-1", **overrides: Any) -> dict[str, Any]:
    """An "IVS Stream State Change" as EventBridge delivers it (docs' shape)."""
    return {
        "version": "0",
        "id": "6f7d5c1e-0000-4000-8000-000000000000",
        "detail-type": "IVS Stream State Change",
        "source": "aws.ivs",
        "account": "123456789012",
        "time": "2026-03-01T12:00:01Z",
        "region": "us-east-1",
        "resources": [CHANNEL_ARN],
        "detail": {"event_name": name, "channel_name": stream.channel_name, "stream_id": stream_id},
        **overrides,
    }


def test_only_stream_state_changes_of_known_names_parse() -> None:
    stream = ready_stream()
    assert StreamStateChange.from_event(event(stream, "Stream Start")) is not None
    assert StreamStateChange.from_event(event(stream, "Stream Health Degraded")) is None
    assert StreamStateChange.from_event(event(stream, "Stream Start", **{"detail-type": "IVS Limit Breach"})) is None
    assert StreamStateChange.from_event(event(stream, "Stream Start", resources=[])) is None
    assert StreamStateChange.from_event(event(stream, "Stream Start", time="yesterday")) is None


def test_channel_names_map_back_to_their_stream() -> None:
    stream = ready_stream()
    assert broadcasts.stream_of_channel(stream.channel_name) == (stream.project_id, stream.live_stream_id)
    assert broadcasts.stream_of_channel("someone-elses-channel") is None
    assert broadcasts.stream_of_channel("videoplane-") is None


class FakeTimers:
    def __init__(self) -> None:
        self.armed: list[tuple[str, str, datetime, float]] = []

    def arm(self, project_id: str, live_stream_id: str, disconnected_at: datetime, delay_seconds: float) -> None:
        self.armed.append((project_id, live_stream_id, disconnected_at, delay_seconds))


def service_with(
    stream: LiveStream, repository: FakeRepository | None = None, now: datetime = T0
) -> tuple[BroadcastService, FakeRepository, FakeTimers]:
    repository = repository or FakeRepository()
    repository.items[(stream.project_id, stream.live_stream_id)] = stream
    typed: LiveStreamRepository = repository
    timers = FakeTimers()
    typed_timers: ReconnectTimers = timers
    return BroadcastService(typed, lambda: typed_timers, lambda: now), repository, timers


def test_the_service_writes_each_flip_as_api_videos_event() -> None:
    stream = ready_stream()
    service, repository, _ = service_with(stream)
    assert service.on_plane_event(event(stream, "Session Created")) == []
    assert service.on_plane_event(event(stream, "Stream Start")) == ["started"]
    assert service.on_plane_event(event(stream, "Stream Start")) == []  # redelivered
    assert service.on_plane_event(event(stream, "Stream End")) == ["ended"]
    assert service.on_plane_event(event(stream, "Session Ended")) == []
    payloads = [e.payload() for e in repository.events]
    assert [p["type"] for p in payloads] == ["live-stream.broadcast.started", "live-stream.broadcast.ended"]
    assert {p["liveStreamId"] for p in payloads} == {stream.live_stream_id}
    assert len({p["eventId"] for p in payloads}) == 2
    assert repository.audit == []  # the plane is no actor: nothing for the audit log


def test_the_service_ignores_other_channels_and_deleted_streams() -> None:
    stream = ready_stream()
    service, repository, _ = service_with(stream)
    assert (
        service.on_plane_event(event(stream, "Stream Start", resources=["arn:aws:ivs:us-east-1:1:channel/other"])) == []
    )
    foreign = event(stream, "Stream Start")
    foreign["detail"]["channel_name"] = "not-ours"
    assert service.on_plane_event(foreign) == []
    del repository.items[(stream.project_id, stream.live_stream_id)]
    assert service.on_plane_event(event(stream, "Stream Start")) == []
    assert repository.events == []


class RacedRepository(FakeRepository):
    """A PATCH lands between the service's first read and its write."""

    def __init__(self) -> None:
        super().__init__()
        self.raced = False

    def record_broadcast(self, stream: LiveStream, expected_version: int, events: Sequence[DomainEvent]) -> None:
        if not self.raced:
            self.raced = True
            current = self.items[(stream.project_id, stream.live_stream_id)]
            self.items[(stream.project_id, stream.live_stream_id)] = current.model_copy(
                update={"name": "renamed", "version": current.version + 1}
            )
        super().record_broadcast(stream, expected_version, events)  # the first attempt finds a newer version


def test_the_service_reapplies_after_losing_a_race() -> None:
    stream = ready_stream()
    service, repository, _ = service_with(stream, RacedRepository())
    assert service.on_plane_event(event(stream, "Stream Start")) == ["started"]
    stored = repository.items[(stream.project_id, stream.live_stream_id)]
    assert stored.broadcasting and stored.name == "renamed"
    assert isinstance(repository, RacedRepository) and repository.raced


# -- the reconnect window ------------------------------------------------------------------------


def test_a_drop_within_the_window_keeps_one_broadcast() -> None:
    stream = ready_stream(window=60)
    first, flips = run(stream, [change(stream, START, "st-1"), change(stream, END, "st-1", seconds=10)])
    assert flips == ["started", "disconnected"] and not first.broadcasting
    assert broadcasts.status(first)["state"] == "disconnected"
    assert broadcasts.window_left(first, T0 + timedelta(seconds=20)) == 50
    back, flips = run(first, [change(stream, CREATED, "st-2", seconds=20), change(stream, START, "st-2", seconds=21)])
    assert flips == ["reconnected"] and back.broadcasting and back.broadcast_started_at == T0
    assert broadcasts.status(back)["state"] == "connected" and broadcasts.window_left(back, T0) is None
    # The first drop's timer, firing late, finds the encoder back.
    assert broadcasts.expire_window(back, T0 + timedelta(seconds=10), T0 + timedelta(seconds=70)) is None


def test_the_windows_expiry_ends_the_broadcast_and_the_next_push_is_a_new_one() -> None:
    stream = ready_stream(window=60)
    dropped, _ = run(stream, [change(stream, START, "st-1"), change(stream, END, "st-1", seconds=10)])
    drop = T0 + timedelta(seconds=10)
    assert broadcasts.expire_window(dropped, drop, drop + timedelta(seconds=59)) is None  # too early
    expired = broadcasts.expire_window(dropped, drop, drop + timedelta(seconds=60))
    assert expired is not None and expired.flips == ("ended",)
    assert broadcasts.status(expired.stream)["state"] == "ended" and expired.stream.broadcast_started_at is None
    assert broadcasts.expire_window(expired.stream, drop, drop + timedelta(seconds=61)) is None  # fired twice
    _, flips = run(expired.stream, [change(stream, START, "st-2", seconds=100)])
    assert flips == ["started"]


def test_a_start_after_the_window_whose_expiry_is_late_ends_then_starts() -> None:
    stream = ready_stream(window=5)
    dropped, _ = run(stream, [change(stream, START, "st-1"), change(stream, END, "st-1", seconds=10)])
    _, flips = run(dropped, [change(stream, START, "st-2", seconds=30)])
    assert flips == ["ended", "started"]


def test_the_service_arms_the_timer_and_ends_the_broadcast_when_it_fires() -> None:
    stream = ready_stream(window=60)
    service, repository, timers = service_with(stream)
    service.on_plane_event(event(stream, "Stream Start"))
    assert service.on_plane_event(event(stream, "Stream End")) == ["disconnected"]
    drop = T0 + timedelta(seconds=1)  # the event's time; the clock says T0
    assert timers.armed == [(stream.project_id, stream.live_stream_id, drop, 61.0)]
    service.on_plane_event(event(stream, "Stream End"))  # redelivered: armed again, nothing else
    assert len(timers.armed) == 2 and len(repository.events) == 2

    early, _, early_timers = service_with(repository.items[(stream.project_id, stream.live_stream_id)], repository)
    assert early.on_window_expired(stream.project_id, stream.live_stream_id, drop) == []
    assert early_timers.armed[0][3] == 61.0  # too early: armed for the rest

    late, _, _ = service_with(
        repository.items[(stream.project_id, stream.live_stream_id)], repository, drop + timedelta(minutes=1)
    )
    assert late.on_window_expired(stream.project_id, stream.live_stream_id, drop) == ["ended"]
    assert [e.payload()["type"] for e in repository.events] == [
        "live-stream.broadcast.started",
        "live-stream.disconnected",
        "live-stream.broadcast.ended",
    ]


def test_the_timer_is_a_delayed_message_to_the_live_events_queue() -> None:
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/videoplane-live-events"
    drop = T0 + timedelta(seconds=10, microseconds=5)
    body = timer_message("pr1", "li1", drop)
    params: dict[str, Any] = {"QueueUrl": url, "MessageBody": body, "DelaySeconds": 60}
    assert strict_model.findings("sqs", "SendMessage", params) == []
    with Stubber(client) as stubber:
        stubber.add_response("send_message", {"MessageId": "m1"}, params)
        SqsReconnectTimers(client, url).arm("pr1", "li1", drop, 59.2)
        stubber.add_response("send_message", {"MessageId": "m2"}, {**params, "DelaySeconds": 900})
        SqsReconnectTimers(client, url).arm("pr1", "li1", drop, 5000)  # capped at SQS's 15 minutes
        stubber.assert_no_pending_responses()
    assert parse_timer(json.loads(body)) == ("pr1", "li1", drop)
    assert parse_timer({"detail-type": "IVS Stream State Change"}) is None


def test_complete_makes_the_running_pushs_end_final_and_ends_a_waiting_broadcast() -> None:
    stream = ready_stream(window=60)
    live, _ = run(stream, [change(stream, START, "st-1")])
    completed = broadcasts.complete(live, T0 + timedelta(seconds=5))
    assert completed.flips == () and completed.stream.broadcasting
    ended, flips = run(completed.stream, [change(stream, END, "st-1", seconds=6)])
    assert flips == ["ended"] and broadcasts.status(ended)["state"] == "ended"

    dropped, _ = run(stream, [change(stream, START, "st-1"), change(stream, END, "st-1", seconds=10)])
    waiting = broadcasts.complete(dropped, T0 + timedelta(seconds=20))
    assert waiting.flips == ("ended",) and broadcasts.status(waiting.stream)["state"] == "ended"
    # The next push, after complete, is a new broadcast with its own window again.
    _, flips = run(waiting.stream, [change(stream, START, "st-2", seconds=30), change(stream, END, "st-2", seconds=40)])
    assert flips == ["started", "disconnected"]


def test_key_reuse_a_push_right_after_complete_is_a_new_broadcast() -> None:
    """docs/live.md "Key reuse": the key is free at once after `complete` (and once the window has
    passed after a drop); within the window a push resumes the broadcast instead."""
    stream = ready_stream(window=60)
    live, _ = run(stream, [change(stream, START, "st-1")])
    completed = broadcasts.complete(live, T0 + timedelta(seconds=5)).stream
    ended, flips = run(completed, [change(stream, END, "st-1", seconds=6)])
    assert flips == ["ended"]  # no window after complete
    _, flips = run(ended, [change(stream, START, "st-2", seconds=7)])
    assert flips == ["started"]
