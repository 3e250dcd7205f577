"""Rooms over HTTP against a devstack (IVS real-time control plane on loopback): create a room, mint
tokens, exchange them at the public join endpoint, and each refusal as problem JSON."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import requests

from devstack import mediatools

from .receivers import Receiver, verify_both_ways
from .support import Api, Devstack, Tenant, assert_problem, marker

RELEASE_WAIT_SECONDS = 30


def create_room(api: Api, tenant: Tenant, **settings: Any) -> dict[str, Any]:
    body = {"name": f"room {marker()}", "ownerRef": "e2e", "settings": settings}
    room: dict[str, Any] = api.ok("POST", "/rooms", tenant.api_key, expected=201, json=body)
    return room


def mint(api: Api, tenant: Tenant, room_id: str, **fields: Any) -> dict[str, Any]:
    body = {"userRef": "ada", "name": "Ada", "role": "participant", **fields}
    token: dict[str, Any] = api.ok("POST", f"/rooms/{room_id}/tokens", tenant.api_key, expected=201, json=body)
    return token


def join(api: Api, token: str, **fields: Any) -> requests.Response:
    """No API key: the join token is the credential."""
    return api.raw("POST", "/join", json={"token": token, **fields})


def test_a_room_admits_its_tokens_holders(api: Api, devstack: Devstack, project_a: Tenant) -> None:
    room = create_room(api, project_a, mode="group", maxParticipants=3)
    room_id = room["roomId"]
    assert api.ok("GET", f"/rooms/{room_id}", project_a.api_key) == room

    moderator = mint(api, project_a, room_id, userRef="grace", name="Grace", role="moderator")
    admitted = join(api, moderator["token"])
    assert admitted.status_code == 200, admitted.text
    body = admitted.json()
    assert body["roomId"] == room_id and body["role"] == "moderator"
    assert body["capabilities"] == ["publish", "subscribe"] and body["participantId"]
    media = body["media"]
    assert media["provider"] == "ivs-realtime" and media["participantToken"]
    # The WHIP endpoint is the devstack's stage plane, a port the stack keeps to itself.
    assert media["whipUrl"].startswith(devstack.state()["stagePlane"] + "/whip/")

    viewer = mint(api, project_a, room_id, userRef="vic", name="Vic", role="viewer")
    asks = join(api, viewer["token"], capabilities=["subscribe", "publish"])
    assert_problem(asks, 403, "room-capability-not-granted")
    assert join(api, viewer["token"], capabilities=["subscribe"]).json()["capabilities"] == ["subscribe"]

    api.ok("DELETE", f"/rooms/{room_id}", project_a.api_key, expected=204)
    assert_problem(join(api, moderator["token"]), 401, "room-join-token-revoked")

    # The stage goes with the room: the table's stream → the outbox publisher's removal
    # announcement → the bus rule → the room-removals queue → release_room_stages.
    ivs = boto3.client(
        "ivs-realtime",
        endpoint_url=devstack.state()["stagePlane"],
        region_name="us-east-1",
        aws_access_key_id="devstack",
        aws_secret_access_key="devstack",
    )
    name = f"videoplane-{project_a.project_id}-{room_id}"

    def stage_names() -> list[str]:
        return [s["name"] for s in ivs.list_stages(maxResults=100)["stages"]]

    deadline = time.monotonic() + RELEASE_WAIT_SECONDS
    while name in stage_names() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert name not in stage_names()


def test_each_refusal_is_its_own_problem(api: Api, project_a: Tenant) -> None:
    room_id = create_room(api, project_a, mode="p2p")["roomId"]
    revoked = mint(api, project_a, room_id, userRef="rev")
    api.ok("DELETE", f"/rooms/{room_id}/tokens/{revoked['tokenId']}", project_a.api_key, expected=204)
    assert_problem(join(api, revoked["token"]), 401, "room-join-token-revoked")

    once = mint(api, project_a, room_id, userRef="a", singleUse=True)
    assert join(api, once["token"]).status_code == 200
    assert_problem(join(api, once["token"]), 409, "room-join-token-used")

    assert join(api, mint(api, project_a, room_id, userRef="b")["token"]).status_code == 200
    assert_problem(join(api, mint(api, project_a, room_id, userRef="c")["token"]), 409, "room-full")

    token = mint(api, project_a, room_id, userRef="d")["token"]
    head, claims, signature = token.split(".")
    assert_problem(join(api, f"{head}.{claims}.{signature[::-1]}"), 401, "room-join-token-invalid")

    revoked_user = api.ok("DELETE", f"/rooms/{room_id}/tokens", project_a.api_key, params={"userRef": "d"})
    assert revoked_user == {"revoked": 1}
    assert_problem(join(api, token), 401, "room-join-token-revoked")


def test_a_scheduled_room_is_closed_before_its_window(api: Api, project_a: Tenant) -> None:
    starts = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    room = create_room(api, project_a, mode="lecture", lifetime="scheduled", startsAt=starts.isoformat(), duration=60)
    closed = join(api, mint(api, project_a, room["roomId"])["token"])
    body = assert_problem(closed, 403, "room-closed")
    assert room["joinable"]["from"] in body["detail"]


def test_another_project_sees_404_and_cannot_mint(api: Api, project_a: Tenant, project_b: Tenant) -> None:
    room_id = create_room(api, project_a, mode="group")["roomId"]
    assert_problem(api.call("GET", f"/rooms/{room_id}", project_b.api_key), 404, "resource-not-found")
    minted = api.call(
        "POST", f"/rooms/{room_id}/tokens", project_b.api_key, json={"userRef": "x", "name": "X", "role": "moderator"}
    )
    assert_problem(minted, 404, "resource-not-found")
    assert all(r["roomId"] != room_id for r in api.list_all("/rooms", project_b.api_key))


def test_a_moderator_publishes_over_whip_and_the_join_reaches_a_signed_webhook(
    api: Api, project_a: Tenant, receiver: Callable[..., Receiver]
) -> None:
    hook = receiver()
    webhook = api.ok(
        "POST", "/webhooks", project_a.api_key, expected=201,
        json={"events": ["room.participant.joined"], "url": hook.url},
    )  # fmt: skip
    try:
        room_id = create_room(api, project_a, mode="group")["roomId"]
        token = mint(api, project_a, room_id, userRef="grace", name="Grace", role="moderator")
        media = join(api, token["token"]).json()

        publisher = subprocess.run(
            [
                mediatools.ffmpeg(), "-hide_banner", "-v", "error",
                "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=2",
                "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-tune", "zerolatency", "-g", "30",
                "-c:a", "libopus", "-ar", "48000", "-ac", "2",
                "-authorization", media["media"]["participantToken"], "-f", "whip", media["media"]["whipUrl"],
            ],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert publisher.returncode == 0, publisher.stderr

        (delivery,) = hook.wait_for(1)
        payload = verify_both_ways(webhook["signatureSecret"], webhook["webhookId"], delivery)
        assert payload["type"] == "room.participant.joined" and payload["roomId"] == room_id
        assert (payload["participantId"], payload["userRef"], payload["role"]) == (
            media["participantId"],
            "grace",
            "moderator",
        )
    finally:
        api.ok("DELETE", f"/webhooks/{webhook['webhookId']}", project_a.api_key, expected=204)


def whip_publisher(media: dict[str, Any], seconds: int) -> subprocess.Popen[str]:
    """An ffmpeg WHIP publisher that sends `seconds` of media, then leaves (DELETE on its resource)."""
    return subprocess.Popen(
        [
            mediatools.ffmpeg(), "-hide_banner", "-v", "error",
            "-re", "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=15:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-tune", "zerolatency", "-g", "15",
            "-c:a", "libopus", "-ar", "48000", "-ac", "2",
            "-authorization", media["participantToken"], "-f", "whip", media["whipUrl"],
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


SESSION_EVENTS = ["room.session.started", "room.participant.left", "room.session.ended", "room.cdr.ready"]


def test_two_whip_publishers_make_a_session_whose_records_match_their_connect_times(
    api: Api, project_a: Tenant, receiver: Callable[..., Receiver]
) -> None:
    hook = receiver()
    webhook = api.ok(
        "POST", "/webhooks", project_a.api_key, expected=201, json={"events": SESSION_EVENTS, "url": hook.url}
    )
    try:
        room_id = create_room(api, project_a, mode="group")["roomId"]
        admitted = {
            user: join(
                api,
                mint(api, project_a, room_id, userRef=user, role="moderator" if user == "ada" else "participant")[
                    "token"
                ],
            ).json()
            for user in ("ada", "bob")
        }
        started = time.monotonic()
        peers = {"ada": whip_publisher(admitted["ada"]["media"], 4), "bob": whip_publisher(admitted["bob"]["media"], 8)}
        lasted: dict[str, float] = {}
        for user, peer in peers.items():
            assert peer.wait(timeout=60) == 0, peer.stderr.read() if peer.stderr else ""
            lasted[user] = time.monotonic() - started

        session_id = admitted["ada"]["sessionId"]
        # The project is shared with the other e2e tests: a session of theirs may end (a vanished
        # peer is noticed ~30 s later) while this one runs, so only this session's events count.
        deadline = time.monotonic() + 60
        while True:
            every = [verify_both_ways(webhook["signatureSecret"], webhook["webhookId"], d) for d in list(hook.requests)]
            payloads = [p for p in every if p["sessionId"] == session_id]
            if len(payloads) >= 5 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert sorted(p["type"] for p in payloads) == sorted(
            ["room.session.started", "room.participant.left", "room.participant.left", "room.session.ended",
             "room.cdr.ready"]
        )  # fmt: skip
        left = {p["participantId"]: p["reason"] for p in payloads if p["type"] == "room.participant.left"}
        assert left == {admitted[u]["participantId"]: "left" for u in ("ada", "bob")}

        records = api.ok("GET", f"/sessions/{session_id}/cdr", project_a.api_key)["data"]
        by_user = {r["userRef"]: r for r in records}
        assert set(by_user) == {"ada", "bob"} and by_user["ada"]["role"] == "moderator"
        for user, seconds in lasted.items():
            # Connected from the WHIP answer to the DELETE: what the peer measured, within 2 s.
            assert abs(by_user[user]["duration"] - seconds) <= 2, (user, by_user[user], seconds)
            assert by_user[user]["publishedDuration"] <= by_user[user]["duration"] + 1
        session = api.ok("GET", f"/sessions/{session_id}", project_a.api_key)
        assert session["status"] == "ended" and session["endReason"] == "empty"
        assert session["endedAt"] == by_user["bob"]["leftAt"]
    finally:
        api.ok("DELETE", f"/webhooks/{webhook['webhookId']}", project_a.api_key, expected=204)
