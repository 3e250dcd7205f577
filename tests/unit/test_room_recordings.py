"""Room recordings: the rules (monotone states) and the service against fakes of its ports: started
once with the session (autoRecording) or by API, stopped by API or with the session, announced once
when IVS says the composition is stored, and naming its video once."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import timedelta

import pytest

from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.errors import Conflict, NotFound
from chalicelib.core.domain.events import DomainEvent, RoomRecordingEnded
from chalicelib.rooms.domain import enablex, recordings
from chalicelib.rooms.domain.errors import NoActiveSession
from chalicelib.rooms.domain.recordings import Archived, Recording, RecordingState, VideoAssets
from chalicelib.rooms.domain.rooms import Room
from chalicelib.rooms.domain.tokens import JoinRequest
from chalicelib.rooms.ports import Compositions, RecordedVideos, RecordingRepository
from chalicelib.rooms.services.recordings import RecordingService
from tests.unit.test_rooms_service import ACTOR, NOW, FakeSessions, FakeStages, all_services, creation, token_for

PREFIX = "StOrAgE12345/{}/DeStInAtIoN1/composite"


class FakeCompositions:
    def __init__(self) -> None:
        self.started: dict[str, str] = {}  # idempotency token -> composition ARN
        self.stopped: list[str] = []

    def start_composition(self, stage_arn: str, idempotency_token: str, tags: dict[str, str]) -> tuple[str, str]:
        assert tags["videoplane:sessionId"] and tags["videoplane:roomId"]
        arn = self.started.setdefault(
            idempotency_token, f"arn:aws:ivs:us-east-1:123456789012:composition/C{len(self.started):011d}"
        )
        return arn, PREFIX.format(recordings.recording_id(arn))

    def stop_composition(self, composition_arn: str) -> bool:
        self.stopped.append(composition_arn)
        return True


class FakeRecordings:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Recording] = {}
        self.events: list[DomainEvent] = []
        self.audit: list[AuditEvent] = []

    def get(self, project_id: str, recording_id: str) -> Recording | None:
        return self.items.get((project_id, recording_id))

    def of_session(self, project_id: str, session_id: str) -> list[Recording]:
        found = [r for (p, _), r in self.items.items() if p == project_id and r.session_id == session_id]
        return sorted(found, key=lambda r: r.started_at)

    def save(
        self,
        recording: Recording,
        expected_version: int | None,
        audit: AuditEvent | None,
        events: Sequence[DomainEvent],
    ) -> None:
        key = (recording.project_id, recording.recording_id)
        current = self.items.get(key)
        if (current is None) != (expected_version is None) or (current and current.version != expected_version):
            raise Conflict()
        self.items[key] = recording
        self.events.extend(events)
        self.audit.extend([audit] if audit else [])


def recording_setup(
    **settings: object,
) -> tuple[RecordingService, FakeCompositions, FakeRecordings, FakeStages, Room, str]:
    """A room with a session (one join) and the recording service over the same fakes."""
    rooms_svc, tokens, sessions_svc, _, stages, clock = all_services()
    room = rooms_svc.create(ACTOR, creation(**settings))
    tokens.join(JoinRequest(token=token_for(tokens, room.room_id, "ada", "moderator")))
    held = sessions_svc.repository
    assert isinstance(held, FakeSessions)
    (session,) = held.live.values()
    assert room.stage is not None
    stages.rooms[room.stage.arn] = (ACTOR.project_id, room.room_id)
    compositions, repository = FakeCompositions(), FakeRecordings()
    typed_compositions: Compositions = compositions
    typed_recordings: RecordingRepository = repository
    service = RecordingService(
        rooms_svc.find, held, typed_recordings, lambda: typed_compositions, lambda: stages, clock
    )
    return service, compositions, repository, stages, room, session.session_id


def test_auto_recording_starts_one_composition_whatever_is_redelivered() -> None:
    service, compositions, repository, _, room, session_id = recording_setup(autoRecording=True)
    first = service.on_session_started(ACTOR.project_id, room.room_id, session_id)
    again = service.on_session_started(ACTOR.project_id, room.room_id, session_id)
    assert first is not None and again == first and len(compositions.started) == 1
    assert first.prefix == PREFIX.format(first.recording_id) and first.state is RecordingState.RECORDING
    assert [a.action for a in repository.audit] == ["room.recording.start"]
    assert repository.audit[0].actor_key_id == "system:rooms"


def test_a_room_without_auto_recording_records_only_when_asked() -> None:
    service, compositions, _, _, room, session_id = recording_setup()
    assert service.on_session_started(ACTOR.project_id, room.room_id, session_id) is None
    assert compositions.started == {}
    started = service.start(ACTOR, room.room_id)
    assert service.start(ACTOR, room.room_id) == started  # a retried POST answers the same recording
    assert service.of_session(ACTOR.project_id, session_id) == [started]


def test_stop_by_api_then_the_composition_end_announces_the_recording_once() -> None:
    service, compositions, repository, _, room, _ = recording_setup()
    started = service.start(ACTOR, room.room_id)
    stopped = service.stop(ACTOR, room.room_id)
    assert stopped.state is RecordingState.STOPPING and compositions.stopped == [started.composition_arn]
    with pytest.raises(NotFound):
        service.stop(ACTOR, room.room_id)  # nothing runs any more
    assert room.stage is not None
    end = {"event_name": "Session End", "stage_arn": room.stage.arn}
    for _ in range(2):  # the event, delivered twice
        service.on_composition_event(started.composition_arn, end, NOW + timedelta(seconds=9))
    (announced,) = repository.events
    assert isinstance(announced, RoomRecordingEnded)
    assert (announced.recording_id, announced.recordings, announced.name) == (
        started.recording_id,
        [started.prefix],
        room.name,
    )
    assert [a.action for a in repository.audit] == ["room.recording.start", "room.recording.stop"]
    service.on_video(ACTOR.project_id, started.recording_id, "viAAAA")
    service.on_video(ACTOR.project_id, started.recording_id, "viBBBB")  # a second video never renames it
    (stored,) = service.of_session(ACTOR.project_id, started.session_id)
    assert (stored.state, stored.video_id) == (RecordingState.ENDED, "viAAAA")


def test_the_sessions_end_stops_its_recording_and_a_new_start_is_a_new_composition() -> None:
    service, compositions, _, _, room, session_id = recording_setup(autoRecording=True)
    first = service.on_session_started(ACTOR.project_id, room.room_id, session_id)
    assert first is not None
    service.on_session_ended(ACTOR.project_id, session_id)
    service.on_session_ended(ACTOR.project_id, session_id)
    assert compositions.stopped == [first.composition_arn]
    # A recording started after one stopped gets a new idempotency token: a new composition.
    second = service.start(ACTOR, room.room_id)
    assert second.recording_id != first.recording_id and len(compositions.started) == 2


def test_a_failed_or_foreign_composition_announces_nothing() -> None:
    service, _, repository, _, room, _ = recording_setup()
    started = service.start(ACTOR, room.room_id)
    assert room.stage is not None
    service.on_composition_event(started.composition_arn, {"event_name": "Session End", "stage_arn": "other"}, NOW)
    failure = {"event_name": "Session Failure", "stage_arn": room.stage.arn}
    service.on_composition_event(started.composition_arn, failure, NOW)
    service.on_composition_event(started.composition_arn, {**failure, "event_name": "Session End"}, NOW)
    assert repository.events == []
    assert service.of_session(ACTOR.project_id, started.session_id)[0].state is RecordingState.FAILED


def test_no_active_session_is_refused() -> None:
    rooms_svc, _, _, _, stages, clock = all_services()
    room = rooms_svc.create(ACTOR, creation())
    service = RecordingService(
        rooms_svc.find, FakeSessions(), FakeRecordings(), FakeCompositions, lambda: stages, clock
    )
    with pytest.raises(NoActiveSession):
        service.start(ACTOR, room.room_id)
    with pytest.raises(NotFound):
        service.stop(ACTOR, room.room_id)


def test_states_only_move_forward_in_any_order_of_reports() -> None:
    base = Recording(
        project_id="pr", room_id="ro", session_id="rs", recording_id="c", composition_arn="a", prefix="p",
        started_at=NOW,
    )  # fmt: skip
    reports = [RecordingState.STOPPING, RecordingState.ENDED, RecordingState.STOPPING]
    finals = set()
    for order in itertools.permutations(reports):
        current = base
        for state in order:
            current = recordings.advance(current, state, NOW)
        finals.add((current.state, current.ended_at))
    assert finals == {(RecordingState.ENDED, NOW)}


class FakeVideos:
    """The VOD context's videos as the port reads them: gone, private, or public with assets."""

    def __init__(self) -> None:
        self.videos: dict[tuple[str, str], VideoAssets] = {}

    def assets(self, project_id: str, video_id: str) -> VideoAssets | None:
        return self.videos.get((project_id, video_id))


