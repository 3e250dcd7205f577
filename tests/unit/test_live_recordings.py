"""Recordings: IVS's recording state changes joined per broadcast, in any order and any number of
times; one `live-stream.recording.ended` per recorded broadcast, written with the change."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.live.domain import broadcasts, recordings
from chalicelib.live.domain.live_streams import LiveStream
from chalicelib.live.domain.recordings import RecordingStateChange, RecordingStatus, apply_recording
from tests.unit.test_live_broadcasts import CHANNEL_ARN, END, START, T0, change, ready_stream, run, service_with

PREFIX = "ivs/v1/123456789012/AbCdEf123456/2026/3/1/12/0/"


def recorded_stream(window: int = 60) -> LiveStream:
    return ready_stream(window).model_copy(update={"record": True})


def rec(
    stream: LiveStream, status: RecordingStatus, stream_id: str = "st-1", seconds: float = 0
) -> RecordingStateChange:
    return RecordingStateChange(
        channel_arn=CHANNEL_ARN,
        channel_name=stream.channel_name,
        stream_ids=(stream_id,),
        status=status,
        key_prefix=PREFIX + f"rec-{stream_id}",
        time=T0 + timedelta(seconds=seconds),
    )


def apply_all(stream: LiveStream, changes: list[RecordingStateChange]) -> tuple[LiveStream, list[tuple[str, ...]]]:
    done: list[tuple[str, ...]] = []
    for each in changes:
        outcome = apply_recording(stream, each)
        if outcome is not None:
            stream = outcome.stream
            done += [r.key_prefixes for r in outcome.recorded]
    return stream, done


def two_pushes_in_one_broadcast(window: int = 60) -> LiveStream:
    """Pushed, dropped for 10 s, back, ended: one broadcast of two pushes, closed by the window."""
    stream = recorded_stream(window)
    joined, flips = run(
        stream,
        [
            change(stream, START, "st-1"),
            change(stream, END, "st-1", seconds=10),
            change(stream, START, "st-2", seconds=20),
            change(stream, END, "st-2", seconds=30),
        ],
    )
    assert flips == ["started", "disconnected", "reconnected", "disconnected"]
    expired = broadcasts.expire_window(joined, T0 + timedelta(seconds=30), T0 + timedelta(seconds=91))
    assert expired is not None
    return expired.stream


def test_a_drop_within_the_window_gives_one_recording_of_both_pushes() -> None:
    stream = two_pushes_in_one_broadcast()
    assert [b.stream_ids for b in stream.unrecorded] == [("st-1", "st-2")]
    ends = [rec(stream, RecordingStatus.START, "st-1"), rec(stream, RecordingStatus.END, "st-1", 11)]
    waiting, done = apply_all(stream, ends)
    assert done == []  # the second push's recording is still being written
    settled, done = apply_all(
        waiting, [rec(stream, RecordingStatus.START, "st-2", 20), rec(stream, RecordingStatus.END, "st-2", 31)]
    )
    assert done == [(PREFIX + "rec-st-1", PREFIX + "rec-st-2")]
    assert settled.unrecorded == () and settled.recordings == ()


def test_a_drop_beyond_the_window_gives_two_recordings() -> None:
    stream = recorded_stream(window=5)
    ended, flips = run(
        stream,
        [
            change(stream, START, "st-1"),
            change(stream, END, "st-1", seconds=10),
            change(stream, START, "st-2", seconds=100),
            change(stream, END, "st-2", seconds=110),
        ],
    )
    assert flips == ["started", "disconnected", "ended", "started", "disconnected"]
    expired = broadcasts.expire_window(ended, T0 + timedelta(seconds=110), T0 + timedelta(seconds=120))
    assert expired is not None
    changes = [rec(stream, RecordingStatus.END, "st-1", 11), rec(stream, RecordingStatus.END, "st-2", 111)]
    _, done = apply_all(expired.stream, changes)
    assert done == [(PREFIX + "rec-st-1",), (PREFIX + "rec-st-2",)]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))), ids=lambda o: "".join(map(str, o)))
def test_every_order_of_the_recording_events_announces_once(order: tuple[int, ...]) -> None:
    stream = two_pushes_in_one_broadcast()
    events = [
        rec(stream, RecordingStatus.START, "st-1"),
        rec(stream, RecordingStatus.END, "st-1", 11),
        rec(stream, RecordingStatus.START, "st-2", 20),
        rec(stream, RecordingStatus.END, "st-2", 31),
    ]
    ordered = [events[i] for i in order]
    _, done = apply_all(stream, ordered + ordered)  # and every one of them again
    assert done == [(PREFIX + "rec-st-1", PREFIX + "rec-st-2")]


def test_recordings_that_end_before_the_broadcast_are_announced_with_its_end() -> None:
    stream = recorded_stream(window=60)
    live, _ = run(stream, [change(stream, START, "st-1"), change(stream, END, "st-1", seconds=10)])
    early, done = apply_all(live, [rec(stream, RecordingStatus.END, "st-1", 11)])
    assert done == [] and early.unrecorded == ()  # the window is still open
    service, repository, _ = service_with(early, now=T0 + timedelta(seconds=80))
    assert service.on_window_expired(stream.project_id, stream.live_stream_id, T0 + timedelta(seconds=10)) == ["ended"]
    payloads = [e.payload() for e in repository.events]
    assert [p["type"] for p in payloads] == ["live-stream.broadcast.ended", "live-stream.recording.ended"]
    assert payloads[1]["recordings"] == [PREFIX + "rec-st-1"] and payloads[1]["name"] == "show"
    assert payloads[1]["broadcastStartedAt"].startswith("2026-03-01T12:00:00")


def test_failed_recordings_are_left_out_and_none_left_announces_nothing() -> None:
    stream = two_pushes_in_one_broadcast()
    changes = [rec(stream, RecordingStatus.START_FAILURE, "st-1"), rec(stream, RecordingStatus.END, "st-2", 31)]
    _, done = apply_all(stream, changes)
    assert done == [(PREFIX + "rec-st-2",)]
    both_failed = [rec(stream, RecordingStatus.START_FAILURE, "st-1"), rec(stream, RecordingStatus.END_FAILURE, "st-2")]
    settled, done = apply_all(stream, both_failed)
    assert done == [] and settled.unrecorded == ()


def test_an_unrecorded_stream_waits_for_nothing() -> None:
    stream = ready_stream(window=0)
    ended, _ = run(stream, [change(stream, START, "st-1"), change(stream, END, "st-1", seconds=10)])
    assert ended.unrecorded == () and ended.broadcast_sessions == ()


def recording_event(stream: LiveStream, status: str, **detail: Any) -> dict[str, Any]:
    """An "IVS Recording State Change" as EventBridge delivers it (IVS's documented shape)."""
    return {
        "version": "0",
        "id": "7a8e6d2f-0000-4000-8000-000000000000",
        "detail-type": "IVS Recording State Change",
        "source": "aws.ivs",
        "account": "123456789012",
        "time": "2026-03-01T12:00:11Z",
        "region": "us-east-1",
        "resources": [CHANNEL_ARN],
        "detail": {
            "channel_name": stream.channel_name,
            "stream_id": "st-1",
            "recording_status": status,
            "recording_status_reason": "",
            "recording_s3_bucket_name": "videoplane-media",
            "recording_s3_key_prefix": PREFIX + "rec-st-1",
            "recording_duration_ms": 11000,
            "recording_session_id": "rs-1",
            "recording_session_stream_ids": ["st-1"],
            **detail,
        },
    }


def test_only_recording_state_changes_with_a_prefix_parse() -> None:
    stream = recorded_stream()
    parsed = RecordingStateChange.from_event(recording_event(stream, "Recording End"))
    assert parsed is not None and parsed.status is RecordingStatus.END and parsed.stream_ids == ("st-1",)
    assert RecordingStateChange.from_event(recording_event(stream, "Recording Paused")) is None
    assert RecordingStateChange.from_event(recording_event(stream, "Recording End", recording_s3_key_prefix="")) is None
    assert RecordingStateChange.from_event({"detail-type": "IVS Stream State Change"}) is None


def test_the_service_announces_a_recorded_broadcast_once() -> None:
    stream = two_pushes_in_one_broadcast()
    service, repository, _ = service_with(stream)
    first = recording_event(stream, "Recording End")
    second = recording_event(
        stream,
        "Recording End",
        stream_id="st-2",
        recording_s3_key_prefix=PREFIX + "rec-st-2",
        recording_session_stream_ids=["st-2"],
    )
    for each in (first, second, second, first):
        assert service.on_plane_event(each) == []
    payloads = [e.payload() for e in repository.events]
    assert [p["type"] for p in payloads] == ["live-stream.recording.ended"]
    assert payloads[0]["recordings"] == [PREFIX + "rec-st-1", PREFIX + "rec-st-2"]
    assert first["detail-type"] == recordings.RECORDING_STATE_CHANGE


def test_complete_after_the_recordings_ended_announces_the_broadcast() -> None:
    """The pushes' recordings are in before `complete` ends the waiting broadcast: announced with it."""
    from tests.unit.test_live_streams import ACTOR, service

    live_service, repository, _ = service()
    created = live_service.create(ACTOR, creation_recorded())
    stream = repository.items[(ACTOR.project_id, created.live_stream_id)]
    assert stream.channel is not None
    dropped, _ = run(stream, [change(stream, START, "st-1"), change(stream, END, "st-1", seconds=10)])
    waiting, done = apply_all(
        dropped.model_copy(update={"channel": stream.channel}), [rec(stream, RecordingStatus.END, "st-1", 11)]
    )
    assert done == []
    repository.items[(ACTOR.project_id, created.live_stream_id)] = waiting
    live_service.complete(ACTOR, created.live_stream_id)
    types = [e.payload()["type"] for e in repository.events]
    assert types[-2:] == ["live-stream.broadcast.ended", "live-stream.recording.ended"]
    assert repository.events[-1].payload()["recordings"] == [PREFIX + "rec-st-1"]


def creation_recorded() -> Any:
    from chalicelib.live.domain.live_streams import LiveStreamCreation

    return LiveStreamCreation.model_validate({"name": "Show", "record": True, "reconnectWindow": 60})
