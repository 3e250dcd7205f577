"""Live ingest end to end on the devstack: the api.video SDK creates a live stream, ffmpeg pushes a
test pattern (libx264 + AAC) with its stream key over RTMP or SRT, the stream broadcasts, signed
`live-stream.broadcast.started` / `.ended` webhooks arrive, ffmpeg decodes the live HLS while it is
live; wrong, reset and busy keys are refused; a drop within the reconnect window keeps one
broadcast, one past it ends the broadcast; `complete` ends a broadcast."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
import requests
from apivideo.apis import LiveStreamsApi
from apivideo.model.live_stream_creation_payload import LiveStreamCreationPayload

from .receivers import Receiver, verify_both_ways
from .support import Api, Devstack, Tenant, marker

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
BROADCAST_EVENTS = ["live-stream.broadcast.started", "live-stream.broadcast.ended"]
DROP_EVENTS = ["live-stream.disconnected", "live-stream.reconnected"]
WAIT_SECONDS = 20.0
REFUSAL_SECONDS = 15.0


def push(url: str, protocol: str, seconds: int = 60, ca_file: Path | None = None) -> subprocess.Popen[bytes]:
    """An encoder: a test pattern and a tone, 1 s keyframes (1 s segments), in real time. RTMPS
    verifies the server against `ca_file` (FFmpeg verifies certificates by default)."""
    container = {"rtmp": "flv", "rtmps": "flv", "srt": "mpegts"}[protocol]
    trust = ["-ca_file", str(ca_file), "-tls_verify", "1"] if ca_file else []
    return subprocess.Popen(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25",
         "-pix_fmt", "yuv420p", "-c:a", "aac", *trust, "-f", container, url],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def stop(encoder: subprocess.Popen[bytes]) -> None:
    """As an operator stops an encoder: `q` ends ffmpeg cleanly (it closes the connection)."""
    if encoder.poll() is None:
        assert encoder.stdin is not None
        encoder.stdin.write(b"q")
        encoder.stdin.close()
    try:
        encoder.wait(timeout=10)
    except subprocess.TimeoutExpired:
        encoder.kill()
        encoder.wait()


def wait_until(check: Callable[[], Any], seconds: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


def refused(url: str, protocol: str, ca_file: Path | None = None) -> str:
    """The encoder fails on its own (no one stops it); its error output."""
    encoder = push(url, protocol, seconds=30, ca_file=ca_file)
    try:
        encoder.wait(timeout=REFUSAL_SECONDS)
    except subprocess.TimeoutExpired:
        stop(encoder)
        raise AssertionError(f"{protocol} push to {url} was not refused") from None
    assert encoder.returncode != 0
    assert encoder.stderr is not None
    return encoder.stderr.read().decode(errors="replace")


def plays(hls_url: str, seconds: int) -> None:
    """A player (ffmpeg) decodes `seconds` of the live HLS without an error."""
    played = subprocess.run(
        [FFMPEG, "-v", "error", "-i", hls_url, "-t", str(seconds), "-f", "null", "-"],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert played.returncode == 0, played.stderr.decode(errors="replace")


@pytest.fixture
def live(sdk: Any) -> LiveStreamsApi:
    return LiveStreamsApi(sdk)


@pytest.fixture
def broadcast_hook(
    api: Api, project_a: Tenant, receiver: Callable[..., Receiver]
) -> Iterator[tuple[Receiver, str, str]]:
    hook = receiver()
    body = api.ok(
        "POST",
        "/webhooks",
        project_a.api_key,
        expected=201,
        json={"events": [*BROADCAST_EVENTS, *DROP_EVENTS], "url": hook.url},
    )
    yield hook, body["webhookId"], body["signatureSecret"]
    api.ok("DELETE", f"/webhooks/{body['webhookId']}", project_a.api_key, expected=204)


def deliveries(hook: Receiver, live_stream_id: str, event_type: str, webhook: tuple[str, str]) -> list[dict[str, Any]]:
    """The verified payloads of one stream's deliveries of a type."""
    webhook_id, secret = webhook
    payloads = [verify_both_ways(secret, webhook_id, delivery) for delivery in list(hook.requests)]
    return [p for p in payloads if p["type"] == event_type and p["liveStreamId"] == live_stream_id]


