"""Live-to-VOD on in-process moto: a `live-stream.recording.ended` event (as the project bus's rule
delivers it) → the recorded broadcast's video, with `liveStreamId`, its source joined from the IVS
recordings in the media bucket, `video.source.recorded`; once, however often the event comes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.core.domain import events
from chalicelib.vod.domain import recordings
from tests.integration.conftest import ApiClient
from tests.integration.test_ingest_api import outbox, stored

LIVE_STREAM_ID = "li4k2Pq7Rz9YxWb3Nc8Vd1Ef"
PREFIX = "ivs/v1/123456789012/AbCdEf123456/2026/3/1/12/0/"


def put_recording(name: str, segments: list[bytes], seconds: float = 1.0) -> str:
    """An IVS recording as IVS lays it out: recording-ended.json naming two renditions, the higher
    one's playlist and segments (the lower one's are never read)."""
    prefix = PREFIX + name
    media = core_wiring.media_bucket()
    ended = {
        "version": "v1",
        "recording_status": "RECORDING_ENDED",
        "media": {
            "hls": {
                "path": "media/hls",
                "playlist": "master.m3u8",
                "renditions": [
                    {"path": "360p30", "playlist": "playlist.m3u8", "resolution_width": 640, "resolution_height": 360},
                    {"path": "720p30", "playlist": "playlist.m3u8", "resolution_width": 1280, "resolution_height": 720},
                ],
            }
        },
    }
    media.put(f"{prefix}/events/recording-ended.json", json.dumps(ended).encode(), "application/json")
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1", "#EXT-X-MEDIA-SEQUENCE:0"]
    for number, body in enumerate(segments):
        media.put(f"{prefix}/media/hls/720p30/{number}.ts", body, "video/MP2T")
        lines += [f"#EXTINF:{seconds:.3f},", f"{number}.ts"]
    lines.append("#EXT-X-ENDLIST")
    media.put(f"{prefix}/media/hls/720p30/playlist.m3u8", "\n".join(lines).encode(), "application/x-mpegURL")
    return prefix


def recording_ended(project_id: str, prefixes: list[str]) -> dict[str, Any]:
    event = events.LiveStreamRecordingEnded(
        **events.envelope(project_id, datetime.now(UTC)),
        liveStreamId=LIVE_STREAM_ID,
        name="Friday show",
        broadcastStartedAt="2026-03-01T12:00:00+00:00",
        recordings=prefixes,
    )
    return {"source": resources.EVENT_SOURCE, "detail-type": event.type, "detail": event.payload()}


def deliver(client: Client, *bodies: dict[str, Any]) -> Any:
    event = client.events.generate_sqs_event(
        queue_name=resources.LIVE_RECORDINGS_QUEUE.name, message_bodies=[json.dumps(b) for b in bodies]
    )
    return client.lambda_.invoke("import_live_recordings", event).payload


def test_a_recorded_broadcast_becomes_one_video_once(chalice_client: Client, tenant: ApiClient) -> None:
    first = put_recording("one", [b"A" * 10, b"B" * 10])
    second = put_recording("two", [b"C" * 10])
    event = recording_ended(tenant.project_id, [first, second])
    assert deliver(chalice_client, event) == {"batchItemFailures": []}
    assert deliver(chalice_client, event, event) == {"batchItemFailures": []}  # redelivered

    listed = tenant.call("GET", f"/videos?liveStreamId={LIVE_STREAM_ID}").json_body["data"]
    assert len(listed) == 1
    video = listed[0]
    assert video["title"] == "Friday show (2026-03-01 12:00 UTC)"
    assert stored(tenant.project_id, video["videoId"]) == b"A" * 10 + b"B" * 10 + b"C" * 10
    recorded = outbox(tenant.project_id, "video.source.recorded")
    assert [(e["videoId"], e["liveStreamId"]) for e in recorded] == [(video["videoId"], LIVE_STREAM_ID)]
    assert len(outbox(tenant.project_id, "video.created")) == 1
    assert tenant.call("GET", "/videos?liveStreamId=li000000000000000000000000").json_body["data"] == []


def test_past_twelve_hours_a_recording_is_cut_into_videos(chalice_client: Client, tenant: ApiClient) -> None:
    # Three 5-hour segments: 10 h in the first video, 5 h in the second.
    prefix = put_recording("long", [b"1", b"2", b"3"], seconds=timedelta(hours=5).total_seconds())
    assert deliver(chalice_client, recording_ended(tenant.project_id, [prefix])) == {"batchItemFailures": []}
    listed = tenant.call("GET", f"/videos?liveStreamId={LIVE_STREAM_ID}&sortBy=title").json_body["data"]
    assert [v["title"] for v in listed] == [
        "Friday show (2026-03-01 12:00 UTC, part 1 of 2)",
        "Friday show (2026-03-01 12:00 UTC, part 2 of 2)",
    ]
    assert [stored(tenant.project_id, v["videoId"]) for v in listed] == [b"12", b"3"]


def test_a_missing_recording_makes_no_video(chalice_client: Client, tenant: ApiClient) -> None:
    assert deliver(chalice_client, recording_ended(tenant.project_id, [PREFIX + "gone"])) == {"batchItemFailures": []}
    assert tenant.call("GET", f"/videos?liveStreamId={LIVE_STREAM_ID}").json_body["data"] == []
    assert recordings.ended_manifest_key(PREFIX + "gone/") == PREFIX + "gone/events/recording-ended.json"


def room_recording_ended(project_id: str, prefix: str) -> dict[str, Any]:
    event = events.RoomRecordingEnded(
        **events.envelope(project_id, datetime.now(UTC)),
        roomId="ro4k2Pq7Rz9YxWb3Nc8Vd1Ef",
        sessionId="rs4k2Pq7Rz9YxWb3Nc8Vd1Ef",
        recordingId="CoMpOsItIoN1",
        name="Standup",
        startedAt="2026-03-01T12:00:00+00:00",
        recordings=[prefix],
    )
    return {"source": resources.EVENT_SOURCE, "detail-type": event.type, "detail": event.payload()}


def test_a_rooms_recording_takes_the_same_path_and_is_announced_ready_once(
    chalice_client: Client, tenant: ApiClient
) -> None:
    # An IVS composition lays its recording out as a channel's (docs/rooms.md, "Recordings").
    prefix = put_recording("composite", [b"R" * 10, b"S" * 10])
    event = room_recording_ended(tenant.project_id, prefix)
    assert deliver(chalice_client, event) == {"batchItemFailures": []}
    assert deliver(chalice_client, event) == {"batchItemFailures": []}  # redelivered

    (ready,) = outbox(tenant.project_id, "room.recording.ready")
    assert (ready["roomId"], ready["sessionId"], ready["recordingId"]) == (
        "ro4k2Pq7Rz9YxWb3Nc8Vd1Ef",
        "rs4k2Pq7Rz9YxWb3Nc8Vd1Ef",
        "CoMpOsItIoN1",
    )
    video = tenant.call("GET", f"/videos/{ready['videoId']}").json_body
    assert video["title"] == "Standup (2026-03-01 12:00 UTC)"
    assert video.get("liveStreamId") is None
    assert stored(tenant.project_id, ready["videoId"]) == b"R" * 10 + b"S" * 10
    # Not a live stream's: no video.source.recorded (api.video's event names a live stream).
    assert outbox(tenant.project_id, "video.source.recorded") == []
