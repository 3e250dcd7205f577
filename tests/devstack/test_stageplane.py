"""The devstack's IVS real-time plane driven like IVS: boto3's ivs-realtime client over HTTP for the
control API, and ffmpeg's `-f whip` muxer publishing to the stage's WHIP endpoint (aiortc on
127.0.0.1) with a participant token as its Bearer credential."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack import mediatools
from devstack.stageplane import StagePlane

PUBLISH_SECONDS = 3


@pytest.fixture
def plane() -> Iterator[StagePlane]:
    started = StagePlane()
    started.start()
    yield started
    started.stop()


def client(plane: StagePlane) -> Any:
    make: Any = boto3.client
    return make(
        "ivs-realtime",
        endpoint_url=plane.url,
        region_name="us-east-1",
        aws_access_key_id="devstack",
        aws_secret_access_key="devstack",
    )


def publish(whip_url: str, token: str) -> subprocess.CompletedProcess[str]:
    """A few seconds of H.264 Baseline (no B-frames, as IVS wants) and Opus over WHIP."""
    command = [
        mediatools.ffmpeg(), "-hide_banner", "-v", "error",
        "-re", "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=30:duration={PUBLISH_SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={PUBLISH_SECONDS}",
        "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-tune", "zerolatency", "-g", "30",
        "-c:a", "libopus", "-ar", "48000", "-ac", "2",
        "-authorization", token, "-f", "whip", whip_url,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_a_publisher_joins_the_session_and_its_media_arrives(plane: StagePlane) -> None:
    ivs = client(plane)
    stage = ivs.create_stage(name="videoplane-test", tags={"videoplane:roomId": "ro1"})["stage"]
    assert "activeSessionId" not in stage and stage["endpoints"]["whip"].startswith(plane.url + "/whip/")
    token = ivs.create_participant_token(stageArn=stage["arn"], userId="ada", capabilities=["PUBLISH", "SUBSCRIBE"])
    participant_id = token["participantToken"]["participantId"]

    result = publish(stage["endpoints"]["whip"], token["participantToken"]["token"])

    assert result.returncode == 0, result.stderr
    received = plane.whip.received[participant_id]
    assert received["video"] > 0 and received["audio"] > 0, received
    # ffmpeg ended with a DELETE: the participant left, which ended the session it started.
    assert "activeSessionId" not in ivs.get_stage(arn=stage["arn"])["stage"]
    (session,) = plane.stages[stage["arn"]]["sessions"]
    listed = ivs.list_participants(stageArn=stage["arn"], sessionId=session)["participants"]
    assert [(p["participantId"], p["userId"], p["state"], p["published"]) for p in listed] == [
        (participant_id, "ada", "DISCONNECTED", True)
    ]


def test_a_token_without_publish_or_for_another_stage_is_refused(plane: StagePlane) -> None:
    ivs = client(plane)
    stage = ivs.create_stage(name="a")["stage"]
    other = ivs.create_stage(name="b")["stage"]
    viewer = ivs.create_participant_token(stageArn=stage["arn"], capabilities=["SUBSCRIBE"])["participantToken"]
    elsewhere = ivs.create_participant_token(stageArn=other["arn"])["participantToken"]

    watching = publish(stage["endpoints"]["whip"], viewer["token"])
    assert watching.returncode != 0 and "403" in watching.stderr, watching.stderr
    assert publish(stage["endpoints"]["whip"], elsewhere["token"]).returncode != 0
    assert publish(stage["endpoints"]["whip"], "not-a-token").returncode != 0
    assert plane.participants[stage["arn"]] == {} and plane.whip.received == {}


def test_the_control_api_refuses_what_ivs_refuses(plane: StagePlane) -> None:
    ivs = client(plane)
    with pytest.raises(ClientError) as missing:
        ivs.get_stage(arn="arn:aws:ivs:us-east-1:123456789012:stage/NoSuchStage1")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    stage = ivs.create_stage(name="c")["stage"]
    with pytest.raises(ClientError) as absent:
        ivs.disconnect_participant(stageArn=stage["arn"], participantId="nobody")
    assert absent.value.response["Error"]["Code"] == "ResourceNotFoundException"
    pages = [ivs.create_stage(name=f"p{i}")["stage"]["arn"] for i in range(3)]
    first = ivs.list_stages(maxResults=2)
    second = ivs.list_stages(maxResults=2, nextToken=first["nextToken"])
    listed = {s["arn"] for s in first["stages"] + second["stages"]}
    assert set(pages) | {stage["arn"]} == listed and "nextToken" not in second


def test_a_publishers_events_are_listed_as_ivs_lists_them(plane: StagePlane) -> None:
    ivs = client(plane)
    stage = ivs.create_stage(name="videoplane-events")["stage"]
    token = ivs.create_participant_token(stageArn=stage["arn"], userId="ada")["participantToken"]
    assert publish(stage["endpoints"]["whip"], token["token"]).returncode == 0
    (session,) = plane.stages[stage["arn"]]["sessions"]
    events = ivs.list_participant_events(
        stageArn=stage["arn"], sessionId=session, participantId=token["participantId"]
    )["events"]
    assert [e["name"] for e in events] == ["JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT"]
    assert events[0]["eventTime"] <= events[-1]["eventTime"]
    other = ivs.list_participant_events(stageArn=stage["arn"], sessionId="st-OtherSession1", participantId="nobody")
    assert other["events"] == []


VANISH_WAIT_SECONDS = 60  # WebRTC consent freshness (RFC 7675, aioice): about 30 s without answers


def test_a_publisher_that_vanishes_without_delete_is_disconnected(plane: StagePlane) -> None:
    ivs = client(plane)
    stage = ivs.create_stage(name="videoplane-vanish")["stage"]
    token = ivs.create_participant_token(stageArn=stage["arn"], userId="ada")["participantToken"]
    command = [
        mediatools.ffmpeg(), "-hide_banner", "-v", "error",
        "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15", "-f", "lavfi", "-i", "sine=frequency=440",
        "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-tune", "zerolatency", "-g", "15",
        "-c:a", "libopus", "-ar", "48000", "-ac", "2",
        "-authorization", token["token"], "-f", "whip", stage["endpoints"]["whip"],
    ]  # fmt: skip
    peer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + VANISH_WAIT_SECONDS
        while "activeSessionId" not in ivs.get_stage(arn=stage["arn"])["stage"] and time.monotonic() < deadline:
            time.sleep(0.1)
        session = ivs.get_stage(arn=stage["arn"])["stage"]["activeSessionId"]
    finally:
        peer.kill()  # no DELETE: the peer is just gone
        peer.wait()
    while ivs.get_stage(arn=stage["arn"])["stage"].get("activeSessionId") and time.monotonic() < deadline:
        time.sleep(0.5)
    (listed,) = ivs.list_participants(stageArn=stage["arn"], sessionId=session)["participants"]
    assert listed["state"] == "DISCONNECTED"
    events = ivs.list_participant_events(
        stageArn=stage["arn"], sessionId=session, participantId=listed["participantId"]
    )
    assert [e["name"] for e in events["events"]][-1] == "LEFT"


class RecordingS3:
    """What the plane writes to the media bucket (the emulated S3's put_object)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
        self.objects[(Bucket, Key)] = Body


class RecordingBus:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> None:
        self.entries.extend(Entries)


def test_a_composition_records_the_publishers_into_s3_as_ivs_lays_it_out(tmp_path: Any) -> None:
    import json

    s3, bus = RecordingS3(), RecordingBus()
    plane = StagePlane(events=bus, s3=s3)
    plane.start()
    try:
        ivs = client(plane)
        storage = ivs.create_storage_configuration(name="rec", s3={"bucketName": "media"})["storageConfiguration"]
        encoder = ivs.create_encoder_configuration(name="rec", video={"width": 1280, "height": 720})
        stage = ivs.create_stage(name="videoplane-rec")["stage"]
        token = ivs.create_participant_token(stageArn=stage["arn"], capabilities=["PUBLISH"])["participantToken"]
        destination = {
            "s3": {
                "storageConfigurationArn": storage["arn"],
                "encoderConfigurationArns": [encoder["encoderConfiguration"]["arn"]],
            }
        }
        started = ivs.start_composition(stageArn=stage["arn"], idempotencyToken="t1", destinations=[destination])
        composition = started["composition"]
        again = ivs.start_composition(stageArn=stage["arn"], idempotencyToken="t1", destinations=[destination])
        assert again["composition"]["arn"] == composition["arn"]  # the same token: the same composition
        with pytest.raises(ClientError, match="ConflictException"):
            ivs.start_composition(stageArn=stage["arn"], idempotencyToken="t2", destinations=[destination])
        prefix = composition["destinations"][0]["detail"]["s3"]["recordingPrefix"]

        result = publish(stage["endpoints"]["whip"], token["token"])
        assert result.returncode == 0, result.stderr
        ivs.stop_composition(arn=composition["arn"])
        deadline = time.monotonic() + 60
        while ivs.get_composition(arn=composition["arn"])["composition"]["state"] == "STOPPING":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert ivs.get_composition(arn=composition["arn"])["composition"]["state"] == "STOPPED"
    finally:
        plane.stop()

    ended = json.loads(s3.objects[("media", f"{prefix}/events/recording-ended.json")])
    assert ended["recording_status"] == "RECORDING_ENDED" and ended["stage_arn"] == stage["arn"]
    (rendition,) = ended["media"]["hls"]["renditions"]
    folder = f"{prefix}/{ended['media']['hls']['path']}/{rendition['path']}"
    playlist = s3.objects[("media", f"{folder}/{rendition['playlist']}")].decode()
    segments = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    joined = tmp_path / "recording.ts"
    joined.write_bytes(b"".join(s3.objects[("media", f"{folder}/{name}")] for name in segments))
    probe = subprocess.run(
        [mediatools.ffmpeg(), "-hide_banner", "-i", str(joined), "-f", "null", "-"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    # The composition ran from before the publisher to after it: at least its media, little more.
    assert PUBLISH_SECONDS - 0.5 <= ended["media"]["hls"]["duration_ms"] / 1000 <= PUBLISH_SECONDS + 5, ended
    names = [
        json.loads(e["Detail"])["event_name"] for e in bus.entries if e["DetailType"] == "IVS Composition State Change"
    ]
    assert names == ["Session Start", "Destination Start", "Destination End", "Session End"]
    assert all(e["Resources"] == [composition["arn"]] for e in bus.entries if "Composition" in e["DetailType"])
