"""Live-to-VOD end to end on the devstack: a recorded live stream, real ffmpeg RTMP pushes, the IVS
plane's recordings in the emulated S3 and its "IVS Recording State Change" events; a drop within
the stream's reconnect window gives ONE recorded video, a drop past it TWO, each with
`liveStreamId`, a signed `video.source.recorded` webhook, and playable through the VOD pipeline.
The window is 5 s here (drops of 2 s and 8 s) to keep the wall time short."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from .receivers import Receiver, verify_both_ways
from .support import Api, Tenant, marker
from .test_live_ingest import push, stop, wait_until

WINDOW_SECONDS = 5
PUSH_SECONDS = 3
# Recording End → the video's source stored and encoded by the devstack's ffmpeg pipeline.
VIDEO_SECONDS = 90.0


@pytest.fixture
def recorded_hook(
    api: Api, project_a: Tenant, receiver: Callable[..., Receiver]
) -> Iterator[tuple[Receiver, str, str]]:
    hook = receiver()
    body = api.ok(
        "POST", "/webhooks", project_a.api_key, expected=201,
        json={"events": ["video.source.recorded", "live-stream.broadcast.ended"], "url": hook.url},
    )  # fmt: skip
    yield hook, body["webhookId"], body["signatureSecret"]
    api.ok("DELETE", f"/webhooks/{body['webhookId']}", project_a.api_key, expected=204)


def recorded_stream(api: Api, key: str) -> dict[str, Any]:
    body = {"name": f"recorded {marker()}", "record": True, "reconnectWindow": WINDOW_SECONDS}
    stream: dict[str, Any] = api.ok("POST", "/live-streams", key, json=body)
    assert stream["record"] is True
    return stream


def broadcast_for(api: Api, key: str, stream: dict[str, Any], seconds: int = PUSH_SECONDS) -> None:
    """One push: on air (broadcasting), `seconds` of it, then the encoder stops."""
    path = f"/live-streams/{stream['liveStreamId']}"
    encoder = push(stream["ingest"]["rtmp"]["url"], "rtmp")
    try:
        wait_until(lambda: api.ok("GET", path, key)["broadcasting"])
        time.sleep(seconds)
    finally:
        stop(encoder)


def exactly(count: int, found: Callable[[], list[dict[str, Any]]]) -> Callable[[], list[dict[str, Any]] | None]:
    def check() -> list[dict[str, Any]] | None:
        items = found()
        return items if len(items) == count else None

    return check


def recorded_videos(api: Api, key: str, live_stream_id: str) -> list[dict[str, Any]]:
    return api.list_all("/videos", key, {"liveStreamId": live_stream_id})


def recorded_webhooks(hook: Receiver, webhook: tuple[str, str], live_stream_id: str) -> list[dict[str, Any]]:
    payloads = [verify_both_ways(webhook[1], webhook[0], delivery) for delivery in list(hook.requests)]
    return [p for p in payloads if p["type"] == "video.source.recorded" and p.get("liveStreamId") == live_stream_id]


def playable(api: Api, key: str, video_id: str) -> bool:
    return bool(api.ok("GET", f"/videos/{video_id}/status", key)["encoding"]["playable"])


def test_a_drop_within_the_window_is_one_recorded_video(
    api: Api, project_a: Tenant, recorded_hook: tuple[Receiver, str, str]
) -> None:
    hook, webhook_id, secret = recorded_hook
    key = project_a.api_key
    stream = recorded_stream(api, key)
    stream_id = stream["liveStreamId"]
    broadcast_for(api, key, stream)
    time.sleep(2)  # the encoder is gone for 2 s, within the 5 s window
    broadcast_for(api, key, stream)
    api.ok("PUT", f"/live-streams/{stream_id}/complete", key, expected=202)

    (video,) = wait_until(lambda: recorded_videos(api, key, stream_id), VIDEO_SECONDS)
    assert video["title"].startswith(stream["name"])
    (recorded,) = wait_until(lambda: recorded_webhooks(hook, (webhook_id, secret), stream_id), VIDEO_SECONDS)
    assert recorded["videoId"] == video["videoId"] and recorded["projectId"] == project_a.project_id
    wait_until(lambda: playable(api, key, video["videoId"]), VIDEO_SECONDS)
    # Both pushes are in it: more than one push's worth of media (each is about PUSH_SECONDS + 2).
    duration = api.ok("GET", f"/videos/{video['videoId']}/status", key)["encoding"]["metadata"]["duration"]
    assert duration >= 2 * PUSH_SECONDS, duration
    playlist = requests.get(api.ok("GET", f"/videos/{video['videoId']}", key)["assets"]["hls"], timeout=10)
    assert playlist.status_code == 200
    time.sleep(1)  # a redelivered recording event would make its video now: still one
    assert len(recorded_videos(api, key, stream_id)) == 1


def test_a_drop_past_the_window_is_two_recorded_videos(
    api: Api, project_a: Tenant, recorded_hook: tuple[Receiver, str, str]
) -> None:
    hook, webhook_id, secret = recorded_hook
    key = project_a.api_key
    stream = recorded_stream(api, key)
    stream_id = stream["liveStreamId"]
    broadcast_for(api, key, stream)
    # 8 s without the encoder: the 5 s window ends the first broadcast, and its recording is a video.
    first = wait_until(lambda: recorded_videos(api, key, stream_id), 8.0)
    assert len(first) == 1
    broadcast_for(api, key, stream)
    api.ok("PUT", f"/live-streams/{stream_id}/complete", key, expected=202)

    videos = wait_until(exactly(2, lambda: recorded_videos(api, key, stream_id)), VIDEO_SECONDS)
    assert {v["videoId"] for v in videos} > {first[0]["videoId"]}
    webhooks = wait_until(exactly(2, lambda: recorded_webhooks(hook, (webhook_id, secret), stream_id)), VIDEO_SECONDS)
    assert {w["videoId"] for w in webhooks} == {v["videoId"] for v in videos}
    for video_id in (v["videoId"] for v in videos):
        wait_until(lambda: playable(api, key, video_id), VIDEO_SECONDS)  # noqa: B023 - called at once
        # One push each: less than the two pushes of a drop within the window.
        duration = api.ok("GET", f"/videos/{video_id}/status", key)["encoding"]["metadata"]["duration"]
        assert PUSH_SECONDS <= duration < 2 * PUSH_SECONDS + 2, duration
