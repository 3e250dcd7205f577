"""The devstack's MediaLive plane driven like MediaLive: boto3's medialive client over HTTP, two ffmpeg
encoders pushing RTMP to a channel's failover pair, its events read from the default bus through an
EventBridge rule and an SQS queue (moto over HTTP), its output read from the media server."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.live.adapters.medialive import MediaLiveChannels, MediaLiveSettings
from chalicelib.live.domain.live_event_templates import built_in
from chalicelib.live.domain.live_events import LiveEventCreation, new_live_event
from devstack import mediatools
from devstack.medialiveplane import ALERT, INPUT_CHANGE, STATE_CHANGE, MediaLivePlane
from devstack.mediaserver import MediaServer
from tests.devstack.media_fixtures import MEDIA_BUCKET, UPLOADS_BUCKET, Aws, ffmpeg, start_aws

CLEAR_MSEC = 2000
LOSS_MSEC = 1000


@dataclass
class Stack:
    aws: Aws
    plane: MediaLivePlane
    medialive: Any
    media_url: str
    queue_url: str
    key: str  # the channels' destination key (their own per test: moto's S3 outlives the test)
    seen: list[dict[str, Any]]

    def events(self, wanted: Callable[[list[dict[str, Any]]], bool], timeout: float = 15.0) -> list[dict[str, Any]]:
        """MediaLive's events so far, read from the queue until `wanted` holds for them."""
        deadline = time.monotonic() + timeout
        while not wanted(self.seen) and time.monotonic() < deadline:
            received = self.aws.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in received.get("Messages", []):
                self.seen.append(json.loads(message["Body"]))
                self.aws.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return self.seen


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    for aws in start_aws():
        # moto's backends outlive its server in this process: names of this test's own.
        name = f"medialive-{uuid.uuid4().hex[:8]}"
        queue_url = aws.sqs.create_queue(QueueName=name)["QueueUrl"]
        attributes = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        aws.events.put_rule(Name=name, EventPattern='{"source":["aws.medialive"]}')
        aws.events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": attributes["Attributes"]["QueueArn"]}])
        media = MediaServer(aws.s3, MEDIA_BUCKET)
        media_url = media.start()
        plane = MediaLivePlane(
            mediatools.ffmpeg(),
            tmp_path / "medialive",
            state_file=tmp_path / "medialive.json",
            events=aws.events,
            s3=aws.s3,
            cloudwatch=aws.client("cloudwatch"),
            secrets=aws.client("secretsmanager"),
            mount=media.mount,
            metrics_seconds=1.0,
        )
        url = plane.start()
        try:
            yield Stack(aws, plane, aws.client("medialive", url), media_url, queue_url, f"live-events/{name}/index", [])
        finally:
            plane.stop()
            media.stop()


def encoder_settings(index_segments: int = 60) -> dict[str, Any]:
    hls = {"Destination": {"DestinationRefId": "out"}, "IndexNSegments": index_segments, "SegmentLength": 1}
    output = {
        "OutputName": "source",
        "VideoDescriptionName": "v",
        "AudioDescriptionNames": ["a"],
        "OutputSettings": {
            "HlsOutputSettings": {"NameModifier": "_src", "HlsSettings": {"StandardHlsSettings": {"M3u8Settings": {}}}}
        },
    }
    return {
        "VideoDescriptions": [{"Name": "v", "Width": 320, "Height": 180}],
        "AudioDescriptions": [{"Name": "a", "AudioSelectorName": "default"}],
        "TimecodeConfig": {"Source": "SYSTEMCLOCK"},
        "OutputGroups": [{"OutputGroupSettings": {"HlsGroupSettings": hls}, "Outputs": [output]}],
    }


def rtmp_input(medialive: Any, name: str) -> dict[str, Any]:
    group = medialive.create_input_security_group(WhitelistRules=[{"Cidr": "127.0.0.1/32"}])["SecurityGroup"]
    created = medialive.create_input(
        Name=name, Type="RTMP_PUSH", InputSecurityGroups=[group["Id"]], Destinations=[{"StreamName": f"live/{name}"}]
    )
    return dict(created["Input"])


