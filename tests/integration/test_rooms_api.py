"""/rooms, join tokens and the public join, in-process on moto, with the devstack's IVS real-time plane
on loopback behind the app's ivs-realtime client (moto has none); the stage release consumer fed
from the table's stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.rooms.consumers.stages import release_room_stages
from devstack.emulator import TABLE_NAME
from devstack.stageplane import StagePlane
from tests.integration.conftest import ApiClient
from tests.integration.test_outbox import announced_removals, stream_event


@pytest.fixture
def stages(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[StagePlane]:
    plane = StagePlane()
    monkeypatch.setenv("AWS_ENDPOINT_URL_IVS_REALTIME", plane.start())
    monkeypatch.setenv(resources.ROOMS_WHEP_URL_ENV, plane.url + "/whep/{stageId}")
    core_wiring.reset()
    yield plane
    plane.stop()


def create(api: ApiClient, **settings: Any) -> dict[str, Any]:
    response = api.call("POST", "/rooms", {"name": "Standup", "ownerRef": "team-7", "settings": settings})
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def mint(api: ApiClient, room_id: str, **fields: Any) -> dict[str, Any]:
    body = {"userRef": "u1", "name": "Ada", "role": "participant", **fields}
    response = api.call("POST", f"/rooms/{room_id}/tokens", body)
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def join(client: Client, token: str, **fields: Any) -> Any:
    """The public endpoint: no Authorization header."""
    body = json.dumps({"token": token, **fields})
    return client.http.post("/join", headers={"content-type": "application/json"}, body=body)


def removals(room_id: str) -> dict[str, Any]:
    """The room's removal as the release consumer gets it from its queue."""
    return announced_removals(resources.ROOM_REMOVALS_QUEUE, room_id)


def outbox() -> list[dict[str, Any]]:
    return [
        json.loads(r["dynamodb"]["NewImage"]["payload"]["S"])
        for r in stream_event()["Records"]
        if r["eventName"] == "INSERT" and r["dynamodb"]["NewImage"].get("entity", {}).get("S") == "outbox"
    ]


def outbox_types() -> list[str]:
    return [event["type"] for event in outbox()]


def test_create_get_list_update_delete_round_trip(stages: StagePlane, tenant: ApiClient) -> None:
    room = create(tenant, mode="group", maxParticipants=5, quality="HD")
    room_id = room["roomId"]
    assert room_id.startswith("ro") and len(room_id) == 24
    assert room["settings"] == {
        "mode": "group", "lifetime": "permanent", "duration": None, "maxModerators": 1, "maxParticipants": 5,
        "autoRecording": False, "quality": "HD", "waitForModerator": False,
    }  # fmt: skip
    (stage,) = stages.stages.values()
    assert stage["name"].endswith(room_id) and stage["tags"]["videoplane:roomId"] == room_id
    assert tenant.call("GET", f"/rooms/{room_id}").json_body == room

    patched = tenant.call("PATCH", f"/rooms/{room_id}", {"name": "Retro", "settings": {"maxParticipants": 7}})
    assert patched.status_code == 200, patched.body
    assert patched.json_body["name"] == "Retro" and patched.json_body["settings"]["maxParticipants"] == 7
    listing = tenant.call("GET", "/rooms?ownerRef=team-7&mode=group").json_body
    assert [r["roomId"] for r in listing["data"]] == [room_id] and listing["pagination"]["itemsTotal"] == 1
    assert tenant.call("GET", "/rooms?mode=lecture").json_body["data"] == []

    assert tenant.call("DELETE", f"/rooms/{room_id}").status_code == 204
    assert tenant.call("GET", f"/rooms/{room_id}").status_code == 404
    assert len(stages.stages) == 1  # released by the removal consumer, not by the request
    assert release_room_stages(removals(room_id), None) == {"batchItemFailures": []}
    assert stages.stages == {}
    assert release_room_stages(removals(room_id), None) == {"batchItemFailures": []}  # redelivered: done already
    assert [t for t in outbox_types() if t.startswith("room.")] == ["room.created", "room.updated", "room.deleted"]


