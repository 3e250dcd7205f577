"""Live-to-VOD rules: the rendition, the segments and the 12 h cuts of a recording, and video ids
that are the same for the same recording."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core import ids
from chalicelib.vod.domain import recordings
from chalicelib.vod.domain.recordings import RecordedBroadcast, RecordingUnreadable, Segment

PREFIX = "ivs/v1/1/ch/2026/3/1/12/0/rec"
RECORDED = RecordedBroadcast(
    project_id="pr1", live_stream_id="li1", name="show", broadcast_started_at=datetime(2026, 3, 1, tzinfo=UTC),
    recordings=(PREFIX,),
)  # fmt: skip


def test_the_highest_rendition_is_read() -> None:
    manifest = {
        "media": {
            "hls": {
                "path": "media/hls",
                "renditions": [
                    {"path": "480p30", "playlist": "playlist.m3u8", "resolution_height": 480},
                    {"path": "1080p60", "playlist": "playlist.m3u8", "resolution_height": 1080},
                ],
            }
        }
    }
    assert recordings.playlist_key(PREFIX + "/", json.dumps(manifest).encode()) == (
        f"{PREFIX}/media/hls/1080p60/playlist.m3u8"
    )
    with pytest.raises(RecordingUnreadable):
        recordings.playlist_key(PREFIX, b'{"media": {}}')


def test_segments_are_relative_to_their_playlist_and_never_escape_it() -> None:
    playlist = "#EXTM3U\n#EXTINF:2.0,\n0.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:1.5,\n1.ts\n#EXT-X-ENDLIST\n"
    key = f"{PREFIX}/media/hls/source/playlist.m3u8"
    assert recordings.segments(playlist, key) == [
        Segment(f"{PREFIX}/media/hls/source/0.ts", 2.0),
        Segment(f"{PREFIX}/media/hls/source/1.ts", 1.5),
    ]
    for hostile in ("../../other/0.ts", "/abs.ts", "https://x.example/0.ts"):
        with pytest.raises(RecordingUnreadable):
            recordings.segments(f"#EXTINF:1,\n{hostile}\n", key)


def test_recordings_are_cut_at_twelve_hours() -> None:
    hour = timedelta(hours=1).total_seconds()
    parts = [Segment(str(n), 4 * hour) for n in range(7)]  # 28 h
    assert [[s.key for s in run] for run in recordings.cuts(parts)] == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
    assert recordings.cuts([Segment("long", 13 * hour), Segment("next", 1)]) == [
        [Segment("long", 13 * hour)],
        [Segment("next", 1)],
    ]
    assert recordings.cuts([]) == []


def test_video_ids_depend_on_the_recording_and_the_cut_only() -> None:
    first = recordings.recorded_video_id(RECORDED, 0)
    assert ids.is_id(first, "vi") and first == recordings.recorded_video_id(RECORDED, 0)
    assert first != recordings.recorded_video_id(RECORDED, 1)
    other = RECORDED.model_copy(update={"recordings": (PREFIX + "x",)})
    assert first != recordings.recorded_video_id(other, 0)
    video = recordings.recorded_video(RECORDED, 1, 2, datetime(2026, 3, 2, tzinfo=UTC))
    assert (video.live_stream_id, video.title) == ("li1", "show (2026-03-01 00:00 UTC, part 2 of 2)")
