"""/live-streams in-process on moto, with the devstack's IVS control plane on loopback behind the
app's IVS client (moto's IVS has no stream keys); the channel release consumer fed from the
table's stream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.live.consumers.channels import release_live_channels
from devstack.emulator import TABLE_NAME
from devstack.ivsplane import IvsPlane, Refused, WrongPassphrase
from tests.integration.conftest import ApiClient
from tests.integration.files import jpeg, media_keys, media_object, png, upload
from tests.integration.test_outbox import announced_removals


@pytest.fixture
def ivs(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[IvsPlane]:
    plane = IvsPlane("http://127.0.0.1:9/media")
    monkeypatch.setenv("AWS_ENDPOINT_URL_IVS", plane.start())
    core_wiring.reset()
    yield plane
    plane.stop()


def create(api: ApiClient, **fields: Any) -> dict[str, Any]:
    response = api.call("POST", "/live-streams", {"name": "Show", **fields})
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def removals(live_stream_id: str) -> dict[str, Any]:
    return announced_removals(resources.LIVE_STREAM_REMOVALS_QUEUE, live_stream_id)


def test_create_get_list_update_round_trip(ivs: IvsPlane, tenant: ApiClient) -> None:
    restream = {"name": "yt", "serverUrl": "rtmps://a.example:443/live2", "streamKey": "rk"}
    stream = create(tenant, record=True, public=False, restreams=[restream])
    assert stream["liveStreamId"].startswith("li") and len(stream["liveStreamId"]) == 24
    assert stream["broadcasting"] is False and stream["restreams"] == [restream] and stream["public"] is False
    # Each restream target's relay state (Videoplane): none has run yet.
    idle = {"name": "yt", "serverUrl": restream["serverUrl"], "state": "idle"}
    assert stream["status"] == {"state": "idle", "restreams": [idle]} and stream["streamKey"].startswith("sk_")
    assert stream["ingest"]["srt"]["url"].startswith("srt://127.0.0.1:9000?streamid=" + stream["streamKey"])
    # The channel's SRT passphrase (the devstack's IVS plane gives each channel one, as IVS does).
    (channel,) = ivs.channels.values()
    passphrase = channel["srt"]["passphrase"]
    assert stream["ingest"]["srt"]["passphrase"] == passphrase and len(passphrase) >= 10
    assert stream["ingest"]["srt"]["url"].endswith(f"&passphrase={passphrase}")
    (channel,) = ivs.channels.values()
    assert channel["name"].endswith(stream["liveStreamId"]) and channel["latencyMode"] == "LOW"
    assert channel["tags"]["videoplane:liveStreamId"] == stream["liveStreamId"]
    # Private: an authorized channel, and assets through a single-use token (a new one per read).
    assert channel["authorized"] is True and "/token/" in stream["assets"]["hls"]
    again = tenant.call("GET", f"/live-streams/{stream['liveStreamId']}").json_body
    assert again["assets"]["player"] != stream["assets"]["player"]
    assert {k: v for k, v in again.items() if k != "assets"} == {k: v for k, v in stream.items() if k != "assets"}

    patched = tenant.call("PATCH", f"/live-streams/{stream['liveStreamId']}", {"name": "Renamed", "restreams": []})
    assert patched.status_code == 200 and patched.json_body["name"] == "Renamed"
    assert patched.json_body["restreams"] == [] and patched.json_body["streamKey"] == stream["streamKey"]
    listing = tenant.call("GET", f"/live-streams?streamKey={stream['streamKey']}").json_body
    assert [s["liveStreamId"] for s in listing["data"]] == [stream["liveStreamId"]]
    assert tenant.call("GET", "/live-streams?name=nothing").json_body["data"] == []


def test_validation_answers_as_api_video(ivs: IvsPlane, tenant: ApiClient) -> None:
    bad = tenant.call("POST", "/live-streams", {"name": "x", "restreams": [{"name": "a", "serverUrl": "rtmp://h"}]})
    assert bad.status_code == 400 and bad.json_body["type"].endswith("invalid-attribute")
    six = [{"name": "a", "serverUrl": "rtmp://h/app", "streamKey": "k"}] * 6
    assert tenant.call("POST", "/live-streams", {"name": "x", "restreams": six}).status_code == 400
    assert tenant.call("POST", "/live-streams", {"record": True}).status_code == 400
    stream = create(tenant)
    null = tenant.call("PATCH", f"/live-streams/{stream['liveStreamId']}", {"name": None})
    assert null.status_code == 400 and null.json_body["name"] == "name"
    assert ivs.channels and len(ivs.channels) == 1  # refused payloads made no channel


def test_an_srt_push_is_admitted_only_when_the_channels_passphrase_opens_its_key_material(
    ivs: IvsPlane, tenant: ApiClient
) -> None:
    stream = create(tenant)
    passphrase = stream["ingest"]["srt"]["passphrase"]
    seen: list[str] = []

    def wrong(offered: str) -> bool:
        seen.append(offered)
        return False

    with pytest.raises(WrongPassphrase):
        ivs.admit(stream["streamKey"], wrong)
    assert seen == [passphrase] and not ivs.live  # refused before a session (no Session Created)
    admitted = ivs.admit(stream["streamKey"], lambda offered: offered == passphrase)
    assert ivs.live[admitted.channel_arn]["streamId"] == admitted.stream_id


def test_reset_key_complete_and_delete_release_the_channel(ivs: IvsPlane, tenant: ApiClient) -> None:
    stream = create(tenant)
    live_stream_id = stream["liveStreamId"]
    reset = tenant.call("POST", f"/live-streams/{live_stream_id}/stream-key")
    assert reset.status_code == 200 and reset.json_body["streamKey"] != stream["streamKey"]
    assert [k["value"] for k in ivs.stream_keys.values()] == [reset.json_body["streamKey"]]
    with pytest.raises(Refused):
        ivs.admit(stream["streamKey"])  # the ingest front door turns the old key away

    complete = tenant.call("PUT", f"/live-streams/{live_stream_id}/complete", b"")
    assert complete.status_code == 202 and complete.body == b""

    assert tenant.call("DELETE", f"/live-streams/{live_stream_id}").status_code == 204
    assert tenant.call("GET", f"/live-streams/{live_stream_id}").status_code == 404
    assert len(ivs.channels) == 1  # released by the stream consumer, not by the request
    assert release_live_channels(removals(live_stream_id), None) == {"batchItemFailures": []}
    assert ivs.channels == {} and ivs.stream_keys == {}
    # A redelivered record finds the channel gone and succeeds.
    assert release_live_channels(removals(live_stream_id), None) == {"batchItemFailures": []}


def test_an_expired_provisioning_item_releases_its_channel(ivs: IvsPlane, tenant: ApiClient) -> None:
    """A request that died between CreateChannel and saving the stream: DynamoDB's TTL removes the
    provisioning item, and its REMOVE record deletes the channel named after it."""
    stream = create(tenant)
    live_stream_id = stream["liveStreamId"]
    table = boto3.client("dynamodb")
    key = {"PK": {"S": f"P#{tenant.project_id}#LIVE_STREAM"}, "SK": {"S": live_stream_id}}
    table.update_item(
        TableName=TABLE_NAME, Key=key, UpdateExpression="SET #s = :p", ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":p": {"S": "provisioning"}},
    )  # fmt: skip
    assert tenant.call("GET", f"/live-streams/{live_stream_id}").status_code == 404
    table.delete_item(TableName=TABLE_NAME, Key=key)  # what the TTL does
    assert release_live_channels(removals(live_stream_id), None) == {"batchItemFailures": []}
    assert ivs.channels == {}


def test_a_failed_release_is_a_batch_item_failure(ivs: IvsPlane, tenant: ApiClient) -> None:
    stream = create(tenant)
    assert tenant.call("DELETE", f"/live-streams/{stream['liveStreamId']}").status_code == 204
    ivs.stop()  # the plane is unreachable
    core_wiring.reset()
    result = release_live_channels(removals(stream["liveStreamId"]), None)
    assert len(result["batchItemFailures"]) == 1


def test_another_project_sees_404(ivs: IvsPlane, tenant: ApiClient, other_tenant: ApiClient) -> None:
    stream = create(tenant)
    path = f"/live-streams/{stream['liveStreamId']}"
    assert other_tenant.call("GET", path).status_code == 404
    assert other_tenant.call("PATCH", path, {"name": "x"}).status_code == 404
    assert other_tenant.call("DELETE", path).status_code == 404
    assert other_tenant.call("POST", f"{path}/stream-key").status_code == 404
    assert other_tenant.call("PUT", f"{path}/complete", b"").status_code == 404
    assert other_tenant.call("GET", "/live-streams").json_body["data"] == []


def test_player_id_must_name_a_player_of_the_project(ivs: IvsPlane, tenant: ApiClient, other_tenant: ApiClient) -> None:
    """The live context reads the playback context's player items by their layout (adapters/players.py)."""
    player = tenant.call("POST", "/players", {"name": "brand"}).json_body["playerId"]
    foreign = other_tenant.call("POST", "/players", {"name": "theirs"}).json_body["playerId"]
    stream = create(tenant, playerId=player)
    assert stream["playerId"] == player
    for unknown in (foreign, "pl" + "0" * 22):
        refused = tenant.call("POST", "/live-streams", {"name": "x", "playerId": unknown})
        assert refused.status_code == 400 and refused.json_body["name"] == "playerId", refused.body
        patched = tenant.call("PATCH", f"/live-streams/{stream['liveStreamId']}", {"playerId": unknown})
        assert patched.status_code == 400 and patched.json_body["name"] == "playerId"
    assert tenant.call("GET", f"/live-streams/{stream['liveStreamId']}").json_body["playerId"] == player