def test_the_mode_is_fixed_and_settings_are_checked(stages: StagePlane, tenant: ApiClient) -> None:
    room = create(tenant, mode="lecture")
    path = f"/rooms/{room['roomId']}"
    fixed = tenant.call("PATCH", path, {"settings": {"mode": "group"}})
    assert fixed.status_code == 400 and fixed.json_body["name"] == "settings[mode]", fixed.body
    assert tenant.call("PATCH", path, {"settings": {"mode": "lecture", "maxModerators": 3}}).status_code == 200
    nulls = tenant.call(
        "PATCH", path, {"name": None, "ownerRef": None, "settings": {"quality": None, "duration": None}}
    )
    assert nulls.status_code == 400 and [p["name"] for p in nulls.json_body["problems"]] == [
        "name",
        "settings[quality]",
    ]
    assert tenant.call("PATCH", path, {"settings": None}).status_code == 400
    cleared = tenant.call("PATCH", path, {"ownerRef": None, "settings": {"duration": None}})
    assert cleared.status_code == 200 and cleared.json_body["ownerRef"] is None, cleared.body
    assert tenant.call("GET", path).json_body == cleared.json_body
    too_many = tenant.call("PATCH", path, {"settings": {"maxModerators": 13}})
    assert too_many.status_code == 400 and "at most 12" in too_many.json_body["detail"]
    group = tenant.call("POST", "/rooms", {"name": "x", "settings": {"mode": "group", "maxParticipants": 12}})
    assert group.status_code == 400 and group.json_body["name"] == "settings", group.body
    p2p = tenant.call("POST", "/rooms", {"name": "x", "settings": {"mode": "p2p", "maxParticipants": 3}})
    assert p2p.status_code == 400
    unscheduled = tenant.call("POST", "/rooms", {"name": "x", "settings": {"mode": "group", "lifetime": "scheduled"}})
    assert unscheduled.status_code == 400 and "startsAt" in unscheduled.json_body["detail"]
    assert len(stages.stages) == 1  # refused payloads made no stage


def test_an_expired_provisioning_item_releases_its_stage(stages: StagePlane, tenant: ApiClient) -> None:
    """A request that died between CreateStage and saving the room: the TTL removes the provisioning
    item, and its REMOVE record deletes the stage found by name."""
    room_id = create(tenant, mode="p2p")["roomId"]
    table = boto3.client("dynamodb")
    key = {"PK": {"S": f"P#{tenant.project_id}#ROOM"}, "SK": {"S": room_id}}
    table.update_item(
        TableName=TABLE_NAME, Key=key, UpdateExpression="SET #s = :p REMOVE stage",
        ExpressionAttributeNames={"#s": "state"}, ExpressionAttributeValues={":p": {"S": "provisioning"}},
    )  # fmt: skip
    assert tenant.call("GET", f"/rooms/{room_id}").status_code == 404
    table.delete_item(TableName=TABLE_NAME, Key=key)  # what the TTL does
    assert release_room_stages(removals(room_id), None) == {"batchItemFailures": []}
    assert stages.stages == {}


def test_a_failed_release_is_a_batch_item_failure(stages: StagePlane, tenant: ApiClient) -> None:
    room_id = create(tenant, mode="group")["roomId"]
    assert tenant.call("DELETE", f"/rooms/{room_id}").status_code == 204
    stages.stop()
    core_wiring.reset()
    assert len(release_room_stages(removals(room_id), None)["batchItemFailures"]) == 1


def test_another_project_sees_404(stages: StagePlane, tenant: ApiClient, other_tenant: ApiClient) -> None:
    room_id = create(tenant, mode="group")["roomId"]
    token = mint(tenant, room_id)
    path = f"/rooms/{room_id}"
    assert other_tenant.call("GET", path).status_code == 404
    assert other_tenant.call("PATCH", path, {"name": "x"}).status_code == 404
    assert other_tenant.call("DELETE", path).status_code == 404
    assert (
        other_tenant.call("POST", f"{path}/tokens", {"userRef": "u", "name": "n", "role": "viewer"}).status_code == 404
    )
    assert other_tenant.call("DELETE", f"{path}/tokens/{token['tokenId']}").status_code == 404
    assert other_tenant.call("DELETE", f"{path}/tokens?userRef=u1").status_code == 404
    assert other_tenant.call("GET", "/rooms").json_body["data"] == []


