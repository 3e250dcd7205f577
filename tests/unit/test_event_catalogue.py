from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from chalicelib.core.domain import events
from devstack.event_docs import DOCS, rendered

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_published_schemas_match_the_code() -> None:
    expected = rendered()
    published = {path.name: path.read_text() for path in DOCS.iterdir()}
    assert published == expected, "run `python -m devstack.event_docs` and commit docs/events/"


def test_api_video_events_keep_exactly_api_videos_payload_fields() -> None:
    assert set(events.API_VIDEO_EVENTS) == {
        "video.encoding.quality.completed",
        "live-stream.broadcast.started",
        "live-stream.broadcast.ended",
        "video.source.recorded",
        "video.caption.generated",
        "video.summary.generated",
    }
    event = events.VideoEncodingQualityCompleted(
        **events.envelope("prA", NOW), videoId="vi1", encoding="hls", quality="720p"
    )
    assert event.payload() == {
        "type": "video.encoding.quality.completed",
        "emittedAt": "2026-11-23T12:00:00+00:00",
        "eventId": event.event_id,
        "projectId": "prA",
        "videoId": "vi1",
        "encoding": "hls",
        "quality": "720p",
    }


def test_payloads_round_trip_through_the_catalogue() -> None:
    event = events.VideoUpdated(**events.envelope("prA", NOW), videoId="vi1", changed=["title"])
    assert events.parse(event.payload()) == event


def test_off_enum_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        events.VideoEncodingQualityCompleted(**events.envelope("prA", NOW), videoId="v", encoding="dash", quality="1p")


def test_an_event_is_planned_exactly_when_no_code_emits_it() -> None:
    """`planned` tells subscribers the truth: an emitted event is built somewhere outside the
    catalogue, a planned one nowhere."""
    sources = [
        path.read_text(encoding="utf-8")
        for path in Path(events.__file__).resolve().parents[2].rglob("*.py")
        if path.name != "events.py"
    ]
    for name, model in events.CATALOGUE.items():
        built = any(f"{model.__name__}(" in source for source in sources)
        assert built != model.planned, f"{name}: planned={model.planned} but built={built}"
