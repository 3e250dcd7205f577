"""The bus rules a room's recording travels by (resources' patterns, as EventBridge matches them:
moto's matcher): IVS's composition events reach the room-events queue, `room.recording.ended` the
VOD import's queue, `room.recording.ready` back to the room-events queue; nothing else strays."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from chalicelib.core import resources

COMPOSITION = {
    "source": "aws.ivs",
    "detail-type": "IVS Composition State Change",
    "detail": {"event_name": "Session End"},
}


def event(detail_type: str, source: str = resources.EVENT_SOURCE) -> dict[str, Any]:
    return {"source": source, "detail-type": detail_type, "detail": {}}


def matches(pattern: dict[str, Any], sample: dict[str, Any]) -> bool:
    loaded: Any = EventPattern.load(json.dumps(pattern))
    return bool(loaded.matches_event(sample))


def route(name: str) -> dict[str, Any]:
    return next(r.pattern for r in resources.BUS_ROUTES if r.name == name)


@pytest.mark.parametrize(
    ("pattern", "sample", "expected"),
    [
        (resources.IVS_STAGE_RULE_PATTERN, COMPOSITION, True),
        (resources.IVS_STAGE_RULE_PATTERN, {**COMPOSITION, "source": "aws.mediaconvert"}, False),
        (resources.IVS_RULE_PATTERN, COMPOSITION, False),  # not to the live streams' queue
        (route("live-recordings"), event("room.recording.ended"), True),
        (route("live-recordings"), event("room.recording.ready"), False),
        (route("room-sessions"), event("room.recording.ready"), True),
        (route("room-sessions"), event("room.recording.ended"), False),
        (route("room-sessions"), event("room.recording.ready", source="aws.ivs"), False),
    ],
)
def test_each_recording_event_reaches_its_queue_only(
    pattern: dict[str, Any], sample: dict[str, Any], expected: bool
) -> None:
    assert matches(pattern, sample) is expected
