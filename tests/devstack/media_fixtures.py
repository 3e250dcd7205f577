"""Shared setup for the media plane and media server tests: moto's server, buckets, short ffmpeg inputs."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from devstack import mediatools

REGION = "us-east-1"
MEDIA_BUCKET = "videoplane-media"
UPLOADS_BUCKET = "videoplane-uploads"


@dataclass(frozen=True)
class Aws:
    endpoint: str
    s3: Any
    events: Any
    sqs: Any
    queue_url: str

    def client(self, service: str, endpoint: str | None = None) -> Any:
        return _client(service, endpoint or self.endpoint)


def _client(service: str, endpoint: str) -> Any:
    # The service name is a variable here, which boto3-stubs' per-service overloads cannot type.
    make: Any = boto3.client
    return make(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="devstack",
        aws_secret_access_key="devstack",
    )


def start_aws() -> Iterator[Aws]:
    """moto over HTTP (the plane's worker threads and ffmpeg need a real endpoint), with an EventBridge
    rule on the default bus forwarding MediaConvert events to a queue the tests read."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3, events, sqs = (_client(service, endpoint) for service in ("s3", "events", "sqs"))
    for bucket in (MEDIA_BUCKET, UPLOADS_BUCKET):
        s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName="mediaconvert-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="mediaconvert", EventPattern='{"source":["aws.mediaconvert"]}')
    events.put_targets(Rule="mediaconvert", Targets=[{"Id": "queue", "Arn": queue_arn}])
    try:
        yield Aws(endpoint=endpoint, s3=s3, events=events, sqs=sqs, queue_url=queue_url)
    finally:
        server.stop()


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [mediatools.ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        check=True,
        capture_output=True,
    )


def make_inputs(folder: Path) -> dict[str, Path]:
    """Short, small inputs covering the cases the plane must handle."""
    inputs = {name: folder / f"{name}.mp4" for name in ("h264", "odd", "rotated", "audio_only", "opus")}
    video = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"]
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"]
    ffmpeg(*video, *tone, "-t", "4", *x264, "-c:a", "aac", "-shortest", str(inputs["h264"]))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=321x241:rate=25", "-t", "2", *x264[:-2], str(inputs["odd"]))
    # -display_rotation is counter-clockwise: 90 here is what ffmpeg shows phones' "rotate=270" as.
    ffmpeg("-display_rotation", "90", "-i", str(inputs["h264"]), "-c", "copy", str(inputs["rotated"]))
    ffmpeg(*tone, "-t", "2", "-c:a", "aac", str(inputs["audio_only"]))
    ffmpeg(*video, *tone, "-t", "2", *x264, "-c:a", "libopus", "-shortest", str(inputs["opus"]))
    corrupt = folder / "corrupt.mp4"
    corrupt.write_bytes(os.urandom(64_000))
    truncated = folder / "truncated.mp4"
    data = inputs["h264"].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    watermark = folder / "watermark.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:size=64x32", "-frames:v", "1", str(watermark))
    return {**inputs, "corrupt": corrupt, "truncated": truncated, "watermark": watermark}
