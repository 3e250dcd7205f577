"""Room sessions and call detail records, in-process on moto with the devstack's stage plane: the
`room.session.started` event through the outbox, the bus rule and the room-events queue starts the
poll loop; timers and IVS stage updates drive it; the session's records are read over the API."""

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
from chalicelib.rooms.adapters.timers import timer_message
from chalicelib.rooms.consumers.sessions import track_room_sessions
from devstack.stageplane import StagePlane
from tests.integration.conftest import ApiClient
from tests.integration.test_outbox import drain, publish, stream_event
from tests.integration.test_rooms_api import create, join, mint, outbox_types


@pytest.fixture
def stages(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[StagePlane]:
    # With the emulated default bus: its stage updates reach the room-events queue by the IVS rule.
    plane = StagePlane(events=boto3.client("events"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_IVS_REALTIME", plane.start())
    core_wiring.reset()
    yield plane
    plane.stop()


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(i),
                "receiptHandle": str(i),
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{resources.ROOM_EVENTS_QUEUE.name}",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def deliver_room_events() -> list[dict[str, Any]]:
    """Publishes the outbox, then hands whatever reached the room-events queue to the consumer."""
    assert publish(stream_event()) == {"batchItemFailures": []}
    bodies = [m["Body"] for m in drain(resources.ROOM_EVENTS_QUEUE)]
    assert track_room_sessions(sqs_event(bodies), None) == {"batchItemFailures": []}
    return [json.loads(b) for b in bodies]


def tick(project_id: str, room_id: str, session_id: str, generation: int) -> None:
    body = timer_message(project_id, room_id, session_id, generation)
    assert track_room_sessions(sqs_event([body]), None) == {"batchItemFailures": []}


def test_a_session_from_first_join_to_last_leave_with_its_records(
    stages: StagePlane, tenant: ApiClient, other_tenant: ApiClient, chalice_client: Client
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    room_id = create(tenant, mode="group")["roomId"]
    ada, bob = (join(chalice_client, mint(tenant, room_id, userRef=u)["token"]).json_body for u in ("ada", "bob"))
    session_id = ada["sessionId"]
    assert bob["sessionId"] == session_id and session_id.startswith("rs")
    for admitted in (ada, bob):
        stages.connect(admitted["media"]["participantToken"], published=True)

    # The start event and both publishers' stage updates come through their rules.
    delivered = deliver_room_events()
    kinds = sorted(str(m.get("detail-type")) for m in delivered)
    assert kinds == ["IVS Stage Update", "IVS Stage Update", "room.session.started"]
    session = tenant.call("GET", f"/sessions/{session_id}")
    assert session.status_code == 200, session.body
    body = session.json_body
    assert body["status"] == "active" and body["roomId"] == room_id
    assert {p["userRef"]: p["connectedAt"] is not None for p in body["participants"]} == {"ada": True, "bob": True}

    (stage_arn,) = stages.stages
    stages.leave(stage_arn, ada["participantId"])
    tick(tenant.project_id, room_id, session_id, 1)
    assert tenant.call("GET", f"/sessions/{session_id}").json_body["status"] == "active"
    stages.leave(stage_arn, bob["participantId"])
    tick(tenant.project_id, room_id, session_id, 2)
    deliver_room_events()  # the unpublish updates, after the end: nothing changes

    ended = tenant.call("GET", f"/sessions/{session_id}").json_body
    assert ended["status"] == "ended" and ended["endReason"] == "empty"
    types = [t for t in outbox_types() if t.startswith("room.")]
    assert types.count("room.participant.left") == 2
    assert [t for t in types if t in ("room.session.ended", "room.cdr.ready")] == [
        "room.session.ended",
        "room.cdr.ready",
    ]

    records = tenant.call("GET", f"/sessions/{session_id}/cdr").json_body
    assert records["pagination"]["itemsTotal"] == 2
    assert {r["userRef"]: r["leaveReason"] for r in records["data"]} == {"ada": "left", "bob": "left"}
    assert all(r["duration"] >= 0 and r["leftAt"] is not None for r in records["data"])
    until = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    period = tenant.call("GET", f"/cdr?from={start.strftime('%Y-%m-%dT%H:%M:%SZ')}&to={until}")
    assert period.status_code == 200, period.body
    assert [r["sessionId"] for r in period.json_body["data"]] == [session_id, session_id]
    listing = tenant.call("GET", f"/rooms/{room_id}/sessions").json_body
    assert [s["sessionId"] for s in listing["data"]] == [session_id]

    # Another project sees none of it.
    assert other_tenant.call("GET", f"/sessions/{session_id}").status_code == 404
    assert other_tenant.call("GET", f"/sessions/{session_id}/cdr").status_code == 404
    assert other_tenant.call("GET", f"/rooms/{room_id}/sessions").status_code == 404
    assert (
        other_tenant.call("GET", f"/cdr?from={start.strftime('%Y-%m-%dT%H:%M:%SZ')}&to={until}").json_body["data"] == []
    )

    # The next join starts a new session.
    again = join(chalice_client, mint(tenant, room_id, userRef="cy")["token"]).json_body
    assert again["sessionId"] != session_id


def test_a_period_needs_both_ends_in_order(stages: StagePlane, tenant: ApiClient) -> None:
    assert tenant.call("GET", "/cdr").status_code == 400
    backwards = tenant.call("GET", "/cdr?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z")
    assert backwards.status_code == 400 and backwards.json_body["status"] == 400
    naive = tenant.call("GET", "/cdr?from=2026-03-01T00:00:00&to=2026-03-02T00:00:00Z")
    assert naive.status_code == 400
    assert tenant.call("GET", "/sessions/rs0000000000000000000000").status_code == 404


def test_an_adhoc_room_goes_with_its_session(stages: StagePlane, tenant: ApiClient, chalice_client: Client) -> None:
    room_id = create(tenant, mode="p2p", lifetime="adhoc")["roomId"]
    admitted = join(chalice_client, mint(tenant, room_id, userRef="ada")["token"]).json_body
    stages.connect(admitted["media"]["participantToken"])
    deliver_room_events()
    (stage_arn,) = stages.stages
    stages.leave(stage_arn, admitted["participantId"])
    tick(tenant.project_id, room_id, admitted["sessionId"], 1)
    assert tenant.call("GET", f"/rooms/{room_id}").status_code == 200
    # `room.session.ended` comes back through the bus (with the start again: the whole stream is
    # published again here, as a redelivery would): the room is deleted, and then its stage released.
    ended = deliver_room_events()
    assert "room.session.ended" in [m["detail-type"] for m in ended]
    assert tenant.call("GET", f"/rooms/{room_id}").status_code == 404
    assert tenant.call("GET", f"/sessions/{admitted['sessionId']}").json_body["status"] == "ended"
    assert "room.deleted" in outbox_types()
    deliver_room_events()  # redelivered: nothing left to do


def test_a_permanent_room_stays_after_its_session(
    stages: StagePlane, tenant: ApiClient, chalice_client: Client
) -> None:
    room_id = create(tenant, mode="p2p")["roomId"]
    admitted = join(chalice_client, mint(tenant, room_id, userRef="ada")["token"]).json_body
    stages.connect(admitted["media"]["participantToken"])
    deliver_room_events()
    (stage_arn,) = stages.stages
    stages.leave(stage_arn, admitted["participantId"])
    tick(tenant.project_id, room_id, admitted["sessionId"], 1)
    deliver_room_events()
    assert tenant.call("GET", f"/rooms/{room_id}").status_code == 200
