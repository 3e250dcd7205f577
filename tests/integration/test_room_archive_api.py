"""EnableX's archive routes on moto: a room's recordings that became videos, with the video's assets
read by the rooms context's own adapter from the VOD context's items as VOD writes them (the video
by the API, its media flags by VOD's media repository): this test holds the two layouts together."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice.test import Client

from chalicelib.core import wiring as core_wiring
from chalicelib.core.config import get_settings
from chalicelib.rooms.adapters.rooms import DynamoRecordingRepository
from chalicelib.rooms.domain.recordings import Recording, RecordingState
from chalicelib.vod.adapters.media import DynamoMediaRepository
from devstack.stageplane import StagePlane
from tests.integration.conftest import ApiClient
from tests.integration.test_room_sessions_api import stages
from tests.integration.test_rooms_api import join
from tests.integration.test_rooms_enablex import ROOM, enablex

__all__ = ["stages"]  # the fixture, with the emulated bus


def test_the_archive_lists_each_recording_as_its_video_plays(
    stages: StagePlane, tenant: ApiClient, other_tenant: ApiClient, chalice_client: Client
) -> None:
    room_id = enablex(tenant, "POST", "/rooms", ROOM).json_body["room"]["room_id"]
    token = enablex(tenant, "POST", f"/rooms/{room_id}/tokens", {"name": "Ada", "role": "moderator", "user_ref": "a"})
    session_id = join(chalice_client, token.json_body["token"]).json_body["sessionId"]
    empty = {"result": "0", "archive": []}
    assert enablex(tenant, "GET", f"/archive/room/{room_id}").json_body == empty

    video = tenant.call("POST", "/videos", {"title": "Consultation (recorded)"})
    assert video.status_code == 201, video.body
    video_id = video.json_body["videoId"]
    started = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    recording = Recording(
        project_id=tenant.project_id, room_id=room_id, session_id=session_id, recording_id="AbCdEfGh1234",
        composition_arn="arn:aws:ivs:us-east-1:123456789012:composition/AbCdEfGh1234", prefix="p",
        state=RecordingState.ENDED, started_at=started, ended_at=started.replace(minute=30), video_id=video_id,
    )  # fmt: skip
    DynamoRecordingRepository(core_wiring.table()).save(recording, None, None, [])

    # Not yet playable: listed, without files.
    (item,) = enablex(tenant, "GET", f"/archive/room/{room_id}").json_body["archive"]
    assert item == {
        "_id": "AbCdEfGh1234",
        "trans_date": "2026-03-04 10:30:00",
        "conf_num": session_id,
        "app_id": tenant.project_id,
        "room_id": room_id,
        "recording": [],
        "transcoded": [],
        "metadata": {"video_id": video_id},
    }
    # Encoded: the video's own public assets, as GET /videos/{videoId} answers them.
    DynamoMediaRepository(core_wiring.table()).set_fields(
        tenant.project_id, video_id, {"playable": True, "mp4": True}, datetime.now(UTC)
    )
    assets = tenant.call("GET", f"/videos/{video_id}").json_body["assets"]
    by_conf = enablex(tenant, "GET", f"/archive/conf/{session_id}").json_body
    (item,) = by_conf["archive"]
    assert item["recording"] == [{"url": assets["hls"]}] and item["transcoded"] == [{"url": assets["mp4"]}]
    assert assets["mp4"].startswith(get_settings().media_base_url.rstrip("/") + "/vod/")
    assert enablex(tenant, "GET", f"/archive/room/{room_id}").json_body == by_conf

    # Private: its URLs need a token only VOD's API mints.
    assert tenant.call("PATCH", f"/videos/{video_id}", {"public": False}).status_code == 200
    (item,) = enablex(tenant, "GET", f"/archive/room/{room_id}").json_body["archive"]
    assert (item["recording"], item["transcoded"]) == ([], [])
    # Deleted: gone from the archive.
    assert tenant.call("DELETE", f"/videos/{video_id}").status_code == 204
    assert enablex(tenant, "GET", f"/archive/room/{room_id}").json_body == empty

    assert enablex(other_tenant, "GET", f"/archive/room/{room_id}").status_code == 404
    assert enablex(other_tenant, "GET", f"/archive/conf/{session_id}").status_code == 404
    assert enablex(tenant, "GET", "/archive/conf/rs0000000000000000000000").status_code == 404
