"""Call quality on moto with the devstack's stage plane: the join answers a stats token, the public
`POST /join/stats` stores one sample per participant per slot (DynamoDB PutItem, create-only; Query to
read them back), and the session's records, the period's and EnableX's carry the figures."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.test import Client

from devstack.stageplane import StagePlane
from tests.integration.conftest import ApiClient
from tests.integration.test_room_sessions_api import deliver_room_events, stages, tick
from tests.integration.test_rooms_api import create, join, mint
from tests.integration.test_rooms_enablex import enablex

__all__ = ["stages"]  # the fixture, with the emulated bus


def post_stats(client: Client, body: dict[str, Any]) -> Any:
    """Public, as the join page posts it: no Authorization header."""
    return client.http.post("/join/stats", headers={"content-type": "application/json"}, body=json.dumps(body))


def sample(token: str, bitrate: int, rtt: float, lost: int = 0) -> dict[str, Any]:
    kinds = {
        "video": {"bitrate": bitrate - 64_000, "packets": 50, "packetsLost": lost},
        "audio": {"bitrate": 64_000, "packets": 50, "packetsLost": 0},
    }
    return {
        "token": token,
        "send": {"bitrate": bitrate, "packets": 100, "packetsLost": lost, **kinds},
        "receive": {"bitrate": bitrate // 2, "packets": 50, "packetsLost": 0},
        "roundTripTime": rtt,
        "jitter": 0.004,
    }


def test_samples_reach_the_records_of_their_participant_only(
    stages: StagePlane, tenant: ApiClient, other_tenant: ApiClient, chalice_client: Client
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    room_id = create(tenant, mode="group")["roomId"]
    ada, bob = (join(chalice_client, mint(tenant, room_id, userRef=u)["token"]).json_body for u in ("ada", "bob"))
    assert ada["stats"]["intervalSeconds"] == 10 and ada["stats"]["token"] != bob["stats"]["token"]
    for admitted in (ada, bob):
        stages.connect(admitted["media"]["participantToken"], published=True)
    deliver_room_events()

    # Both of ada's posts fall in one slot (the server's clock, 10 s wide).
    into = time.time() % 10
    if into > 7:
        time.sleep(10.1 - into)
    posted = post_stats(chalice_client, sample(ada["stats"]["token"], 1_200_000, 0.05, lost=2))
    assert posted.status_code == 204, posted.body
    # A second sample in the same 10 s slot is refused; the first one stays.
    again = post_stats(chalice_client, sample(ada["stats"]["token"], 9_000_000, 0.9))
    assert again.status_code == 429 and int(again.headers["Retry-After"]) <= 10
    # The join token is not a stats token; nor is anything else; nor is a body with extra keys.
    assert post_stats(chalice_client, sample(mint(tenant, room_id)["token"], 100_000, 0.1)).status_code == 401
    assert post_stats(chalice_client, sample("x.y.z", 100_000, 0.1)).status_code == 401
    extra = {**sample(bob["stats"]["token"], 100_000, 0.1), "projectId": other_tenant.project_id}
    assert post_stats(chalice_client, extra).status_code == 400
    assert post_stats(chalice_client, sample(bob["stats"]["token"], 600_000, 0.25)).status_code == 204

    session_id = ada["sessionId"]
    live = tenant.call("GET", f"/sessions/{session_id}").json_body
    assert live["quality"]["samples"] == 2 and live["quality"]["p95RoundTripTime"] == 250

    (stage_arn,) = stages.stages
    for n, admitted in enumerate((ada, bob), start=1):
        stages.leave(stage_arn, admitted["participantId"])
        tick(tenant.project_id, room_id, session_id, n)
    records = {r["userRef"]: r for r in tenant.call("GET", f"/sessions/{session_id}/cdr").json_body["data"]}
    assert records["ada"]["quality"] == {
        "samples": 1,
        "send": {"avgBitrate": 1_200_000, "p95Bitrate": 1_200_000, "minBitrate": 1_200_000,
                 "maxBitrate": 1_200_000, "packetLoss": 2.0,
                 "video": {"avgBitrate": 1_136_000, "p95Bitrate": 1_136_000, "minBitrate": 1_136_000,
                           "maxBitrate": 1_136_000, "packetLoss": 4.0},
                 "audio": {"avgBitrate": 64_000, "p95Bitrate": 64_000, "minBitrate": 64_000,
                           "maxBitrate": 64_000, "packetLoss": 0.0}},
        "receive": {"avgBitrate": 600_000, "p95Bitrate": 600_000, "minBitrate": 600_000,
                    "maxBitrate": 600_000, "packetLoss": 0.0, "audio": None, "video": None},
        "avgRoundTripTime": 50,
        "p95RoundTripTime": 50,
        "avgJitter": 4,
    }  # fmt: skip
    assert records["bob"]["quality"]["send"]["avgBitrate"] == 600_000
    until = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    period = tenant.call("GET", f"/cdr?from={start.strftime('%Y-%m-%dT%H:%M:%SZ')}&to={until}").json_body
    assert sorted(r["quality"]["samples"] for r in period["data"]) == [1, 1]
    ended = tenant.call("GET", f"/sessions/{session_id}").json_body
    assert ended["quality"]["send"]["avgBitrate"] == 900_000

    (cdr, _) = sorted(enablex(tenant, "GET", f"/cdr/room/{room_id}").json_body["cdr"], key=lambda c: c["user"]["ref"])
    assert cdr["stats_quality"]["send"]["avg_bitrate"] == "1200000"
    assert cdr["stats_quality"]["send"]["video"]["avg_bitrate"] == "1136000"
    assert cdr["stats_quality"]["send"]["audio"]["avg_bitrate_quality"] == "Good"
    assert cdr["stats_quality"]["rtt"] == {"avg": "50", "p95": "50"}

    # Another project reads none of it.
    assert other_tenant.call("GET", f"/sessions/{session_id}/cdr").status_code == 404
