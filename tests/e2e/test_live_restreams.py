"""Restreams editable while live, on the devstack: each target gets a relay (the devstack's ECS
plane running infra/relay/relay.py) that pushes the live stream to it; real listening ffmpeg RTMP
receivers on loopback record what they get.

One broadcast: a target set at creation receives media; a second target added by PATCH while live
starts receiving, and the first receiver's recording goes on without a gap (its one publisher,
the first relay, was never restarted: a `-listen 1` receiver ends with its publisher); a target
that refuses connections shows `retrying` with ffmpeg's reason; removing a target stops only its
relay; `complete` stops the rest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .rtmp_receivers import RtmpReceiver, decode, free_tcp_port
from .support import Api, Tenant, marker
from .test_live_ingest import push, stop, wait_until

# The relay starts from the newest HLS segment (1 s) and the receiver's file fills as it goes.
MEDIA_WAIT_SECONDS = 30.0
# 25 fps: frames 40 ms apart; a relay restarted (or stalled) would leave a hole of seconds.
LARGEST_GAP_SECONDS = 0.5


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[list[RtmpReceiver]]:
    started = [RtmpReceiver(tmp_path, name) for name in ("first", "second")]
    yield started
    for receiver in started:
        receiver.stop()


def target(name: str, server_url: str) -> dict[str, str]:
    return {"name": name, "serverUrl": server_url, "streamKey": f"key-{name}"}


def statuses(api: Api, tenant: Tenant, stream_id: str) -> dict[str, dict[str, Any]]:
    body = api.ok("GET", f"/live-streams/{stream_id}", tenant.api_key)
    return {item["name"]: item for item in body["status"]["restreams"]}


def state_of(api: Api, tenant: Tenant, stream_id: str, name: str) -> str | None:
    item = statuses(api, tenant, stream_id).get(name)
    return item["state"] if item else None


def test_restreams_edited_while_live_touch_only_the_changed_targets(
    api: Api, project_a: Tenant, receivers: list[RtmpReceiver]
) -> None:
    first, second = receivers
    refusing = f"rtmp://127.0.0.1:{free_tcp_port()}/live"  # nothing listens there
    created = api.ok(
        "POST",
        "/live-streams",
        project_a.api_key,
        json={"name": f"restreams {marker()}", "restreams": [target("first", first.server_url)]},
    )
    stream_id = created["liveStreamId"]
    # The api.video shape of restreams is untouched; relay states are in Videoplane's status block.
    assert created["restreams"] == [target("first", first.server_url)]
    assert created["status"]["restreams"] == [{"name": "first", "serverUrl": first.server_url, "state": "idle"}]

    encoder = push(created["ingest"]["rtmp"]["url"], "rtmp", seconds=90)
    try:
        wait_until(lambda: api.ok("GET", f"/live-streams/{stream_id}", project_a.api_key)["broadcasting"])
        wait_until(first.has_media, MEDIA_WAIT_SECONDS)
        wait_until(lambda: state_of(api, project_a, stream_id, "first") == "live")

        before_patch = decode(first.path).span
        both = [target("first", first.server_url), target("second", second.server_url), target("refusing", refusing)]
        patched = api.ok("PATCH", f"/live-streams/{stream_id}", project_a.api_key, json={"restreams": both})
        assert patched["restreams"] == both
        wait_until(second.has_media, MEDIA_WAIT_SECONDS)
        wait_until(lambda: state_of(api, project_a, stream_id, "second") == "live")
        refused = wait_until(
            lambda: (s := statuses(api, project_a, stream_id)["refusing"])["state"] in ("retrying", "failed") and s
        )
        assert "refused" in refused["reason"].lower() or "connection" in refused["reason"].lower(), refused
        assert first.running and state_of(api, project_a, stream_id, "first") == "live"

        # Removing a target stops its relay only: the second receiver loses its publisher.
        kept = [target("first", first.server_url), target("refusing", refusing)]
        api.ok("PATCH", f"/live-streams/{stream_id}", project_a.api_key, json={"restreams": kept})
        second.process.wait(timeout=MEDIA_WAIT_SECONDS)
        assert "second" not in statuses(api, project_a, stream_id)
        received = first.received_bytes()
        wait_until(lambda: first.received_bytes() > received)  # still getting media
        assert first.running and encoder.poll() is None

        api.ok("PUT", f"/live-streams/{stream_id}/complete", project_a.api_key, expected=202)
        wait_until(lambda: not api.ok("GET", f"/live-streams/{stream_id}", project_a.api_key)["broadcasting"])
        first.process.wait(timeout=MEDIA_WAIT_SECONDS)  # its relay stopped with the broadcast
        wait_until(lambda: {s["state"] for s in statuses(api, project_a, stream_id).values()} == {"stopped"})
    finally:
        stop(encoder)

    # The first receiver's recording: decodable, one run of frames (25 fps, no hole) across both PATCHes.
    recording = decode(first.path)
    assert recording.errors == "", recording.errors
    assert recording.span > before_patch + 1.0, (before_patch, recording.span)  # it went on after
    assert recording.largest_gap < LARGEST_GAP_SECONDS, recording.largest_gap
    assert decode(second.path).span > 1.0
