"""The EnableX facade (/enablex/v2/…) in-process on moto with the devstack's stage plane: every route,
its EnableX shapes and `result` codes, Basic APP_ID:APP_KEY, and its refusals."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from chalice.test import Client

from devstack.stageplane import StagePlane
from tests.integration.conftest import ApiClient
from tests.integration.test_room_sessions_api import deliver_room_events, stages, tick
from tests.integration.test_rooms_api import join

__all__ = ["stages"]  # the fixture, with the emulated bus

BASE = "/enablex/v2"
ROOM = {
    "name": "Consultation",
    "owner_ref": "clinic-9",
    "settings": {
        "description": "Follow-up", "mode": "group", "scheduled": False, "adhoc": False, "duration": "60",
        "moderators": "1", "participants": "5", "billing_code": "", "auto_recording": False, "quality": "SD",
        "canvas": False, "screen_share": False, "abwd": True, "max_active_talkers": 4, "knock": False,
        "wait_for_moderator": False, "media_zone": "US", "single_file_recording": False,
    },
    "sip": {"enabled": False},
    "data": {"custom_key": ""},
}  # fmt: skip


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def enablex(api: ApiClient, method: str, path: str, body: Any = None, auth: str | None = None) -> Any:
    """As an EnableX app server calls it: Basic APP_ID:APP_KEY = project id : API key."""
    headers = {"content-type": "application/json", "authorization": auth or basic(api.project_id, api.issued.value)}
    raw = b"" if body is None else json.dumps(body).encode()
    return api.client.http.request(method, BASE + path, headers=headers, body=raw)


def test_rooms_round_trip_in_enablex_shapes(stages: StagePlane, tenant: ApiClient) -> None:
    created = enablex(tenant, "POST", "/rooms", ROOM)
    assert created.status_code == 201, created.body
    assert created.json_body["result"] == 0
    room = created.json_body["room"]
    room_id = room["room_id"]
    assert room["settings"] == {
        "mode": "group", "scheduled": False, "adhoc": False, "duration": "60", "moderators": "1",
        "participants": "5", "auto_recording": False, "quality": "SD", "wait_for_moderator": False,
    }  # fmt: skip
    assert room["owner_ref"] == "clinic-9" and room["sip"] == {"enabled": False}
    # The same room, through Videoplane's own API.
    assert tenant.call("GET", f"/rooms/{room_id}").json_body["settings"]["maxParticipants"] == 5
    assert enablex(tenant, "GET", f"/rooms/{room_id}").json_body == {"result": 0, "room": room}

    listing = enablex(tenant, "GET", "/rooms").json_body
    assert listing["result"] == 0 and listing["total"] == "1" and [r["room_id"] for r in listing["rooms"]] == [room_id]

    patched = enablex(tenant, "PATCH", f"/rooms/{room_id}", {"name": "Review", "settings": {"participants": "3"}})
    assert patched.status_code == 200, patched.body
    assert (
        patched.json_body["room"]["name"] == "Review" and patched.json_body["room"]["settings"]["participants"] == "3"
    )
    unlimited = enablex(tenant, "PATCH", f"/rooms/{room_id}", {"settings": {"duration": 0}})
    assert unlimited.json_body["room"]["settings"]["duration"] == "0", unlimited.body

    deleted = enablex(tenant, "DELETE", f"/rooms/{room_id}")
    assert (deleted.status_code, deleted.json_body) == (200, {"result": 0})
    gone = enablex(tenant, "GET", f"/rooms/{room_id}")
    assert gone.status_code == 404 and gone.json_body["result"] == 404 and gone.json_body["desc"], gone.body


def test_scheduled_and_lecture_rooms_translate(stages: StagePlane, tenant: ApiClient) -> None:
    settings = {"mode": "lecture", "scheduled": True, "scheduled_time": "2031-05-04 10:00:00", "duration": 45,
                "participants": 0}  # fmt: skip
    created = enablex(tenant, "POST", "/rooms", {"name": "Class", "owner_ref": "t", "settings": settings})
    assert created.status_code == 201, created.body
    room = created.json_body["room"]
    assert room["settings"]["scheduled_time"] == "2031-05-04 10:00:00" and room["settings"]["scheduled"] is True
    assert room["settings"]["participants"] == "100"  # 0 (EnableX: unlimited) leaves the mode's default
    assert room["joinable"] == {"from": "2031-05-04 09:45:00", "until": "2031-05-04 10:45:00"}
    videoplane = tenant.call("GET", f"/rooms/{room['room_id']}").json_body["settings"]
    assert videoplane["lifetime"] == "scheduled" and videoplane["startsAt"] == "2031-05-04T10:00:00+00:00"


def test_refusals_carry_enablex_result_codes(stages: StagePlane, tenant: ApiClient) -> None:
    def refused(body: Any, method: str = "POST", path: str = "/rooms") -> tuple[int, int, str]:
        response = enablex(tenant, method, path, body)
        assert set(response.json_body) == {"result", "error", "desc"}, response.body
        return response.status_code, response.json_body["result"], response.json_body["desc"]

    assert refused({"owner_ref": "x", "settings": {"mode": "group"}})[:2] == (400, 10002)
    assert refused({**ROOM, "settings": {"mode": "group", "participants": "many"}})[:2] == (400, 10007)
    assert refused({**ROOM, "settings": {"mode": "group", "participants": "40"}})[:2] == (400, 400)
    assert refused({**ROOM, "settings": {"mode": "group", "auto_recording": "yes"}})[:2] == (400, 10008)
    assert refused({**ROOM, "settings": {"mode": "group", "teleport": True}})[:2] == (400, 10009)
    assert refused({**ROOM, "settings": {"scheduled": True, "adhoc": True}})[:2] == (400, 10003)
    bad_time = {"scheduled": True, "scheduled_time": "tomorrow", "duration": 30}
    assert refused({**ROOM, "settings": bad_time})[:2] == (400, 10005)
    assert refused("[]")[:2] == (400, 400)
    room_id = enablex(tenant, "POST", "/rooms", ROOM).json_body["room"]["room_id"]
    assert refused({"settings": {"mode": "lecture"}}, "PATCH", f"/rooms/{room_id}")[:2] == (400, 400)
    assert refused({"name": None}, "PATCH", f"/rooms/{room_id}")[:2] == (400, 10002)
    assert refused({"name": "x", "role": "pilot", "user_ref": "u"}, "POST", f"/rooms/{room_id}/tokens")[:2] == (
        400,
        400,
    )
    assert refused(None, "GET", "/rooms/ro0000000000000000000000")[:2] == (404, 404)
    assert refused(None, "GET", "/rooms/not-a-room")[:2] == (404, 404)
    assert refused(None, "GET", "/cdr/period/2026-02-30/2026-03-01")[:2] == (400, 400)
    assert refused(None, "GET", "/cdr/period/2026-03-02/2026-03-01")[:2] == (400, 400)
    assert refused(None, "GET", "/cdr/period/March/2026-03-01")[:2] == (400, 400)
    assert refused(None, "GET", "/archive/conf/rs0000000000000000000000")[:2] == (404, 404)


def test_basic_app_id_and_app_key(stages: StagePlane, tenant: ApiClient, other_tenant: ApiClient) -> None:
    assert enablex(tenant, "GET", "/rooms").status_code == 200
    # The key as the user name (Videoplane's Basic) works too.
    assert enablex(tenant, "GET", "/rooms", auth=basic(tenant.issued.value, "")).status_code == 200
    # The key of one project with the id of another is refused, as is a wrong key: the authorizer's
    # Deny, which chalice's local gateway answers 403 (API Gateway and the devstack's answer 401).
    assert enablex(tenant, "GET", "/rooms", auth=basic(other_tenant.project_id, tenant.issued.value)).status_code == 403
    assert enablex(tenant, "GET", "/rooms", auth=basic(tenant.project_id, "nope")).status_code == 403
    room_id = enablex(tenant, "POST", "/rooms", ROOM).json_body["room"]["room_id"]
    # Another project's room looks missing.
    assert enablex(other_tenant, "GET", f"/rooms/{room_id}").status_code == 404
    assert enablex(other_tenant, "POST", f"/rooms/{room_id}/tokens", {"name": "a", "role": "moderator",
                                                                     "user_ref": "a"}).status_code == 404  # fmt: skip
    assert enablex(other_tenant, "GET", f"/cdr/room/{room_id}").status_code == 404
    assert enablex(other_tenant, "GET", f"/archive/room/{room_id}").status_code == 404


def test_a_token_joins_and_the_session_shows_in_the_cdr_routes(
    stages: StagePlane, tenant: ApiClient, chalice_client: Client
) -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    room_id = enablex(tenant, "POST", "/rooms", ROOM).json_body["room"]["room_id"]
    minted = enablex(
        tenant, "POST", f"/rooms/{room_id}/tokens", {"name": "Ada", "role": "moderator", "user_ref": "ada"}
    )
    assert minted.status_code == 200 and minted.json_body["result"] == 0, minted.body
    audience = {"name": "Bo", "role": "audience", "user_ref": "bo"}
    assert enablex(tenant, "POST", f"/rooms/{room_id}/tokens", audience).json_body["result"] == 0
    admitted = join(chalice_client, minted.json_body["token"]).json_body
    assert admitted["role"] == "moderator" and admitted["roomId"] == room_id
    # Still in session: no records yet.
    assert enablex(tenant, "GET", f"/cdr/room/{room_id}").json_body == {"result": "0", "cdr": []}

    stages.connect(admitted["media"]["participantToken"], published=True)
    deliver_room_events()
    (stage_arn,) = stages.stages
    stages.leave(stage_arn, admitted["participantId"])
    tick(tenant.project_id, room_id, admitted["sessionId"], 1)

    by_room = enablex(tenant, "GET", f"/cdr/room/{room_id}").json_body
    (cdr,) = by_room["cdr"]
    assert by_room["result"] == "0"
    assert cdr["conf_num"] == admitted["sessionId"] and cdr["call_num"] == admitted["participantId"]
    assert cdr["app_id"] == tenant.project_id
    assert cdr["user"] == {"role": "moderator", "name": "Ada", "ref": "ada", "ip": "", "agent": ""}
    assert cdr["room"]["room_details"] == {"name": "Consultation", "owner_ref": "clinic-9"}
    assert cdr["room"]["disconnect_dt"] and isinstance(cdr["usage"]["connect_minutes"], str)
    assert cdr["published_track"]["video"] is True
    period = enablex(tenant, "GET", f"/cdr/period/{today}/{today}").json_body
    assert period["result"] == "0" and period["cdr"] == [cdr]
    assert enablex(tenant, "GET", "/cdr/period/2020-01-01/2020-01-02").json_body == {"result": "0", "cdr": []}

    empty = {"result": "0", "archive": []}
    assert enablex(tenant, "GET", f"/archive/room/{room_id}").json_body == empty
    assert enablex(tenant, "GET", f"/archive/conf/{admitted['sessionId']}").json_body == empty