def failover_channel(stack: Stack, primary: str, backup: str, preference: str = "PRIMARY_INPUT_PREFERRED") -> str:
    failover = {
        "SecondaryInputId": backup,
        "InputPreference": preference,
        "ErrorClearTimeMsec": CLEAR_MSEC,
        "FailoverConditions": [
            {"FailoverConditionSettings": {"InputLossSettings": {"InputLossThresholdMsec": LOSS_MSEC}}}
        ],
    }
    channel = stack.medialive.create_channel(
        Name="event",
        ChannelClass="SINGLE_PIPELINE",
        Destinations=[{"Id": "out", "Settings": [{"Url": f"s3ssl://{MEDIA_BUCKET}/{stack.key}"}]}],
        EncoderSettings=encoder_settings(),
        InputSpecification={"Codec": "AVC", "Resolution": "SD", "MaximumBitrate": "MAX_10_MBPS"},
        InputAttachments=[
            {"InputId": primary, "InputAttachmentName": "primary", "AutomaticInputFailoverSettings": failover},
            {"InputId": backup, "InputAttachmentName": "backup"},
        ],
    )["Channel"]
    assert channel["State"] == "CREATING"
    return str(channel["Id"])


def publish(url: str, muxer: str = "flv") -> subprocess.Popen[bytes]:
    """An encoder pushing a small test picture and tone (1 s GOP) until killed; started again until
    the channel's listener takes it (MediaLive wants the channel running before the push)."""
    command = [
        mediatools.ffmpeg(), "-hide_banner", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-sc_threshold", "0",
        "-c:a", "aac", "-f", muxer, url,
    ]  # fmt: skip
    for _ in range(20):
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            process.wait(1.0)
        except subprocess.TimeoutExpired:
            return process
        time.sleep(0.3)
    raise AssertionError(f"no listener took the push to {url}")


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {check}")


def written(stack: Stack, channel_id: str, count: int) -> None:
    """Waits for `count` more segments in the channel's output (from the input now active)."""
    run = stack.plane.runs[channel_id]
    before = len(run.published)
    wait_for(lambda: len(run.published) >= before + count)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def active(stack: Stack, channel_id: str) -> str:
    return str(
        stack.medialive.describe_channel(ChannelId=channel_id)["PipelineDetails"][0]["ActiveInputAttachmentName"]
    )


def of_type(events: list[dict[str, Any]], detail_type: str) -> list[dict[str, Any]]:
    return [e["detail"] for e in events if e["detail-type"] == detail_type]


