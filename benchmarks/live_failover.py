"""Automatic input failover on the devstack's MediaLive plane (plane level, no API yet).

Each run creates a channel whose primary RTMP input fails over to a backup (InputLossThresholdMsec
1000, PRIMARY_INPUT_PREFERRED), starts it, pushes two encoders (ffmpeg, libx264 `-tune zerolatency`,
1 s GOP, 320x180), waits until the output lists a few primary segments, and kills the primary's
encoder. A poller reads the output playlist from the media server every 50 ms and notes when each
segment is first listed (when a player can fetch it).

- **Output gap, listed**: from the moment the last primary segment was listed to the moment the
  first backup segment was listed. A player holding a few segments (hls.js holds about 3) plays
  through a gap shorter than its buffer. Goal <= 2 s.
- **Output gap, content**: the backup's first segment's program date-time minus the end of the
  primary's last one (negative: the backup repeats a little of what the primary had sent).
- **Kill -> Input Change**: from killing the encoder to the "MediaLive Channel Input Change" event
  read from an SQS queue behind an EventBridge rule on the default bus (moto).

    python -m benchmarks.live_failover [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from devstack import mediatools
from devstack.medialiveplane import INPUT_CHANGE, MediaLivePlane
from devstack.mediaserver import MediaServer

BUCKET = "videoplane-media"
GAP_GOAL = 2.0
POLL_SECONDS = 0.05
PRIMARY_SEGMENTS = 4


def client(service: str, endpoint: str) -> Any:
    make: Any = boto3.client
    return make(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def publish(url: str) -> subprocess.Popen[bytes]:
    command = [
        mediatools.ffmpeg(), "-hide_banner", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-sc_threshold", "0",
        "-c:a", "aac", "-f", "flv", url,
    ]  # fmt: skip
    for _ in range(20):
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            process.wait(1.0)
        except subprocess.TimeoutExpired:
            return process
        time.sleep(0.3)
    raise RuntimeError(f"no listener took the push to {url}")


class PlaylistWatch:
    """Notes when each output segment is first listed, with its program date-time and duration."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.listed: dict[str, tuple[float, float, float]] = {}  # name -> (listed at, PDT start, duration)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(POLL_SECONDS):
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    text = response.read().decode()
            except (urllib.error.URLError, OSError):
                continue
            now, started, duration = time.monotonic(), 0.0, 0.0
            for line in text.splitlines():
                if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
                    started = datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00")).timestamp()
                elif line.startswith("#EXTINF:"):
                    duration = float(line[8:].split(",")[0])
                elif line.endswith(".ts") and line not in self.listed:
                    self.listed[line] = (now, started, duration)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