def test_a_token_joins_with_the_capabilities_of_its_role(
    stages: StagePlane, tenant: ApiClient, chalice_client: Client
) -> None:
    room_id = create(tenant, mode="lecture")["roomId"]
    moderator = mint(tenant, room_id, userRef="teacher", name="Grace", role="moderator")
    assert moderator["role"] == "moderator" and moderator["token"].count(".") == 2
    admitted = join(chalice_client, moderator["token"])
    assert admitted.status_code == 200, admitted.body
    body = admitted.json_body
    assert body["capabilities"] == ["publish", "subscribe"] and body["userRef"] == "teacher"
    (stage,) = stages.stages.values()
    assert body["media"]["whipUrl"] == f"{stages.url}/whip/{stage['arn'].rsplit('/', 1)[1]}"
    assert body["media"]["whepUrl"] == f"{stages.url}/whep/{stage['arn'].rsplit('/', 1)[1]}"
    grant = stages.tokens[body["media"]["participantToken"]]
    assert grant["participantId"] == body["participantId"] and grant["userId"] == "teacher"
    assert grant["capabilities"] == ["PUBLISH", "SUBSCRIBE"] and grant["attributes"]["role"] == "moderator"
    # A day's token, capped by nothing else: IVS gets 24 h (1,440 minutes).
    assert grant["duration"] == 1440

    student = mint(tenant, room_id, userRef="s1", name="Sam")
    watching = join(chalice_client, student["token"])
    assert watching.status_code == 200 and watching.json_body["capabilities"] == ["subscribe"]
    asks = join(chalice_client, student["token"], capabilities=["publish"])
    assert asks.status_code == 403 and asks.json_body["type"].endswith("room-capability-not-granted"), asks.body

    # Each exchange is published with the join it records; a refused one is not.
    joined = [e for e in outbox() if e["type"] == "room.participant.joined"]
    assert [(e["userRef"], e["role"], e["participantId"]) for e in joined] == [
        ("teacher", "moderator", body["participantId"]),
        ("s1", "participant", watching.json_body["participantId"]),
    ]
    assert joined[0]["tokenId"] == moderator["tokenId"] and joined[0]["roomId"] == room_id


def test_revoked_tokens_are_refused(stages: StagePlane, tenant: ApiClient, chalice_client: Client) -> None:
    room_id = create(tenant, mode="group")["roomId"]
    first, second, other = mint(tenant, room_id), mint(tenant, room_id), mint(tenant, room_id, userRef="u2")
    assert tenant.call("DELETE", f"/rooms/{room_id}/tokens/{first['tokenId']}").status_code == 204
    assert tenant.call("DELETE", f"/rooms/{room_id}/tokens/{first['tokenId']}").status_code == 404
    revoked = join(chalice_client, first["token"])
    assert revoked.status_code == 401 and revoked.json_body["type"].endswith("room-join-token-revoked")

    all_of_user = tenant.call("DELETE", f"/rooms/{room_id}/tokens?userRef=u1")
    assert all_of_user.status_code == 200 and all_of_user.json_body == {"revoked": 1}
    assert join(chalice_client, second["token"]).status_code == 401
    assert join(chalice_client, other["token"]).status_code == 200

    assert tenant.call("DELETE", f"/rooms/{room_id}").status_code == 204
    gone = join(chalice_client, other["token"])
    assert gone.status_code == 401 and gone.json_body["type"].endswith("room-join-token-revoked")


def test_a_single_use_token_joins_once(stages: StagePlane, tenant: ApiClient, chalice_client: Client) -> None:
    room_id = create(tenant, mode="group")["roomId"]
    once = mint(tenant, room_id, singleUse=True)
    assert join(chalice_client, once["token"]).status_code == 200
    again = join(chalice_client, once["token"])
    assert again.status_code == 409 and again.json_body["type"].endswith("room-join-token-used"), again.body


