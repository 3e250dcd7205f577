"""The MediaLive plane's playlist switcher on a simulated clock: each input's HLS is written by the
test (no ffmpeg), the switcher ticks at chosen moments, events and metrics go to recording fakes."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devstack.loopback import PlaneError
from devstack.medialiveplane import ALERT, INPUT_CHANGE, ChannelRun, Fault, MediaLivePlane, ephemeral_range


class Recorder:
    """Stands for EventBridge and CloudWatch: keeps what the plane puts."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.metrics: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> None:
        self.events += [(e["DetailType"], json.loads(e["Detail"])) for e in Entries]

    def put_metric_data(self, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
        assert Namespace == "AWS/MediaLive"
        self.metrics += MetricData


class Inputs:
    """Writes an input's HLS as ffmpeg does: numbered segments, a playlist with program date-times."""

    def __init__(self, run: ChannelRun, epoch: float) -> None:
        self.run = run
        self.epoch = epoch
        self.written: dict[str, list[int]] = {name: [] for name in run.feeds}

    def segment(self, name: str, second: int) -> None:
        feed = self.run.feeds[name]
        feed.folder.mkdir(parents=True, exist_ok=True)
        (feed.folder / f"r000_{second:05d}.ts").write_bytes(b"\x47" * 188)
        self.written[name].append(second)
        lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:1"]
        for n in self.written[name][-10:]:
            stamp = datetime.fromtimestamp(self.epoch + n, UTC).isoformat().replace("+00:00", "Z")
            lines += [f"#EXT-X-PROGRAM-DATE-TIME:{stamp}", "#EXTINF:1.000000,", f"r000_{n:05d}.ts"]
        (feed.folder / "index.m3u8").write_text("\n".join(lines) + "\n")


def make_run(
    tmp_path: Path,
    recorder: Recorder,
    preference: str = "PRIMARY_INPUT_PREFERRED",
    black: bool = False,
    index_segments: int = 60,
) -> ChannelRun:
    plane = MediaLivePlane("ffmpeg", tmp_path, events=recorder, cloudwatch=recorder, metrics_seconds=1.0)
    group = plane.invoke("CreateInputSecurityGroup", {})[1]["SecurityGroup"]["Id"]
    ids = [
        plane.invoke(
            "CreateInput",
            {"Type": "RTMP_PUSH", "InputSecurityGroups": [group], "Destinations": [{"StreamName": f"live/{n}"}]},
        )[1]["Input"]["Id"]
        for n in ("p", "b")
    ]
    conditions: list[dict[str, Any]] = [
        {"FailoverConditionSettings": {"InputLossSettings": {"InputLossThresholdMsec": 1000}}}
    ]
    if black:
        conditions.append({"FailoverConditionSettings": {"VideoBlackSettings": {"VideoBlackThresholdMsec": 1000}}})
    failover = {
        "SecondaryInputId": ids[1],
        "InputPreference": preference,
        "ErrorClearTimeMsec": 2000,
        "FailoverConditions": conditions,
    }
    output = {"OutputSettings": {"HlsOutputSettings": {"NameModifier": "_src", "HlsSettings": {}}}}
    hls = {"Destination": {"DestinationRefId": "out"}, "IndexNSegments": index_segments}
    channel = plane.invoke(
        "CreateChannel",
        {
            "ChannelClass": "SINGLE_PIPELINE",
            "Destinations": [{"Id": "out", "Settings": [{"Url": "s3ssl://media/events/e/index"}]}],
            "EncoderSettings": {
                "VideoDescriptions": [],
                "AudioDescriptions": [],
                "TimecodeConfig": {"Source": "SYSTEMCLOCK"},
                "OutputGroups": [{"OutputGroupSettings": {"HlsGroupSettings": hls}, "Outputs": [output]}],
            },
            "InputAttachments": [
                {"InputId": ids[0], "InputAttachmentName": "primary", "AutomaticInputFailoverSettings": failover},
                {"InputId": ids[1], "InputAttachmentName": "backup"},
            ],
        },
    )[1]["Channel"]
    run = ChannelRun(plane, plane.channels[channel["Id"]], tmp_path / channel["Id"])
    run.output.folder.mkdir(parents=True)
    return run


def deliver(run: ChannelRun, inputs: Inputs, start: float, seconds: range, names: tuple[str, ...]) -> None:
    """Each named input delivers one segment a second; the switcher ticks every 0.1 s."""
    for second in seconds:
        for name in names:
            inputs.segment(name, second)
        for tenth in range(10):
            run.tick(start + second + tenth / 10)


def output(run: ChannelRun) -> str:
    return (run.output.folder / "index_src.m3u8").read_text()


def test_black_video_fails_over_after_its_threshold_when_the_pair_has_that_condition(tmp_path: Path) -> None:
    recorder = Recorder()
    run = make_run(tmp_path, recorder, black=True)
    start = time.monotonic()
    inputs = Inputs(run, time.time())
    deliver(run, inputs, start, range(3), ("primary", "backup"))
    assert run.active == "primary"
    run.feeds["primary"].faults.append(Fault("black", start + 3, start + 6))
    deliver(run, inputs, start, range(3, 4), ("primary", "backup"))
    assert run.active == "primary"  # black for less than VideoBlackThresholdMsec
    deliver(run, inputs, start, range(4, 5), ("primary", "backup"))
    assert run.active == "backup"
    alerts = [(d["alert_type"], d["alarm_state"]) for t, d in recorder.events if t == ALERT]
    assert ("Black Video Detected", "SET") in alerts and ("Input Failed Over", "SET") in alerts
    # Clean again for ErrorClearTimeMsec once the fault is over: back to the primary.
    deliver(run, inputs, start, range(5, 9), ("primary", "backup"))
    assert run.active == "primary"
    assert [d["active_input_attachment_name"] for t, d in recorder.events if t == INPUT_CHANGE] == ["backup", "primary"]


def test_equal_preference_stays_on_the_backup_when_the_primary_returns(tmp_path: Path) -> None:
    recorder = Recorder()
    run = make_run(tmp_path, recorder, preference="EQUAL_INPUT_PREFERENCE")
    start = time.monotonic()
    inputs = Inputs(run, time.time())
    deliver(run, inputs, start, range(3), ("primary", "backup"))
    deliver(run, inputs, start, range(3, 6), ("backup",))
    assert run.active == "backup"
    deliver(run, inputs, start, range(6, 12), ("primary", "backup"))
    assert run.active == "backup"
    text = output(run)
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1
    # No second lost: the backup's segments join where the primary's last one ended.
    assert text.count(".ts") == 12, text


def test_packet_loss_reports_dropped_frames_without_failing_over(tmp_path: Path) -> None:
    recorder = Recorder()
    run = make_run(tmp_path, recorder)
    start = time.monotonic()
    inputs = Inputs(run, time.time())
    run.feeds["primary"].faults.append(Fault("packet-loss", start, start + 10))
    deliver(run, inputs, start, range(4), ("primary", "backup"))
    assert run.active == "primary"
    dropped = [m["Value"] for m in recorder.metrics if m["MetricName"] == "DroppedFrames"]
    assert dropped and max(dropped) > 0
    names = {m["MetricName"] for m in recorder.metrics}
    assert {"ActiveAlerts", "InputLossSeconds", "NetworkIn", "InputVideoFrameRate"} <= names
    dimensions = recorder.metrics[0]["Dimensions"]
    assert dimensions == [{"Name": "ChannelId", "Value": run.channel["Id"]}, {"Name": "Pipeline", "Value": "0"}]


def test_the_window_slides_with_monotonic_numbers_and_counts_departed_discontinuities(tmp_path: Path) -> None:
    recorder = Recorder()
    run = make_run(tmp_path, recorder, index_segments=3)
    start = time.monotonic()
    inputs = Inputs(run, time.time())
    deliver(run, inputs, start, range(3), ("primary", "backup"))
    deliver(run, inputs, start, range(3, 5), ("backup",))
    assert "#EXT-X-DISCONTINUITY\n" in output(run)
    deliver(run, inputs, start, range(5, 10), ("backup",))
    lines = output(run).splitlines()
    assert "#EXT-X-DISCONTINUITY" not in lines
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:1" in lines
    sequence = int(next(line for line in lines if line.startswith("#EXT-X-MEDIA-SEQUENCE:")).split(":")[1])
    numbers = [int(line.rsplit("_", 1)[1][:-3]) for line in lines if line.endswith(".ts")]
    assert numbers == [sequence, sequence + 1, sequence + 2]


def test_a_fixed_time_switch_waits_for_its_time_and_names_itself(tmp_path: Path) -> None:
    recorder = Recorder()
    run = make_run(tmp_path, recorder, preference="EQUAL_INPUT_PREFERENCE")
    plane = run.plane
    plane.runs[run.channel["Id"]] = run
    start = time.monotonic()
    inputs = Inputs(run, time.time())
    deliver(run, inputs, start, range(2), ("primary", "backup"))
    at = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    action = {
        "ActionName": "maintenance",
        "ScheduleActionStartSettings": {"FixedModeScheduleActionStartSettings": {"Time": at}},
        "ScheduleActionSettings": {"InputSwitchSettings": {"InputAttachmentNameReference": "backup"}},
    }
    plane.invoke("BatchUpdateSchedule", {"ChannelId": run.channel["Id"], "Creates": {"ScheduleActions": [action]}})
    deliver(run, inputs, start, range(2, 3), ("primary", "backup"))
    assert run.active == "primary"
    time.sleep(1.1)
    deliver(run, inputs, start, range(3, 4), ("primary", "backup"))
    assert (run.active, run.action_name) == ("backup", "maintenance")
    details = plane.invoke("DescribeChannel", {"ChannelId": run.channel["Id"]})[1]
    assert details["State"] == "IDLE"  # this run was never started through the API
    change = next(d for t, d in recorder.events if t == INPUT_CHANGE)
    assert change["active_input_switch_action_name"] == "maintenance"


def test_a_repeated_request_id_creates_once(tmp_path: Path) -> None:
    plane = MediaLivePlane("ffmpeg", tmp_path)
    request = {"Type": "MP4_FILE", "Sources": [{"Url": "s3ssl://media/a.mp4"}], "RequestId": "r-1"}
    first = plane.invoke("CreateInput", request)[1]["Input"]["Id"]
    again = plane.invoke("CreateInput", request)[1]["Input"]["Id"]
    assert first == again and len(plane.inputs) == 1


def test_push_inputs_listen_only_on_ports_the_plane_lists_before_they_exist(tmp_path: Path) -> None:
    """The devstack denies `listener_ports()` (taken at start) to loopback ingest and webhook URLs, so
    no input made later may listen elsewhere; a full pool refuses the input."""
    plane = MediaLivePlane("ffmpeg", tmp_path, input_ports=3)
    listed = plane.listener_ports()
    assert len(listed) == 3
    group = plane.invoke("CreateInputSecurityGroup", {"WhitelistRules": [{"Cidr": "127.0.0.1/32"}]})[1]
    pushed = {"InputSecurityGroups": [group["SecurityGroup"]["Id"]]}
    rtmp = {**pushed, "Type": "RTMP_PUSH", "Destinations": [{"StreamName": "app/key"}]}
    srt = {**pushed, "Type": "SRT_LISTENER", "SrtSettings": {"SrtListenerSettings": {"MinimumLatency": 2000}}}
    made = [plane.invoke("CreateInput", request)[1]["Input"] for request in (rtmp, srt, rtmp)]
    ports = [int(i["Destinations"][0]["Port"]) for i in made]
    assert len(set(ports)) == 3 and set(ports) == listed == plane.listener_ports()
    with pytest.raises(PlaneError) as full:
        plane.invoke("CreateInput", rtmp)
    assert full.value.code == "UnprocessableEntityException"  # the pool is used up
    plane.invoke("DeleteInput", {"InputId": made[0]["Id"]})
    again = plane.invoke("CreateInput", rtmp)[1]["Input"]
    assert int(again["Destinations"][0]["Port"]) == ports[0]  # a deleted input's port is taken again


def test_the_pool_stays_out_of_the_ports_the_kernel_gives_to_any_bind(tmp_path: Path) -> None:
    """The pool is unbound until inputs listen: from the ephemeral range, a test's receiver bound to
    port 0 could get one of its ports and see its webhook URL refused as the stack's own."""
    low, high = ephemeral_range()
    plane = MediaLivePlane("ffmpeg", tmp_path, input_ports=64)
    ports = plane.listener_ports()
    assert len(ports) == 64 and all(1024 <= port < low for port in ports), sorted(ports)
    taken = []
    for _ in range(200):
        with socket.socket() as any_port:
            any_port.bind(("127.0.0.1", 0))
            taken.append(any_port.getsockname()[1])
    assert all(low <= port <= high for port in taken) and not ports & set(taken)
