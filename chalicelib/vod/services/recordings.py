"""Live-to-VOD: a recorded broadcast (`live-stream.recording.ended`, from the live context through
the project bus) → one video per 12 h of it, whose source is the recording (domain/recordings.py).
A room session's recording (`room.recording.ended`, from the rooms context) takes the same path;
its video's creation also publishes `room.recording.ready` naming it.

Each video is created `ingesting` (with `video.created`) unless it exists already, then the ingest
fetcher joins the recording's segments into the video's source, which starts the pipeline like
any other source, with `video.source.recorded`. Both steps are idempotent, so the event's
redelivery, or a retry after a crash between them, makes no second video and no second source.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.core.domain import audit, events
from chalicelib.core.domain.errors import Conflict
from chalicelib.core.observability import logger
from chalicelib.core.ports import Bucket
from chalicelib.vod.domain import mpegts, recordings
from chalicelib.vod.domain.ingest import IngestKind, IngestMessage
from chalicelib.vod.domain.media import IngestMethod
from chalicelib.vod.domain.recordings import RecordedBroadcast, RecordingUnreadable, Segment
from chalicelib.vod.domain.uploads import source_key
from chalicelib.vod.ports import VideoRepository

if TYPE_CHECKING:
    from chalicelib.vod.services.ingest import IngestFetcher


def recording_segments(store: Bucket, prefixes: tuple[str, ...]) -> list[Segment]:
    """Every push's highest rendition, in order (RecordingUnreadable if a file is missing)."""
    found: list[Segment] = []
    for part, prefix in enumerate(prefixes):
        manifest = _read(store, recordings.ended_manifest_key(prefix))
        playlist = recordings.playlist_key(prefix, manifest)
        found += recordings.segments(_read(store, playlist).decode("utf-8", "replace"), playlist, part)
    return found


def timestamp_offsets(store: Bucket, all_segments: list[Segment]) -> dict[int, int]:
    """Per push, the timestamp shift that makes it follow the pushes before it (one read of each
    push's first segment; nothing to read for a single push)."""
    firsts: dict[int, str] = {}
    for segment in all_segments:
        firsts.setdefault(segment.part, segment.key)
    if len(firsts) < 2:
        return dict.fromkeys(firsts, 0)
    starts = {part: mpegts.first_timestamp(store.read_all(key)) for part, key in firsts.items()}
    return recordings.part_offsets(all_segments, starts)


def _read(store: Bucket, key: str) -> bytes:
    if store.head(key) is None:
        raise RecordingUnreadable(f"{key} is missing")
    return store.read_all(key)


class RecordingImports:
    def __init__(
        self,
        videos: VideoRepository,
        fetcher: Callable[[], IngestFetcher],
        store: Bucket,
        clock: Callable[[], datetime],
    ) -> None:
        self.videos = videos
        self.fetcher = fetcher
        self.store = store
        self.clock = clock

    def import_broadcast(self, payload: dict[str, Any], event_id: str) -> list[str]:
        """The videos of the recorded broadcast (created now or by an earlier delivery)."""
        recorded = RecordedBroadcast.model_validate(payload)
        extra = {"projectId": recorded.project_id, "liveStreamId": recorded.live_stream_id, "roomId": recorded.room_id}
        try:
            runs = recordings.cuts(recording_segments(self.store, recorded.recordings))
        except RecordingUnreadable as unreadable:
            # IVS said the files are written: a missing one will not appear later.
            logger.error("live recording unreadable", extra={**extra, "reason": str(unreadable)})
            return []
        video_ids: list[str] = []
        for cut in range(len(runs)):
            video = recordings.recorded_video(recorded, cut, len(runs), self.clock())
            self._create(video, event_id, recorded)
            message = IngestMessage(
                IngestKind.RECORDING,
                recorded.project_id,
                video.video_id,
                recordings=recorded.recordings,
                cut=cut,
                live_stream_id=recorded.live_stream_id,
            )
            self.fetcher().handle(message)
            video_ids.append(video.video_id)
        logger.info("live recording imported", extra={**extra, "videos": video_ids})
        return video_ids

    def _create(self, video: recordings.Video, event_id: str, recorded: RecordedBroadcast) -> None:
        if self.videos.get(video.project_id, video.video_id) is not None:
            return
        now = self.clock()
        after = video.model_dump(mode="json", exclude={"project_id"})
        # No API key acted: the entry names the event that made the video.
        entry = audit.record_event(
            video.project_id, None, event_id, "video.create", "video", video.video_id, now, after=after
        )
        created = events.VideoCreated(
            **events.envelope(video.project_id, now), videoId=video.video_id, title=video.title
        )
        emitted: list[events.DomainEvent] = [created]
        if recorded.room_id and recorded.session_id and recorded.recording_id:
            # The room's recording is a video from now on (and once: the video is created once).
            emitted.append(
                events.RoomRecordingReady(
                    **events.envelope(video.project_id, now),
                    roomId=recorded.room_id,
                    sessionId=recorded.session_id,
                    recordingId=recorded.recording_id,
                    videoId=video.video_id,
                )
            )
        key = source_key(video.project_id, video.video_id)
        try:
            self.videos.create_ingesting(video, entry, emitted, IngestMethod.RECORDING, key, now)
        except Conflict:
            return  # another delivery created it first
