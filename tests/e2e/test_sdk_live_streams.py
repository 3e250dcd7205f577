"""api.video's SDK 1.4.7 LiveStreamsApi over HTTP against a devstack (IVS control plane on
loopback): create, list with filters, get, update, reset the key, complete, delete; another
project sees 404."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import apivideo
import boto3
import pytest
from apivideo.apis import LiveStreamsApi
from apivideo.exceptions import ApiException, NotFoundException
from apivideo.model.live_stream_creation_payload import LiveStreamCreationPayload
from apivideo.model.live_stream_update_payload import LiveStreamUpdatePayload
from apivideo.model.restreams_request_object import RestreamsRequestObject

from .support import Api, Devstack, Tenant, marker
from .test_sdk_subresources import png

RELEASE_WAIT_SECONDS = 30


def test_live_stream_lifecycle_with_the_sdk(sdk: Any, api: Api, devstack: Devstack, project_a: Tenant) -> None:
    live = LiveStreamsApi(sdk)
    name = f"show {marker()}"
    restream = RestreamsRequestObject(name="yt", server_url="rtmp://127.0.0.1:1/live2", stream_key="rk")
    created = live.create(LiveStreamCreationPayload(name=name, public=False, restreams=[restream]))
    live_stream_id = created.live_stream_id
    assert live_stream_id.startswith("li") and created.broadcasting is False and created.public is False
    assert created.restreams[0].server_url == "rtmp://127.0.0.1:1/live2" and created.stream_key

    # Videoplane's extensions, read over plain HTTP (the SDK discards unknown keys).
    raw = api.ok("GET", f"/live-streams/{live_stream_id}", project_a.api_key)
    idle = {"name": "yt", "serverUrl": "rtmp://127.0.0.1:1/live2", "state": "idle"}  # its relay: none yet
    assert raw["status"] == {"state": "idle", "restreams": [idle]}
    state = devstack.state()  # the stack's ingest ports (free ones here; 1935 and 6200 with `make run`)
    assert raw["ingest"]["rtmp"]["url"] == f"{state['rtmpIngest']}{created.stream_key}"
    assert raw["ingest"]["srt"]["url"].startswith(f"{state['srtIngest']}?streamid={created.stream_key}")

    assert live.get(live_stream_id).name == name
    by_name = live.list(name=name)
    assert [s.live_stream_id for s in by_name.data] == [live_stream_id]
    assert by_name.pagination.links and by_name.pagination.items_total == 1
    by_key = live.list(stream_key=created.stream_key, sort_by="updatedAt", sort_order="desc", page_size=10)
    assert [s.live_stream_id for s in by_key.data] == [live_stream_id]

    updated = live.update(live_stream_id, LiveStreamUpdatePayload(name=f"{name} renamed", restreams=[]))
    assert updated.name.endswith("renamed") and updated.restreams == []

    reset = api.ok("POST", f"/live-streams/{live_stream_id}/stream-key", project_a.api_key)
    assert reset["streamKey"] != created.stream_key
    assert live.list(stream_key=created.stream_key).data == []

    assert live.complete(live_stream_id) is None  # 202, nothing to end
    live.delete(live_stream_id)
    with pytest.raises(NotFoundException):
        live.get(live_stream_id)
    # The channel goes with the stream: the table's stream → the outbox publisher's removal
    # announcement → the bus rule → the live-stream-removals queue → release_live_channels.
    ivs = ivs_client(devstack)
    channel = f"videoplane-{project_a.project_id}-{live_stream_id}"
    deadline = time.monotonic() + RELEASE_WAIT_SECONDS
    while ivs.list_channels(filterByName=channel)["channels"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ivs.list_channels(filterByName=channel)["channels"] == []


def ivs_client(devstack: Devstack) -> Any:
    """boto3's IVS client on the devstack's IVS plane."""
    return boto3.client(
        "ivs",
        endpoint_url=devstack.state()["ivsPlane"],
        region_name="us-east-1",
        aws_access_key_id="devstack",
        aws_secret_access_key="devstack",
    )


def test_another_project_sees_404(sdk: Any, devstack: Devstack, project_b: Tenant) -> None:
    stream = LiveStreamsApi(sdk).create(LiveStreamCreationPayload(name=f"private {marker()}"))
    other = apivideo.AuthenticatedApiClient(project_b.api_key)
    other.configuration.host = devstack.api_url
    with other:
        with pytest.raises(NotFoundException):
            LiveStreamsApi(other).get(stream.live_stream_id)
        with pytest.raises(NotFoundException):
            LiveStreamsApi(other).update(stream.live_stream_id, LiveStreamUpdatePayload(name="x"))
        with pytest.raises(NotFoundException):
            LiveStreamsApi(other).delete(stream.live_stream_id)
        assert all(s.live_stream_id != stream.live_stream_id for s in LiveStreamsApi(other).list().data)
    LiveStreamsApi(sdk).delete(stream.live_stream_id)


def test_thumbnail_upload_and_delete_with_the_sdk(sdk: Any, tmp_path: Path) -> None:
    live = LiveStreamsApi(sdk)
    stream = live.create(LiveStreamCreationPayload(name=f"thumb {marker()}"))
    image = tmp_path / "poster.png"
    image.write_bytes(png(320, 180))
    with image.open("rb") as file:
        returned = live.upload_thumbnail(stream.live_stream_id, file)
    assert returned.live_stream_id == stream.live_stream_id
    uploaded = returned.assets.thumbnail
    assert f"/live/{stream.live_stream_id}/thumbnail-" in uploaded and uploaded.endswith(".png")
    with urllib.request.urlopen(uploaded, timeout=10) as served:
        assert served.read() == png(320, 180)
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    with text.open("rb") as file, pytest.raises(ApiException) as refused:
        live.upload_thumbnail(stream.live_stream_id, file)
    assert refused.value.status == 400 and "uploaded-file-extension-invalid" in refused.value.body

    live.delete_thumbnail(stream.live_stream_id)
    assert live.get(stream.live_stream_id).assets.thumbnail != uploaded
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(uploaded, timeout=10)
    assert gone.value.code == 404