def test_the_archive_lists_the_recordings_that_became_videos_still_there() -> None:
    service, _, _, _, room, session_id = recording_setup()
    videos = FakeVideos()
    typed: RecordedVideos = videos
    service.videos = lambda: typed
    first = service.start(ACTOR, room.room_id)
    service.stop(ACTOR, room.room_id)
    second = service.start(ACTOR, room.room_id)  # still recording: no video yet
    assert service.archive_of_room(ACTOR, room.room_id) == []
    service.on_video(ACTOR.project_id, first.recording_id, "viA")
    # Its video was deleted meanwhile: left out.
    assert service.archive_of_session(ACTOR, session_id) == []
    videos.videos[(ACTOR.project_id, "viA")] = VideoAssets("viA", "https://m/vod/viA/hls/manifest.m3u8", None)
    (listed,) = service.archive_of_room(ACTOR, room.room_id)
    assert (listed.recording.recording_id, listed.assets.hls) == (
        first.recording_id,
        videos.videos[(ACTOR.project_id, "viA")].hls,
    )
    assert service.archive_of_session(ACTOR, session_id) == [listed]
    assert second.recording_id != first.recording_id
    # Another project's video of the same id is not this one's.
    videos.videos = {("pr-other", "viA"): VideoAssets("viA", "x", "y")}
    assert service.archive_of_room(ACTOR, room.room_id) == []
    with pytest.raises(NotFound):
        service.archive_of_session(ACTOR, "rs-unknown")
    with pytest.raises(NotFound):
        service.archive_of_room(ACTOR, "ro-unknown")


def test_the_enablex_archive_item() -> None:
    recording = Recording(
        project_id="pr", room_id="ro1", session_id="rs1", recording_id="c1", composition_arn="a", prefix="p",
        started_at=NOW, ended_at=NOW + timedelta(minutes=5), state=RecordingState.ENDED, video_id="viA",
    )  # fmt: skip
    item = enablex.archive_out(Archived(recording, VideoAssets("viA", "https://m/a.m3u8", "https://m/a.mp4")), "pr")
    assert item == {
        "_id": "c1",
        "trans_date": (NOW + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S"),
        "conf_num": "rs1",
        "app_id": "pr",
        "room_id": "ro1",
        "recording": [{"url": "https://m/a.m3u8"}],
        "transcoded": [{"url": "https://m/a.mp4"}],
        "metadata": {"video_id": "viA"},
    }
    private = enablex.archive_out(Archived(recording, VideoAssets("viA", None, None)), "pr")
    assert (private["recording"], private["transcoded"]) == ([], [])