def one_run(plane: MediaLivePlane, media_url: str, sqs: Any, queue_url: str, run: int) -> tuple[float, float, float]:
    medialive = client("medialive", plane.url)
    group = medialive.create_input_security_group(WhitelistRules=[{"Cidr": "127.0.0.1/32"}])["SecurityGroup"]
    inputs = [
        medialive.create_input(
            Name=name,
            Type="RTMP_PUSH",
            InputSecurityGroups=[group["Id"]],
            Destinations=[{"StreamName": f"live/{name}"}],
        )["Input"]
        for name in ("primary", "backup")
    ]
    condition = {"FailoverConditionSettings": {"InputLossSettings": {"InputLossThresholdMsec": 1000}}}
    failover = {
        "SecondaryInputId": inputs[1]["Id"],
        "InputPreference": "PRIMARY_INPUT_PREFERRED",
        "ErrorClearTimeMsec": 5000,
        "FailoverConditions": [condition],
    }
    output = {
        "VideoDescriptionName": "v",
        "AudioDescriptionNames": ["a"],
        "OutputSettings": {
            "HlsOutputSettings": {"NameModifier": "_src", "HlsSettings": {"StandardHlsSettings": {"M3u8Settings": {}}}}
        },
    }
    key = f"benchmarks/failover-{run}-{int(time.time())}/index"
    channel_id = medialive.create_channel(
        Name=f"failover-{run}",
        ChannelClass="SINGLE_PIPELINE",
        Destinations=[{"Id": "out", "Settings": [{"Url": f"s3ssl://{BUCKET}/{key}"}]}],
        EncoderSettings={
            "VideoDescriptions": [{"Name": "v"}],
            "AudioDescriptions": [{"Name": "a", "AudioSelectorName": "default"}],
            "TimecodeConfig": {"Source": "SYSTEMCLOCK"},
            "OutputGroups": [
                {
                    "OutputGroupSettings": {"HlsGroupSettings": {"Destination": {"DestinationRefId": "out"}}},
                    "Outputs": [output],
                }
            ],
        },
        InputAttachments=[
            {"InputId": inputs[0]["Id"], "InputAttachmentName": "primary", "AutomaticInputFailoverSettings": failover},
            {"InputId": inputs[1]["Id"], "InputAttachmentName": "backup"},
        ],
    )["Channel"]["Id"]
    medialive.start_channel(ChannelId=channel_id)
    while medialive.describe_channel(ChannelId=channel_id)["State"] != "RUNNING":
        time.sleep(0.1)
    encoders = [publish(i["Destinations"][0]["Url"]) for i in inputs]
    watch = PlaylistWatch(f"{media_url}/{key}_src.m3u8")
    try:
        while len(watch.listed) < PRIMARY_SEGMENTS:
            time.sleep(0.1)
        killed = time.monotonic()
        encoders[0].kill()
        change = _input_change(sqs, queue_url) - killed
        run_state = plane.runs[channel_id]
        time.sleep(3)  # the backup's segments are listed
    finally:
        watch.stop()
        for encoder in encoders:
            encoder.kill()
        medialive.stop_channel(ChannelId=channel_id)
    first_backup = next(p for p in run_state.published if p.origin.startswith("backup/"))
    last_primary = next(p for p in reversed(run_state.published) if p.sequence < first_backup.sequence)
    primary_listed, primary_start, primary_duration = watch.listed[last_primary.name]
    backup_listed, backup_start, _ = watch.listed[first_backup.name]
    return backup_listed - primary_listed, backup_start - (primary_start + primary_duration), change


def _input_change(sqs: Any, queue_url: str) -> float:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if json.loads(message["Body"])["detail-type"] == INPUT_CHANGE:
                return time.monotonic()
    raise RuntimeError("no Input Change event within 30 s")


def percentiles(values: Sequence[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s (n={len(ordered)})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3, events, sqs = (client(service, endpoint) for service in ("s3", "events", "sqs"))
    s3.create_bucket(Bucket=BUCKET)
    queue_url = sqs.create_queue(QueueName="medialive-failover")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="medialive-input-change", EventPattern=json.dumps({"detail-type": [INPUT_CHANGE]}))
    events.put_targets(Rule="medialive-input-change", Targets=[{"Id": "q", "Arn": arn}])
    media = MediaServer(s3, BUCKET)
    media_url = media.start()
    with tempfile.TemporaryDirectory() as folder:
        plane = MediaLivePlane(mediatools.ffmpeg(), Path(folder), events=events, s3=s3, mount=media.mount)
        plane.start()
        listed, content, changes = [], [], []
        try:
            for run in range(1, args.runs + 1):
                gap, overlap, change = one_run(plane, media_url, sqs, queue_url, run)
                listed.append(gap)
                content.append(overlap)
                changes.append(change)
                shown = f"listed gap {gap:.2f} s, content gap {overlap:+.2f} s"
                print(f"run {run}: {shown}, kill -> Input Change {change:.2f} s")
        finally:
            plane.stop()
            media.stop()
            server.stop()
    print(f"\nMediaLive plane failover ({args.runs} runs, InputLossThresholdMsec 1000, 1 s segments)")
    print(f"output gap, last primary -> first backup segment listed: {percentiles(listed)}  (goal <= {GAP_GOAL:.0f} s)")
    print(f"output gap in content (program date-times): {percentiles(content)}")
    print(f"encoder killed -> Input Change event on the bus: {percentiles(changes)}")
    met = max(listed) <= GAP_GOAL
    print("goal met" if met else "goal NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