def test_an_rtmp_push_broadcasts_plays_and_ends_with_signed_webhooks(
    live: LiveStreamsApi, api: Api, project_a: Tenant, broadcast_hook: tuple[Receiver, str, str]
) -> None:
    hook, webhook_id, secret = broadcast_hook
    stream = live.create(LiveStreamCreationPayload(name=f"rtmp {marker()}"))
    stream_id = stream.live_stream_id
    # Videoplane's reconnect window (60 s by default), short here: the broadcast ends 2 s after the drop.
    raw = api.ok("PATCH", f"/live-streams/{stream_id}", project_a.api_key, json={"reconnectWindow": 2})
    assert raw["reconnectWindow"] == 2
    encoder = push(raw["ingest"]["rtmp"]["url"], "rtmp")
    try:
        wait_until(lambda: live.get(stream_id).broadcasting)
        status = api.ok("GET", f"/live-streams/{stream_id}", project_a.api_key)["status"]
        assert status["state"] == "connected" and status["sessionId"].startswith("st-")
        (started,) = wait_until(lambda: deliveries(hook, stream_id, BROADCAST_EVENTS[0], (webhook_id, secret)))
        assert started["projectId"] == project_a.project_id

        # A second encoder with the same key, while the first is live: one publisher at a time.
        refused(raw["ingest"]["rtmp"]["url"], "rtmp")

        # A player decodes the live HLS while it is live (a few seconds of it).
        playlist = requests.get(stream.assets.hls, timeout=10)
        assert playlist.status_code == 200 and "#EXT-X-ENDLIST" not in playlist.text
        assert "#EXT-X-TARGETDURATION:1" in playlist.text
        plays(stream.assets.hls, seconds=3)
        assert encoder.poll() is None and live.get(stream_id).broadcasting
    finally:
        stop(encoder)

    wait_until(lambda: not live.get(stream_id).broadcasting)
    wait_until(lambda: deliveries(hook, stream_id, DROP_EVENTS[0], (webhook_id, secret)))
    (ended,) = wait_until(lambda: deliveries(hook, stream_id, BROADCAST_EVENTS[1], (webhook_id, secret)))
    assert ended["eventId"] != started["eventId"]
    assert not deliveries(hook, stream_id, DROP_EVENTS[1], (webhook_id, secret))
    assert api.ok("GET", f"/live-streams/{stream_id}", project_a.api_key)["status"]["state"] == "ended"
    time.sleep(1)  # any redelivered plane event would come now: still exactly one of each
    assert len(deliveries(hook, stream_id, BROADCAST_EVENTS[0], (webhook_id, secret))) == 1
    assert len(deliveries(hook, stream_id, BROADCAST_EVENTS[1], (webhook_id, secret))) == 1


def test_wrong_and_reset_keys_are_refused(live: LiveStreamsApi, api: Api, project_a: Tenant) -> None:
    stream = live.create(LiveStreamCreationPayload(name=f"keys {marker()}"))
    ingest = api.ok("GET", f"/live-streams/{stream.live_stream_id}", project_a.api_key)["ingest"]
    error = refused(f"{ingest['rtmp']['server']}sk_not_a_key", "rtmp")
    assert "Refused" in error  # the front door's NetStream.Publish.BadName description
    refused(ingest["srt"]["url"].replace(stream.stream_key, "sk_not_a_key"), "srt")

    api.ok("POST", f"/live-streams/{stream.live_stream_id}/stream-key", project_a.api_key)
    refused(ingest["rtmp"]["url"], "rtmp")  # the old key, reset
    assert not live.get(stream.live_stream_id).broadcasting


def test_an_srt_push_needs_its_channels_passphrase(live: LiveStreamsApi, api: Api, project_a: Tenant) -> None:
    """As IVS: the key alone does not open a channel over SRT. A wrong passphrase, or none, is
    refused at the handshake (the front door checks the caller's key material); with it, the push
    broadcasts (the key material rewrapped for the front door's listener decrypts)."""
    stream = live.create(LiveStreamCreationPayload(name=f"srt passphrase {marker()}"))
    srt = api.ok("GET", f"/live-streams/{stream.live_stream_id}", project_a.api_key)["ingest"]["srt"]
    passphrase = srt["passphrase"]
    assert srt["url"] == f"{srt['server']}?streamid={stream.stream_key}&passphrase={passphrase}"
    wrong = refused(srt["url"].replace(passphrase, "not-the-channels-passphrase"), "srt")
    none = refused(f"{srt['server']}?streamid={stream.stream_key}", "srt")
    # libsrt names the rejection's reason (SRT_REJ_BADSECRET): "Incorrect passphrase".
    assert "BADSECRET" in wrong, wrong
    assert "Input/output error" in none, none
    # Refused before IVS would open a session: the stream never saw a push.
    assert api.ok("GET", f"/live-streams/{stream.live_stream_id}", project_a.api_key)["status"]["state"] == "idle"
    encoder = push(srt["url"], "srt")
    try:
        wait_until(lambda: live.get(stream.live_stream_id).broadcasting)
        plays(stream.assets.hls, seconds=2)
    finally:
        stop(encoder)