def test_a_full_room_refuses_the_next_user(stages: StagePlane, tenant: ApiClient, chalice_client: Client) -> None:
    room_id = create(tenant, mode="p2p")["roomId"]
    first, second = mint(tenant, room_id, userRef="a"), mint(tenant, room_id, userRef="b")
    third = mint(tenant, room_id, userRef="c")
    admitted = join(chalice_client, first["token"])
    stages.connect(admitted.json_body["media"]["participantToken"])
    assert join(chalice_client, second["token"]).status_code == 200
    full = join(chalice_client, third["token"])
    assert full.status_code == 409 and full.json_body["type"].endswith("room-full"), full.body
    # The first peer rejoining (a reload) takes its own seat again.
    assert join(chalice_client, first["token"]).status_code == 200


def test_a_scheduled_room_admits_only_in_its_window(
    stages: StagePlane, tenant: ApiClient, chalice_client: Client
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    room = create(tenant, mode="group", lifetime="scheduled", startsAt=later.isoformat(), duration=30)
    assert room["joinable"]["from"] == (later - timedelta(minutes=15)).isoformat()
    early = join(chalice_client, mint(tenant, room["roomId"])["token"])
    assert early.status_code == 403 and early.json_body["type"].endswith("room-closed"), early.body

    started = (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0)
    running = create(tenant, mode="group", lifetime="scheduled", startsAt=started.isoformat(), duration=30)
    admitted = join(chalice_client, mint(tenant, running["roomId"])["token"])
    assert admitted.status_code == 200, admitted.body
    # The media token ends with the room's window (about 10 minutes away), not the token's day.
    assert 9 <= stages.tokens[admitted.json_body["media"]["participantToken"]]["duration"] <= 10


def test_expired_and_forged_tokens_are_refused(stages: StagePlane, tenant: ApiClient, chalice_client: Client) -> None:
    room_id = create(tenant, mode="group")["roomId"]
    token = mint(tenant, room_id, ttl=60)["token"]
    header, claims, signature = token.split(".")
    forged = join(chalice_client, f"{header}.{claims}.{signature[::-1]}")
    assert forged.status_code == 401 and forged.json_body["type"].endswith("room-join-token-invalid")
    assert join(chalice_client, "not-a-jwt").status_code == 401
    other_room = create(tenant, mode="group")["roomId"]
    other = mint(tenant, other_room)["token"]
    spliced = join(chalice_client, f"{header}.{other.split('.')[1]}.{signature}")
    assert spliced.status_code == 401


def test_a_moderators_backend_removes_a_participant(
    stages: StagePlane, tenant: ApiClient, other_tenant: ApiClient, chalice_client: Client
) -> None:
    room_id = create(tenant, mode="group")["roomId"]
    admitted = join(chalice_client, mint(tenant, room_id)["token"]).json_body
    stages.connect(admitted["media"]["participantToken"])
    path = f"/rooms/{room_id}/participants/{admitted['participantId']}"
    assert other_tenant.call("DELETE", path).status_code == 404
    assert tenant.call("DELETE", path).status_code == 204
    (participants,) = stages.participants.values()
    assert participants[admitted["participantId"]]["state"] == "DISCONNECTED"
    gone = tenant.call("DELETE", path)
    assert gone.status_code == 404 and gone.json_body["name"] == "participantId"
    assert tenant.call("DELETE", f"/rooms/{room_id}/participants/no%20such").status_code == 404


def test_the_join_page_and_its_script_are_served_without_credentials(
    stages: StagePlane, chalice_client: Client
) -> None:
    page = chalice_client.http.get("/join")
    script = chalice_client.http.get("/join/join.js")
    missing = chalice_client.http.get("/join/other.js")

    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<script src="join/join.js">' in page.body.decode()
    # The page may call the stage plane (WHIP and WHEP) and this origin, nothing else over http.
    policy = page.headers["Content-Security-Policy"]
    assert f"connect-src 'self' https: {stages.url};" in policy and "script-src 'self';" in policy
    assert script.status_code == 200 and b"RTCPeerConnection" in script.body
    assert missing.status_code == 404