def thumbnail_key(stream: dict[str, Any]) -> str:
    return str(stream["assets"]["thumbnail"]).removeprefix(core_wiring.media_base_url() + "/")


def test_thumbnail_upload_replace_and_delete(ivs: IvsPlane, tenant: ApiClient, other_tenant: ApiClient) -> None:
    live_stream_id = create(tenant)["liveStreamId"]
    path = f"/live-streams/{live_stream_id}/thumbnail"
    first = upload(tenant, path, "poster.jpg", jpeg(320, 180), "image/jpeg")
    assert first.status_code == 200, first.body
    key = thumbnail_key(first.json_body)
    assert key.startswith(f"live/{live_stream_id}/thumbnail-") and key.endswith(".jpg")
    assert media_object(key) == (jpeg(320, 180), "image/jpeg")
    assert tenant.call("GET", f"/live-streams/{live_stream_id}").json_body["assets"] == first.json_body["assets"]
    assert first.json_body["updatedAt"] >= first.json_body["createdAt"]

    # Read by its bytes: a PNG named .jpg is stored as what it is, and replaces the JPEG.
    second = upload(tenant, path, "poster.jpg", png(64, 36), "image/jpeg")
    assert second.status_code == 200 and thumbnail_key(second.json_body).endswith(".png")
    assert media_keys(f"live/{live_stream_id}/") == [thumbnail_key(second.json_body)]

    refused = upload(tenant, path, "poster.jpg", b"GIF89a not an image", "image/gif")
    assert refused.status_code == 400 and refused.json_body["type"].endswith("uploaded-file-extension-invalid")
    assert upload(other_tenant, path, "poster.jpg", jpeg(), "image/jpeg").status_code == 404

    assert tenant.call("DELETE", path).status_code == 204
    assert tenant.call("DELETE", path).status_code == 204  # nothing left: still done
    assert media_keys(f"live/{live_stream_id}/") == []
    after = tenant.call("GET", f"/live-streams/{live_stream_id}").json_body
    assert after["assets"]["thumbnail"] == f"{core_wiring.media_base_url()}/live/{live_stream_id}/thumbnail.jpg"