def test_an_rtmps_push_with_its_key_broadcasts_and_a_wrong_key_is_refused(
    live: LiveStreamsApi, api: Api, devstack: Devstack, project_a: Tenant
) -> None:
    """RTMPS: the RTMP front door behind TLS; the encoder verifies the devstack's self-signed
    certificate from the state folder, as an encoder pinned to it would."""
    certificate = devstack.state_dir / "tls" / "ingest.crt"
    stream = live.create(LiveStreamCreationPayload(name=f"rtmps {marker()}"))
    ingest = api.ok("GET", f"/live-streams/{stream.live_stream_id}", project_a.api_key)["ingest"]
    assert ingest["rtmps"]["url"] == f"{devstack.state()['rtmpsIngest']}{stream.stream_key}"
    assert "certificate verify failed" in refused(ingest["rtmps"]["url"], "rtmps")  # without trusting it
    assert "Refused" in refused(f"{ingest['rtmps']['server']}sk_not_a_key", "rtmps", certificate)
    encoder = push(ingest["rtmps"]["url"], "rtmps", ca_file=certificate)
    try:
        wait_until(lambda: live.get(stream.live_stream_id).broadcasting)
    finally:
        stop(encoder)
    wait_until(lambda: not live.get(stream.live_stream_id).broadcasting, 90)


def test_an_srt_push_dropped_and_back_within_the_window_is_one_broadcast_until_complete(
    live: LiveStreamsApi, api: Api, project_a: Tenant, broadcast_hook: tuple[Receiver, str, str]
) -> None:
    hook, webhook_id, secret = broadcast_hook
    webhook = (webhook_id, secret)
    stream = live.create(LiveStreamCreationPayload(name=f"srt {marker()}"))
    stream_id = stream.live_stream_id
    url = api.ok("GET", f"/live-streams/{stream_id}", project_a.api_key)["ingest"]["srt"]["url"]
    encoder = push(url, "srt")
    try:
        wait_until(lambda: live.get(stream_id).broadcasting)
        wait_until(lambda: deliveries(hook, stream_id, BROADCAST_EVENTS[0], webhook))
        plays(stream.assets.hls, seconds=2)

        stop(encoder)  # the encoder drops; the default window (60 s) keeps the broadcast
        wait_until(lambda: deliveries(hook, stream_id, DROP_EVENTS[0], webhook))
        assert api.ok("GET", f"/live-streams/{stream_id}", project_a.api_key)["status"]["state"] == "disconnected"
        encoder = push(url, "srt")
        wait_until(lambda: deliveries(hook, stream_id, DROP_EVENTS[1], webhook))
        assert live.get(stream_id).broadcasting
        assert not deliveries(hook, stream_id, BROADCAST_EVENTS[1], webhook)
        # One playlist goes on across the drop, with a discontinuity where the encoder came back.
        assert "#EXT-X-DISCONTINUITY" in requests.get(stream.assets.hls, timeout=10).text
        plays(stream.assets.hls, seconds=2)

        assert live.complete(stream_id) is None  # 202: IVS StopStream drops the publisher
        wait_until(lambda: not live.get(stream_id).broadcasting)
        wait_until(lambda: deliveries(hook, stream_id, BROADCAST_EVENTS[1], webhook))
        encoder.wait(timeout=WAIT_SECONDS)  # the encoder lost its connection on its own
    finally:
        stop(encoder)
    assert len(deliveries(hook, stream_id, BROADCAST_EVENTS[0], webhook)) == 1  # one broadcast
    assert wait_until(lambda: "#EXT-X-ENDLIST" in requests.get(stream.assets.hls, timeout=10).text)
    assert api.ok("GET", f"/live-streams/{stream_id}", project_a.api_key)["status"]["state"] == "ended"
