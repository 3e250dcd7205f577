"""An EnableX app server against a devstack: plain `requests` with HTTP Basic APP_ID:APP_KEY (project
id : API key) on the `/enablex/v2` facade. Create a room, create a token, join with it (POST /join)
and publish over WHIP, leave, and find the call in the facade's CDR routes."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import requests

from .support import Api, Tenant, marker
from .test_rooms import whip_publisher

CDR_WAIT_SECONDS = 60


class EnableXAppServer:
    """What an app server written for EnableX does, with only its base URL and credentials changed."""

    def __init__(self, base_url: str, app_id: str, app_key: str) -> None:
        self.base = f"{base_url}/enablex/v2"
        self.session = requests.Session()
        self.session.auth = (app_id, app_key)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code in (200, 201), f"{method} {path}: {response.status_code} {response.text}"
        body = response.json()
        assert str(body["result"]) == "0", body
        return body


def test_an_enablex_app_server_runs_a_call_and_reads_its_cdr(api: Api, project_a: Tenant) -> None:
    app = EnableXAppServer(api.base_url, project_a.project_id, project_a.api_key)
    room = app.ok(
        "POST",
        "/rooms",
        json={
            "name": f"consult {marker()}",
            "owner_ref": "clinic-9",
            "settings": {"mode": "group", "scheduled": False, "adhoc": False, "duration": "30",
                         "moderators": "1", "participants": "2", "quality": "SD", "auto_recording": False,
                         "canvas": False, "abwd": True, "media_zone": "US"},
            "sip": {"enabled": False},
        },
    )["room"]  # fmt: skip
    room_id = room["room_id"]
    assert room["settings"]["participants"] == "2" and room["settings"]["duration"] == "30"
    token = app.ok("POST", f"/rooms/{room_id}/tokens", json={"name": "Ada", "role": "moderator", "user_ref": "ada"})

    # The participant's client exchanges the token at Videoplane's public join endpoint.
    admitted = api.raw("POST", "/join", json={"token": token["token"]})
    assert admitted.status_code == 200, admitted.text
    media = admitted.json()
    assert media["roomId"] == room_id and media["role"] == "moderator"
    publisher = whip_publisher(media["media"], 3)
    assert publisher.wait(timeout=60) == 0, publisher.stderr.read() if publisher.stderr else ""

    deadline = time.monotonic() + CDR_WAIT_SECONDS
    while not (records := app.ok("GET", f"/cdr/room/{room_id}")["cdr"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    (cdr,) = records
    assert cdr["conf_num"] == media["sessionId"] and cdr["call_num"] == media["participantId"]
    assert cdr["user"]["ref"] == "ada" and cdr["user"]["role"] == "moderator"
    assert cdr["room"]["room_details"]["owner_ref"] == "clinic-9" and cdr["app_id"] == project_a.project_id
    assert cdr["published_track"]["video"] is True and float(cdr["usage"]["connect_minutes"]) > 0
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    period = app.ok("GET", f"/cdr/period/{today}/{today}")["cdr"]
    assert cdr in period
    assert app.ok("GET", f"/archive/conf/{media['sessionId']}") == {"result": "0", "archive": []}
    assert app.ok("DELETE", f"/rooms/{room_id}") == {"result": 0}


def test_wrong_credentials_and_refusals(api: Api, project_a: Tenant, project_b: Tenant) -> None:
    # APP_ID of another project with this project's key: the gateway's 401.
    wrong = EnableXAppServer(api.base_url, project_b.project_id, project_a.api_key).call("GET", "/rooms")
    assert wrong.status_code == 401, wrong.text
    app = EnableXAppServer(api.base_url, project_a.project_id, project_a.api_key)
    missing = app.call("GET", "/rooms/ro0000000000000000000000")
    assert missing.status_code == 404 and missing.json()["result"] == 404, missing.text
    unnamed = app.call("POST", "/rooms", json={"owner_ref": "x", "settings": {"mode": "group"}})
    assert unnamed.status_code == 400 and unnamed.json()["result"] == 10002, unnamed.text
