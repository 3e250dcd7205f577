"""Restream relays: the plan (only added, changed and removed targets are touched), relay reports
(late, repeated and foreign ones change nothing), the services carrying them out, the relay
program's supervision, and the ECS adapter's requests (Stubber + the strict model walk)."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.live.adapters.relays import EcsRestreamRelays, RelayTaskSettings, run_task_request
from chalicelib.live.domain import restreams
from chalicelib.live.domain.errors import RelayUnavailable
from chalicelib.live.domain.live_streams import LiveStream, LiveStreamUpdate, Relay, RelayState, Restream
from chalicelib.live.domain.restreams import RelayReport, apply_report, plan, target_id, target_url, unlaunched
from chalicelib.live.ports import LiveStreamRepository, RestreamRelays
from chalicelib.live.services.live_streams import LiveStreamService
from chalicelib.live.services.restreams import RestreamService
from infra.relay import relay as program
from tests.unit import strict_model
from tests.unit.test_live_broadcasts import T0, event, ready_stream, service_with
from tests.unit.test_live_streams import ACTOR, FakeChannels, FakeRepository

A = Restream(name="a", server_url="rtmp://a.example/live", stream_key="ka")
B = Restream(name="b", server_url="rtmps://b.example:443/app", stream_key="kb")
C = Restream(name="c", server_url="srt://c.example:9000?latency=200", stream_key="kc")
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/videoplane-live-events"
SETTINGS = RelayTaskSettings(
    cluster="videoplane-relays",
    task_definition="arn:aws:ecs:us-east-1:123456789012:task-definition/videoplane-restream-relay:3",
    subnets=("subnet-0123456789abcdef0",),
    security_groups=("sg-0123456789abcdef0",),
)


def ids() -> Any:
    counter = itertools.count(1)
    return lambda: f"rl{next(counter)}"


def live(*targets: Restream) -> LiveStream:
    return ready_stream().model_copy(update={"restreams": targets, "broadcast_started_at": T0, "broadcasting": True})


def test_targets_are_known_by_url_and_key_not_by_name() -> None:
    assert target_id(A) == target_id(A.model_copy(update={"name": "renamed"}))
    assert target_id(A) != target_id(A.model_copy(update={"stream_key": "other"}))
    assert target_url(A) == "rtmp://a.example/live/ka"
    assert target_url(B) == "rtmps://b.example:443/app/kb"
    assert target_url(C) == "srt://c.example:9000?latency=200&streamid=kc"


def test_a_broadcast_starts_a_relay_per_target_and_its_end_stops_them() -> None:
    started = plan(live(A, B), T0, ids())
    assert [(r.relay_id, t.name) for r, t in started.start] == [("rl1", "a"), ("rl2", "b")]
    assert started.stop == () and [r.state for r in started.stream.relays] == [RelayState.CONNECTING] * 2

    ended = plan(started.stream.model_copy(update={"broadcast_started_at": None}), T0, ids())
    assert [r.relay_id for r in ended.stop] == ["rl1", "rl2"] and ended.start == ()
    assert {r.state for r in ended.stream.relays} == {RelayState.STOPPED}  # kept for the status
    assert plan(ended.stream, T0, ids()).changed is False  # ended again: nothing to do


def test_editing_targets_while_live_touches_only_the_changed_ones() -> None:
    running = plan(live(A, B), T0, ids()).stream
    first, second = running.relays
    # B's key changes (another destination), C is added, A is renamed: A's relay keeps running.
    edited = running.model_copy(
        update={"restreams": (A.model_copy(update={"name": "A!"}), B.model_copy(update={"stream_key": "x"}), C)}
    )
    changed = plan(edited, T0, lambda: "new")
    assert changed.stop == (second,)
    assert [t.name for _, t in changed.start] == ["b", "c"]
    assert changed.stream.relays[0] is first
    assert plan(changed.stream, T0, ids()).changed is False  # applied twice: nothing more


def test_a_failed_relay_is_not_restarted_by_an_unrelated_edit() -> None:
    running = plan(live(A), T0, ids()).stream
    failed = running.model_copy(update={"relays": (running.relays[0].model_copy(update={"state": "failed"}),)})
    assert plan(failed.model_copy(update={"restreams": (A, B)}), T0, ids()).stop == ()
    assert [t.name for _, t in plan(failed.model_copy(update={"restreams": (A, B)}), T0, ids()).start] == ["b"]


def report(relay_id: str, state: str, sequence: int, reason: str | None = None) -> RelayReport:
    return RelayReport(
        project_id="p", live_stream_id="l", relay_id=relay_id, state=RelayState(state), reason=reason,
        sequence=sequence, time=T0 + timedelta(seconds=sequence),
    )  # fmt: skip


def test_reports_apply_in_order_once_and_never_after_a_stop() -> None:
    stream = plan(live(A), T0, ids()).stream
    retrying = apply_report(stream, report("rl1", "retrying", 2, "Connection refused"))
    assert retrying is not None and retrying.relays[0].reason == "Connection refused"
    assert retrying.version == stream.version + 1
    assert apply_report(retrying, report("rl1", "connecting", 1)) is None  # older than the last applied
    assert apply_report(retrying, report("rl1", "retrying", 2)) is None  # a repeat
    assert apply_report(retrying, report("rl9", "live", 5)) is None  # not a relay of this stream
    ended = plan(retrying.model_copy(update={"broadcast_started_at": None}), T0, ids()).stream
    assert apply_report(ended, report("rl1", "live", 9)) is None  # stopped by the app: final


def test_unlaunched_relays_are_the_ones_that_never_reported() -> None:
    stream = plan(live(A, B), T0, ids()).stream
    assert [r.relay_id for r, _ in unlaunched(stream)] == ["rl1", "rl2"]
    reported = apply_report(stream, report("rl1", "connecting", 1))
    assert reported is not None and [r.relay_id for r, _ in unlaunched(reported)] == ["rl2"]
    assert unlaunched(stream.model_copy(update={"broadcast_started_at": None})) == ()


def test_report_messages_parse_and_others_do_not() -> None:
    body = {**report("rl1", "live", 3).model_dump(mode="json", by_alias=True), "kind": restreams.REPORT_KIND}
    assert RelayReport.from_message(body) == report("rl1", "live", 3)
    assert RelayReport.from_message({**body, "kind": "other"}) is None
    assert RelayReport.from_message({**body, "state": "exploded"}) is None
    assert RelayReport.from_message({**body, "sequence": 0}) is None


def test_statuses_show_each_target_without_its_key() -> None:
    stream = plan(live(A, B), T0, ids()).stream
    stream = apply_report(stream, report("rl2", "failed", 4, "x" * 1000)) or stream
    shown = restreams.statuses(stream.model_copy(update={"restreams": (A, B, C)}))
    assert shown[0] == {"name": "a", "serverUrl": A.server_url, "state": "connecting", "since": T0}
    assert shown[1]["state"] == "failed" and len(shown[1]["reason"]) == restreams.MAX_REASON_LENGTH
    assert shown[2] == {"name": "c", "serverUrl": C.server_url, "state": "idle"}
    assert "ka" not in str(shown)


class FakeRelays:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.stopped: list[str] = []

    def start(self, stream: LiveStream, relay: Relay, target: Restream) -> None:
        self.started.append(target.name)

    def stop(self, relay: Relay) -> None:
        self.stopped.append(relay.relay_id)


def relay_service(repository: FakeRepository) -> tuple[RestreamService, FakeRelays]:
    fake = FakeRelays()
    typed: RestreamRelays = fake
    typed_repository: LiveStreamRepository = repository
    return RestreamService(typed_repository, lambda: typed, lambda: T0, ids()), fake


def test_broadcast_start_and_end_start_and_stop_the_relays() -> None:
    stream = ready_stream().model_copy(update={"restreams": (A, B)})
    service, repository, _ = service_with(stream)
    service.restreams, relays = relay_service(repository)
    service.on_plane_event(event(stream, "Stream Start"))
    assert relays.started == ["a", "b"]
    service.on_plane_event(event(stream, "Stream Start"))  # redelivered: the unreported are started again
    assert relays.started == ["a", "b", "a", "b"]
    service.on_plane_event(event(stream, "Stream End"))  # window 0: the broadcast ends
    assert relays.stopped == ["rl1", "rl2"]


def test_a_patch_while_live_starts_and_stops_only_the_changed_targets() -> None:
    repository = FakeRepository()
    restream_service, relays = relay_service(repository)
    stream = plan(live(A, B), T0, ids()).stream
    repository.items[(stream.project_id, stream.live_stream_id)] = stream.model_copy(
        update={"project_id": ACTOR.project_id}
    )
    for relay in stream.relays:  # both relays reported: they are running
        current = repository.items[(ACTOR.project_id, stream.live_stream_id)]
        repository.items[(ACTOR.project_id, stream.live_stream_id)] = (
            apply_report(current, report(relay.relay_id, "live", 1)) or current
        )
    service = LiveStreamService(repository, FakeChannels, lambda: T0, restreams=restream_service)
    service.update(ACTOR, stream.live_stream_id, LiveStreamUpdate.model_validate({"restreams": [A, C]}))
    assert relays.started == ["c"] and relays.stopped == ["rl2"]


def test_a_relay_that_cannot_be_stopped_is_logged_not_raised() -> None:
    repository = FakeRepository()
    service, _ = relay_service(repository)

    class Stuck(FakeRelays):
        def stop(self, relay: Relay) -> None:
            raise RelayUnavailable()

    stuck: RestreamRelays = Stuck()
    service.relays = lambda: stuck
    service.carry_out(ready_stream(), (Relay(relay_id="rl1", target_id="t", changed_at=T0),))


# -- the relay program ---------------------------------------------------------------------------


def runs(*outcomes: program.Run) -> Any:
    queue = list(outcomes)

    def run_once(went_live: Any) -> program.Run:
        outcome = queue.pop(0)
        if outcome.went_live:
            went_live()
        return outcome

    return run_once


def supervised(*outcomes: program.Run, max_attempts: int = 3) -> tuple[int, list[tuple[str, str | None]]]:
    reports: list[tuple[str, str | None]] = []
    code = program.supervise(
        runs(*outcomes), lambda s, r=None: reports.append((s, r)), threading.Event(), max_attempts, (0.0,)
    )
    return code, reports


def test_the_relay_retries_a_refusing_target_then_gives_up() -> None:
    refused = program.Run(False, 1, "Connection refused")
    code, reports = supervised(refused, refused, refused)
    assert code == 1
    assert reports == [
        ("connecting", None), ("retrying", "Connection refused"), ("retrying", "Connection refused"),
        ("failed", "Connection refused"),
    ]  # fmt: skip


def test_a_relay_that_went_live_starts_counting_again_and_stops_with_its_source() -> None:
    dropped, refused = program.Run(True, 1, "Broken pipe"), program.Run(False, 1, "Connection refused")
    code, reports = supervised(refused, refused, dropped, refused, program.Run(True, 0, ""))
    assert code == 0
    assert [s for s, _ in reports] == [
        "connecting", "retrying", "retrying", "live", "retrying", "retrying", "live", "stopped",
    ]  # fmt: skip


def test_the_relay_reports_in_sequence_and_survives_a_lost_report() -> None:
    sent: list[str] = []

    def send(body: str) -> None:
        sent.append(body)
        if len(sent) == 1:
            raise ConnectionError("queue unreachable")

    env = {"RELAY_REPORT_KIND": restreams.REPORT_KIND, "RELAY_PROJECT_ID": "p", "RELAY_LIVE_STREAM_ID": "l",
           "RELAY_ID": "rl1"}  # fmt: skip
    reporter = program.Reporter(send, env, lambda: datetime(2026, 1, 1, tzinfo=UTC))
    reporter("connecting")
    reporter("live")
    parsed = [RelayReport.model_validate_json(body) for body in sent]
    assert [(r.state, r.sequence) for r in parsed] == [(RelayState.CONNECTING, 1), (RelayState.LIVE, 2)]


def test_the_relay_command_picks_the_container_of_the_target() -> None:
    assert program.relay_command("ffmpeg", "https://s/x.m3u8", target_url(A))[-3:] == ["-f", "flv", target_url(A)]
    assert program.relay_command("ffmpeg", "https://s/x.m3u8", target_url(C))[-3:-1] == ["-f", "mpegts"]
    assert list(program.bytes_written(["frame=3\n", "total_size=0\n", "total_size=4096\n", "total_size=N/A"])) == [
        0,
        4096,
    ]


# -- the ECS adapter -----------------------------------------------------------------------------


def ecs() -> Any:
    return boto3.client("ecs", region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit")


def checked(stubber: Stubber, operation: str, method: str, response: dict[str, Any], params: dict[str, Any]) -> None:
    assert strict_model.findings("ecs", operation, params) == [], params
    stubber.add_response(method, response, params)


TASK = "arn:aws:ecs:us-east-1:123456789012:task/videoplane-relays/0123456789abcdef0123456789abcdef"


def test_start_runs_one_fargate_task_per_relay_idempotently() -> None:
    stream = plan(live(A), T0, ids()).stream
    relay = stream.relays[0]
    request = run_task_request(SETTINGS, stream, relay, A, QUEUE)
    environment = {e["name"]: e["value"] for e in request["overrides"]["containerOverrides"][0]["environment"]}
    assert environment["RELAY_TARGET_URL"] == "rtmp://a.example/live/ka"
    assert environment["RELAY_SOURCE_URL"] == "https://play.example/x.m3u8"
    assert request["clientToken"] == request["startedBy"] == relay.relay_id
    client = ecs()
    with Stubber(client) as stubber:
        checked(stubber, "RunTask", "run_task", {"tasks": [{"taskArn": TASK}], "failures": []}, request)
        EcsRestreamRelays(client, SETTINGS, QUEUE).start(stream, relay, A)
        stubber.assert_no_pending_responses()


def test_stop_finds_the_relays_tasks_by_its_id() -> None:
    relay = Relay(relay_id="rlAbC", target_id="t", changed_at=T0)
    client = ecs()
    with Stubber(client) as stubber:
        listed = {"cluster": "videoplane-relays", "startedBy": "rlAbC"}
        checked(stubber, "ListTasks", "list_tasks", {"taskArns": [TASK]}, listed)
        stop = {"cluster": "videoplane-relays", "task": TASK, "reason": "Videoplane: the restream target was "
                "removed or the broadcast ended."}  # fmt: skip
        checked(stubber, "StopTask", "stop_task", {"task": {"taskArn": TASK}}, stop)
        EcsRestreamRelays(client, SETTINGS, QUEUE).stop(relay)
        checked(stubber, "ListTasks", "list_tasks", {"taskArns": []}, listed)
        EcsRestreamRelays(client, SETTINGS, QUEUE).stop(relay)  # gone already: nothing to stop
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("code", ["ThrottlingException", "ServerException"])
def test_ecs_failures_a_retry_may_fix_are_unavailable(code: str) -> None:
    stream = plan(live(A), T0, ids()).stream
    client = ecs()
    with Stubber(client) as stubber:
        stubber.add_client_error("run_task", code, http_status_code=500 if code == "ServerException" else 400)
        with pytest.raises(RelayUnavailable):
            EcsRestreamRelays(client, SETTINGS, QUEUE).start(stream, stream.relays[0], A)
        stubber.add_response("run_task", {"tasks": [], "failures": [{"reason": "RESOURCE:ENI"}]})
        with pytest.raises(RelayUnavailable, match="RESOURCE:ENI"):
            EcsRestreamRelays(client, SETTINGS, QUEUE).start(stream, stream.relays[0], A)