def test_a_failover_pair_switches_on_loss_and_back_when_the_primary_is_clean(stack: Stack) -> None:
    medialive = stack.medialive
    primary, backup = rtmp_input(medialive, "primary"), rtmp_input(medialive, "backup")
    assert primary["Destinations"][0]["Url"].startswith("rtmp://127.0.0.1:")
    channel_id = failover_channel(stack, primary["Id"], backup["Id"])
    assert medialive.describe_input(InputId=primary["Id"])["State"] == "ATTACHED"
    assert medialive.describe_input(InputId=backup["Id"])["AttachedChannels"] == [channel_id]
    medialive.start_channel(ChannelId=channel_id)
    wait_for(lambda: medialive.describe_channel(ChannelId=channel_id)["State"] == "RUNNING")
    with pytest.raises(ClientError) as running:
        medialive.delete_channel(ChannelId=channel_id)
    assert running.value.response["Error"]["Code"] == "ConflictException"

    encoders = [publish(primary["Destinations"][0]["Url"]), publish(backup["Destinations"][0]["Url"])]
    try:
        playlist = f"{stack.media_url}/{stack.key}_src.m3u8"
        assert "index_src.m3u8" in wait_for(lambda: _get(f"{stack.media_url}/{stack.key}.m3u8"))
        wait_for(lambda: (_get(playlist) or "").count(".ts") >= 3)
        assert active(stack, channel_id) == "primary"

        encoders[0].kill()  # the primary's encoder dies
        wait_for(lambda: active(stack, channel_id) == "backup", timeout=10)
        written(stack, channel_id, 2)
        encoders[0] = publish(primary["Destinations"][0]["Url"])  # and comes back
        wait_for(lambda: active(stack, channel_id) == "primary", timeout=20)
        written(stack, channel_id, 2)

        # An injected loss on the primary fails over again, and its end switches back.
        request = urllib.request.Request(
            f"{stack.plane.url}/_devstack/channels/{channel_id}/faults",
            data=json.dumps({"input": "primary", "kind": "loss", "seconds": 3}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 202
        wait_for(lambda: active(stack, channel_id) == "backup", timeout=10)
        written(stack, channel_id, 2)
        wait_for(lambda: active(stack, channel_id) == "primary", timeout=20)
        written(stack, channel_id, 2)
    finally:
        for encoder in encoders:
            encoder.kill()
    medialive.stop_channel(ChannelId=channel_id)
    wait_for(lambda: medialive.describe_channel(ChannelId=channel_id)["State"] == "IDLE")

    # Four switches, each behind a discontinuity, numbered on.
    text = _get(playlist) or ""
    assert text.count("#EXT-X-DISCONTINUITY\n") == 4, text
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    numbers = [int(line.rsplit("_", 1)[1][:-3]) for line in text.splitlines() if line.endswith(".ts")]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers
    # The output decodes across the switches (ffmpeg reads it from the media server).
    decoded = subprocess.run(
        [mediatools.ffmpeg(), "-v", "error", "-i", playlist, "-f", "null", "-"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert decoded.returncode == 0, decoded.stderr[-2000:]
    # The output is in the destination's bucket as well.
    listed = stack.aws.s3.list_objects_v2(Bucket=MEDIA_BUCKET, Prefix=stack.key)["Contents"]
    assert {f"{stack.key}.m3u8", f"{stack.key}_src.m3u8"} <= {o["Key"] for o in listed}

    events = stack.events(lambda seen: len(of_type(seen, INPUT_CHANGE)) >= 4 and len(of_type(seen, STATE_CHANGE)) >= 5)
    changes = of_type(events, INPUT_CHANGE)
    assert [c["active_input_attachment_name"] for c in changes] == ["backup", "primary", "backup", "primary"]
    channel_arn = medialive.describe_channel(ChannelId=channel_id)["Arn"]
    assert changes[0] == {
        "active_input_attachment_name": "backup",
        "active_input_switch_action_name": "",
        "channel_arn": channel_arn,
        "message": changes[0]["message"],
        "pipeline": "0",
    }
    states = [(s["state"], s["pipelines_running_count"]) for s in of_type(events, STATE_CHANGE)]
    assert states == [("IDLE", 0), ("STARTING", 0), ("RUNNING", 1), ("STOPPING", 1), ("IDLE", 0)]
    alerts = [(a["alert_type"], a["alarm_state"]) for a in of_type(events, ALERT)]
    assert alerts[:2] == [("RTMP Has No Audio/Video", "SET"), ("Input Failed Over", "SET")], alerts
    assert ("RTMP Has No Audio/Video", "CLEARED") in alerts and ("Input Failed Over", "CLEARED") in alerts
    lost = next(a for a in of_type(events, ALERT) if a["alert_type"] == "RTMP Has No Audio/Video")
    assert set(lost) == {"alarm_state", "alarm_id", "alert_type", "pipeline", "channel_arn", "message"}
    cleared = medialive.list_alerts(ChannelId=channel_id, StateFilter="CLEARED")["Alerts"]
    assert lost["alarm_id"] in {alert["Id"] for alert in cleared}

    # Metrics as MediaLive's: AWS/MediaLive by ChannelId and Pipeline.
    cloudwatch = stack.aws.client("cloudwatch")
    dimensions = [{"Name": "ChannelId", "Value": channel_id}, {"Name": "Pipeline", "Value": "0"}]
    now = datetime.now(UTC)
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {"Id": name.lower(), "MetricStat": {"Metric": {"Namespace": "AWS/MediaLive", "MetricName": name,
             "Dimensions": dimensions}, "Period": 60, "Stat": "Maximum"}}
            for name in ("ActiveAlerts", "InputLossSeconds", "NetworkIn")
        ],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
    )["MetricDataResults"]  # fmt: skip
    peaks = {result["Id"]: max(result["Values"], default=0) for result in data}
    assert peaks["activealerts"] >= 1 and peaks["inputlossseconds"] > 0 and peaks["networkin"] > 0, peaks


def _get(url: str) -> str | None:
    try:
        return fetch(url)
    except urllib.error.HTTPError:
        return None


def test_a_file_input_plays_in_real_time_and_ends_the_output(stack: Stack, tmp_path: Path) -> None:
    source = tmp_path / "premiere.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
        "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-shortest", str(source),
    )  # fmt: skip
    stack.aws.s3.put_object(Bucket=UPLOADS_BUCKET, Key="sources/premiere.mp4", Body=source.read_bytes())
    medialive = stack.medialive
    file_input = medialive.create_input(
        Name="premiere", Type="MP4_FILE", Sources=[{"Url": f"s3ssl://{UPLOADS_BUCKET}/sources/premiere.mp4"}]
    )["Input"]
    channel_id = medialive.create_channel(
        Name="premiere",
        ChannelClass="SINGLE_PIPELINE",
        Destinations=[{"Id": "out", "Settings": [{"Url": f"s3ssl://{MEDIA_BUCKET}/{stack.key}"}]}],
        EncoderSettings=encoder_settings(),
        InputAttachments=[{"InputId": file_input["Id"], "InputAttachmentName": "file"}],
    )["Channel"]["Id"]
    started = time.monotonic()
    medialive.start_channel(ChannelId=channel_id)

    playlist = f"{stack.media_url}/{stack.key}_src.m3u8"
    text = wait_for(lambda: (_get(playlist) or "").endswith("#EXT-X-ENDLIST\n") and _get(playlist), timeout=20)
    assert time.monotonic() - started >= 2.5  # played in real time, not transcoded at once
    durations = sum(float(line[8:].rstrip(",")) for line in text.splitlines() if line.startswith("#EXTINF:"))
    assert 2.5 <= durations <= 3.5, text
    events = stack.events(lambda seen: bool(of_type(seen, ALERT)))
    assert [(a["alert_type"], a["alarm_state"]) for a in of_type(events, ALERT)] == [("Video Not Detected", "SET")]
    medialive.stop_channel(ChannelId=channel_id)


def test_the_api_refuses_what_medialive_refuses(stack: Stack) -> None:
    medialive = stack.medialive
    url = stack.plane.url
    # Members the model lacks, at any depth: 400 BadRequestException (raw requests: boto3 checks too).
    for body in ({"bogus": 1}, {"name": "x", "encoderSettings": {"videoDescriptions": [{"name": "v", "widht": 1}]}}):
        request = urllib.request.Request(f"{url}/prod/channels", data=json.dumps(body).encode(), method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 400 and refused.value.headers["x-amzn-ErrorType"] == "BadRequestException"
    # Values outside the model's enums: botocore leaves them to the service.
    make: Any = boto3.client
    unchecked = make(
        "medialive", endpoint_url=url, region_name="us-east-1", aws_access_key_id="devstack",
        aws_secret_access_key="devstack", config=Config(parameter_validation=False),
    )  # fmt: skip
    with pytest.raises(ClientError) as wrong_type:
        unchecked.create_input(Type="RTMP_PUSHED", Destinations=[{"StreamName": "a/b"}])
    assert wrong_type.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as missing:
        medialive.describe_channel(ChannelId="1234567")
    assert missing.value.response["Error"]["Code"] == "NotFoundException"
    with pytest.raises(ClientError) as no_group:
        medialive.create_input(Type="RTMP_PUSH", Destinations=[{"StreamName": "live/a"}])
    assert no_group.value.response["Error"]["Code"] == "BadRequestException"

    primary, backup = rtmp_input(medialive, "p"), rtmp_input(medialive, "b")
    file_input = medialive.create_input(Type="MP4_FILE", Sources=[{"Url": f"s3ssl://{UPLOADS_BUCKET}/a.mp4"}])["Input"]
    with pytest.raises(ClientError) as pulled:  # a failover pair is two push inputs
        failover_channel(stack, primary["Id"], file_input["Id"])
    assert pulled.value.response["Error"]["Code"] == "UnprocessableEntityException"
    channel_id = failover_channel(stack, primary["Id"], backup["Id"])
    with pytest.raises(ClientError) as attached:
        medialive.delete_input(InputId=primary["Id"])
    assert attached.value.response["Error"]["Code"] == "ConflictException"
    # With PRIMARY_INPUT_PREFERRED, MediaLive does not switch within the failover pair by schedule.
    switch = {
        "ActionName": "force-backup",
        "ScheduleActionStartSettings": {"ImmediateModeScheduleActionStartSettings": {}},
        "ScheduleActionSettings": {"InputSwitchSettings": {"InputAttachmentNameReference": "backup"}},
    }
    with pytest.raises(ClientError) as within_pair:
        medialive.batch_update_schedule(ChannelId=channel_id, Creates={"ScheduleActions": [switch]})
    assert within_pair.value.response["Error"]["Code"] == "BadRequestException"
    assert medialive.describe_schedule(ChannelId=channel_id)["ScheduleActions"] == []

    # Channels, inputs and groups outlive a restart of the plane (from its state file).
    assert stack.plane.state_file is not None
    restarted = MediaLivePlane(mediatools.ffmpeg(), Path(), state_file=stack.plane.state_file)
    assert restarted.channels[channel_id]["State"] == "IDLE"
    assert restarted.inputs[primary["Id"]]["AttachedChannels"] == [channel_id]
    medialive.delete_channel(ChannelId=channel_id)
    # Deleted resources stay describable as DELETED (botocore's waiters expect it), and unlisted.
    medialive.get_waiter("channel_deleted").wait(ChannelId=channel_id, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    assert channel_id not in {c["Id"] for c in medialive.list_channels()["Channels"]}
    assert medialive.describe_input(InputId=primary["Id"])["State"] == "DETACHED"
    medialive.delete_input(InputId=primary["Id"])
    medialive.get_waiter("input_deleted").wait(InputId=primary["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    assert primary["Id"] not in {i["Id"] for i in medialive.list_inputs()["Inputs"]}
    with pytest.raises(ClientError) as gone:
        medialive.start_channel(ChannelId=channel_id)
    assert gone.value.response["Error"]["Code"] == "NotFoundException"


def test_an_operator_switch_within_an_equal_preference_pair_takes_effect(stack: Stack) -> None:
    medialive = stack.medialive
    primary, backup = rtmp_input(medialive, "p"), rtmp_input(medialive, "b")
    channel_id = failover_channel(stack, primary["Id"], backup["Id"], preference="EQUAL_INPUT_PREFERENCE")
    medialive.start_channel(ChannelId=channel_id)
    wait_for(lambda: medialive.describe_channel(ChannelId=channel_id)["State"] == "RUNNING")
    encoders = [publish(primary["Destinations"][0]["Url"]), publish(backup["Destinations"][0]["Url"])]
    try:
        # Both inputs deliver (a switch to an input without content fails over back at once).
        wait_for(lambda: all(feed.segments for feed in stack.plane.runs[channel_id].feeds.values()))
        switch = {
            "ActionName": "force-backup",
            "ScheduleActionStartSettings": {"ImmediateModeScheduleActionStartSettings": {}},
            "ScheduleActionSettings": {"InputSwitchSettings": {"InputAttachmentNameReference": "backup"}},
        }
        medialive.batch_update_schedule(ChannelId=channel_id, Creates={"ScheduleActions": [switch]})
        wait_for(lambda: active(stack, channel_id) == "backup", timeout=5)
        details = medialive.describe_channel(ChannelId=channel_id)["PipelineDetails"][0]
        assert details["ActiveInputSwitchActionName"] == "force-backup"
        listed = medialive.describe_schedule(ChannelId=channel_id)["ScheduleActions"]
        assert [a["ActionName"] for a in listed] == ["force-backup"]
    finally:
        for encoder in encoders:
            encoder.kill()
    events = stack.events(lambda seen: bool(of_type(seen, INPUT_CHANGE)))
    change = of_type(events, INPUT_CHANGE)[0]
    assert (change["active_input_attachment_name"], change["active_input_switch_action_name"]) == (
        "backup",
        "force-backup",
    )
    medialive.stop_channel(ChannelId=channel_id)


def test_an_srt_listener_input_takes_an_encrypted_push(stack: Stack) -> None:
    passphrase = "devstack-srt-passphrase"
    secret = stack.aws.client("secretsmanager").create_secret(Name="srt-passphrase", SecretString=passphrase)
    medialive = stack.medialive
    group = medialive.create_input_security_group(WhitelistRules=[{"Cidr": "127.0.0.1/32"}])["SecurityGroup"]
    listener = {"MinimumLatency": 120, "Decryption": {"Algorithm": "AES128", "PassphraseSecretArn": secret["ARN"]}}
    srt_input = medialive.create_input(
        Name="srt",
        Type="SRT_LISTENER",
        InputSecurityGroups=[group["Id"]],
        SrtSettings={"SrtListenerSettings": listener},
    )["Input"]
    url = medialive.describe_input(InputId=srt_input["Id"])["Destinations"][0]["Url"]
    assert url.startswith("srt://127.0.0.1:")
    channel_id = medialive.create_channel(
        Name="srt",
        ChannelClass="SINGLE_PIPELINE",
        Destinations=[{"Id": "out", "Settings": [{"Url": f"s3ssl://{MEDIA_BUCKET}/{stack.key}"}]}],
        EncoderSettings=encoder_settings(),
        InputAttachments=[{"InputId": srt_input["Id"], "InputAttachmentName": "srt"}],
    )["Channel"]["Id"]
    medialive.start_channel(ChannelId=channel_id)
    wait_for(lambda: medialive.describe_channel(ChannelId=channel_id)["State"] == "RUNNING")
    encoder = publish(f"{url}?mode=caller&passphrase={passphrase}&pbkeylen=16", muxer="mpegts")
    try:
        playlist = f"{stack.media_url}/{stack.key}_src.m3u8"
        wait_for(lambda: (_get(playlist) or "").count(".ts") >= 2, timeout=20)
    finally:
        encoder.kill()
    medialive.stop_channel(ChannelId=channel_id)
    wait_for(lambda: medialive.describe_channel(ChannelId=channel_id)["State"] == "IDLE")
    decoded = subprocess.run(
        [mediatools.ffmpeg(), "-v", "error", "-i", playlist, "-f", "null", "-"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert decoded.returncode == 0, decoded.stderr[-2000:]


def test_the_apps_adapter_arms_and_releases_an_event_on_the_plane(stack: Stack) -> None:
    """The contract with chalicelib/live: its MediaLive adapter's own requests (RTMP and SRT routes
    with a failover pair, the template's encoder settings) are taken, run and undone by the plane."""
    secret = stack.aws.client("secretsmanager").create_secret(
        Name=f"srt-{uuid.uuid4().hex[:8]}", SecretString="a-passphrase-of-the-devstack"
    )
    now = datetime.now(UTC)
    payload = LiveEventCreation.model_validate(
        {
            "name": "Town hall",
            "liveStreamId": "li" + "L" * 22,
            "schedule": {"startAt": now + timedelta(minutes=5), "endAt": now + timedelta(hours=1)},
            "routes": {"primary": {"protocol": "rtmp"}, "backup": {"protocol": "srt"}},
        }
    )
    event = new_live_event("pr" + "P" * 22, payload, "default", 1, built_in("pr1").profile(), now)
    settings = MediaLiveSettings(
        role_arn="arn:aws:iam::000000000000:role/videoplane-MediaLiveRole",
        media_bucket=MEDIA_BUCKET,
        ingest_cidrs=("127.0.0.1/32",),
        srt_passphrase_secret_arn=secret["ARN"],
        media_base_url=stack.media_url,
    )
    channels = MediaLiveChannels(stack.medialive, settings, sleep=time.sleep)

    armed = channels.create(event)
    assert stack.medialive.describe_channel(ChannelId=armed.channel_id)["State"] in ("CREATING", "IDLE")
    channels.start(event.model_copy(update={"channel": armed}))

    described = stack.medialive.describe_channel(ChannelId=armed.channel_id)
    assert described["State"] in ("STARTING", "RUNNING")
    assert [i.url.split(":")[0] for i in armed.ingest] == ["rtmp", "srt"]
    assert armed.playback_url.startswith(f"{stack.media_url}/live-events/")
    failover = described["InputAttachments"][0]["AutomaticInputFailoverSettings"]
    assert failover["SecondaryInputId"] == armed.input_ids[1]
    wait_for(lambda: stack.medialive.describe_channel(ChannelId=armed.channel_id)["State"] == "RUNNING")
    assert channels.create(event).channel_id == armed.channel_id  # a retried arm makes nothing twice

    channels.release(event)

    assert stack.medialive.describe_channel(ChannelId=armed.channel_id)["State"] == "DELETED"
    assert stack.medialive.list_channels()["Channels"] == []
    assert stack.medialive.list_inputs()["Inputs"] == []
    assert stack.medialive.list_input_security_groups()["InputSecurityGroups"] == []
