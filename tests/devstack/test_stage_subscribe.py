"""The stage plane's WHEP-style subscribe with real peers: an ffmpeg `-f whip` publisher and an
aiortc subscriber that receives its decoded video, both with IVS participant tokens."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devstack import mediatools
from devstack.stageplane import StagePlane

from .test_stageplane import client

PUBLISHER_WAIT_SECONDS = 30
FRAMES_WANTED = 10
FRAME_WAIT_SECONDS = 20


@pytest.fixture
def plane() -> Iterator[StagePlane]:
    started = StagePlane()
    started.start()
    yield started
    started.stop()


def start_publisher(whip_url: str, token: str) -> subprocess.Popen[bytes]:
    """ffmpeg publishing until it is stopped: small H.264 Baseline video and Opus."""
    command = [
        mediatools.ffmpeg(), "-hide_banner", "-v", "error",
        "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15", "-f", "lavfi", "-i", "sine=frequency=440",
        "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-tune", "zerolatency", "-g", "15",
        "-c:a", "libopus", "-ar", "48000", "-ac", "2",
        "-authorization", token, "-f", "whip", whip_url,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_publisher(peer: subprocess.Popen[bytes]) -> None:
    peer.terminate()  # ffmpeg ends with a DELETE on SIGTERM
    try:
        peer.wait(timeout=10)
    except subprocess.TimeoutExpired:
        peer.kill()
        peer.wait()


def publishers(whep_url: str, token: str) -> list[dict[str, Any]]:
    response = requests.get(whep_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["publishers"]
    return listed


def wait_for_publisher(whep_url: str, token: str, participant_id: str) -> None:
    deadline = time.monotonic() + PUBLISHER_WAIT_SECONDS
    while participant_id not in [p["participantId"] for p in publishers(whep_url, token)]:
        assert time.monotonic() < deadline, "the publisher never appeared"
        time.sleep(0.2)


async def watch(whep_url: str, token: str, publisher_id: str) -> tuple[list[tuple[int, int]], str, int]:
    """Subscribes with aiortc, reads decoded video frames, then DELETEs the subscription: the frames'
    sizes, the subscription's location and the DELETE's status."""
    from aiortc import RTCPeerConnection, RTCSessionDescription

    peer = RTCPeerConnection()
    peer.addTransceiver("video", direction="recvonly")
    peer.addTransceiver("audio", direction="recvonly")
    video: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @peer.on("track")
    def _track(track: Any) -> None:
        if track.kind == "video" and not video.done():
            video.set_result(track)

    await peer.setLocalDescription(await peer.createOffer())
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"}
    response = await asyncio.to_thread(
        requests.post, f"{whep_url}?participantId={publisher_id}", data=peer.localDescription.sdp,
        headers=headers, timeout=30,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    await peer.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))
    track = await asyncio.wait_for(video, FRAME_WAIT_SECONDS)
    sizes = []
    for _ in range(FRAMES_WANTED):
        frame = await asyncio.wait_for(track.recv(), FRAME_WAIT_SECONDS)
        sizes.append((frame.width, frame.height))
    location = response.headers["Location"]
    base = whep_url.split("/whep/", maxsplit=1)[0]
    deleted = await asyncio.to_thread(requests.delete, base + location, timeout=10)
    await peer.close()
    return sizes, location, deleted.status_code


def test_a_subscriber_receives_a_publishers_video(plane: StagePlane) -> None:
    ivs = client(plane)
    stage = ivs.create_stage(name="videoplane-subscribe")["stage"]
    whep_url = stage["endpoints"]["whip"].replace("/whip/", "/whep/")
    ada = ivs.create_participant_token(stageArn=stage["arn"], userId="ada")["participantToken"]
    bob = ivs.create_participant_token(stageArn=stage["arn"], userId="bob", capabilities=["SUBSCRIBE"])[
        "participantToken"
    ]
    peer = start_publisher(stage["endpoints"]["whip"], ada["token"])
    try:
        wait_for_publisher(whep_url, bob["token"], ada["participantId"])
        sizes, location, deleted = asyncio.run(watch(whep_url, bob["token"], ada["participantId"]))
        session = ivs.get_stage(arn=stage["arn"])["stage"]["activeSessionId"]
        listed = ivs.list_participants(stageArn=stage["arn"], sessionId=session)["participants"]
    finally:
        stop_publisher(peer)

    assert sizes == [(320, 180)] * FRAMES_WANTED
    assert location.startswith(f"/whep/{stage['arn'].rsplit('/', 1)[1]}/") and deleted == 200
    # The subscriber was a connected, unpublished participant; its DELETE made it leave.
    states = {p["userId"]: (p["state"], p["published"]) for p in listed}
    assert states == {"ada": ("CONNECTED", True), "bob": ("DISCONNECTED", False)}
    events = ivs.list_participant_events(stageArn=stage["arn"], sessionId=session, participantId=bob["participantId"])
    assert [e["name"] for e in events["events"]] == ["JOINED", "LEFT"]


def test_subscribing_needs_subscribe_and_a_publisher(plane: StagePlane) -> None:
    ivs = client(plane)
    stage = ivs.create_stage(name="videoplane-subscribe-refused")["stage"]
    whep_url = stage["endpoints"]["whip"].replace("/whip/", "/whep/")
    publisher = ivs.create_participant_token(stageArn=stage["arn"], capabilities=["PUBLISH"])["participantToken"]
    viewer = ivs.create_participant_token(stageArn=stage["arn"], capabilities=["SUBSCRIBE"])["participantToken"]
    offer = {"Content-Type": "application/sdp"}

    no_subscribe = requests.get(whep_url, headers={"Authorization": f"Bearer {publisher['token']}"}, timeout=10)
    unknown = requests.post(whep_url, data="v=0", headers={**offer, "Authorization": "Bearer nope"}, timeout=10)
    absent = requests.post(
        f"{whep_url}?participantId=nobody", data="v=0",
        headers={**offer, "Authorization": f"Bearer {viewer['token']}"}, timeout=10,
    )  # fmt: skip
    preflight = requests.options(whep_url, timeout=10)

    assert (no_subscribe.status_code, unknown.status_code, absent.status_code) == (403, 401, 404)
    assert preflight.status_code == 204 and "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert publishers(whep_url, viewer["token"]) == [] and plane.participants[stage["arn"]] == {}
