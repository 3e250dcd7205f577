"""Sources from a URL or from another video (api.video's `source` on POST /videos).

The create route checks the request and queues a message on the sources queue; the ingest
consumer fetches (or copies) the source into `sources/{projectId}/{videoId}`, whose S3
notification then runs the normal pipeline. Status goes `ingesting` → `ingested`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.core.clock import to_atom
from chalicelib.core.domain import events
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.errors import RepositoryUnavailable
from chalicelib.core.domain.urlguard import Resolver
from chalicelib.core.ports import Bucket
from chalicelib.vod.domain import ingest, mpegts
from chalicelib.vod.domain.ingest import FetchFailed, IngestKind, IngestMessage, Source, UrlSource
from chalicelib.vod.domain.media import IngestMethod, IngestStatus
from chalicelib.vod.domain.recordings import RecordingUnreadable, cuts
from chalicelib.vod.domain.uploads import source_key
from chalicelib.vod.domain.videos import Video
from chalicelib.vod.ports import MediaRepository, MultipartUploads, SourceFetcher, VideoRepository
from chalicelib.vod.services.recordings import recording_segments, timestamp_offsets

log = logging.getLogger(__name__)

# A fetch holds the media item's lease this long: Lambda's longest run, so a redelivered copy of
# the message waits (and is retried by SQS) instead of fetching a second time.
LEASE = timedelta(minutes=15)
LEASE_ATTRIBUTE = "ingest_lease"


class IngestQueue(Protocol):
    def send(self, message: IngestMessage) -> None: ...


class IngestInProgress(Exception):
    """Another delivery of the same message holds the lease; SQS retries this one later."""


class IngestRequests:
    """The create route's side: validate `source`, write the video `ingesting`, queue the work."""

    def __init__(
        self,
        videos: VideoRepository,
        media: MediaRepository,
        queue: Callable[[], IngestQueue],
        clock: Callable[[], datetime],
        allow_loopback: bool = False,
        resolver: Resolver | None = None,
        denied_ports: frozenset[int] = frozenset(),
    ) -> None:
        self.videos = videos
        self.media = media
        self.queue = queue
        self.clock = clock
        self.allow_loopback = allow_loopback
        self.resolver = resolver
        self.denied_ports = denied_ports

    def admit(self, actor: Actor, value: str) -> Source:
        source = ingest.classify_source(value)
        if isinstance(source, UrlSource):
            ingest.check_source_url(source.url, self.allow_loopback, self.resolver, self.denied_ports)
            return source
        origin = self.videos.get(actor.project_id, source.video_id)
        if origin is None or origin.discarded:
            # The same answer for another project's video as for none at all: ids are not probed.
            raise ingest.source_problem("The source video was not found.", "No video of this project has this videoId.")
        return source

    def start(self, video: Video, audit: AuditEvent, emitted: Sequence[events.DomainEvent], source: Source) -> None:
        key = source_key(video.project_id, video.video_id)
        method = IngestMethod.URL if isinstance(source, UrlSource) else IngestMethod.COPY
        self.videos.create_ingesting(video, audit, emitted, method, key, self.clock())
        if isinstance(source, UrlSource):
            message = IngestMessage(IngestKind.URL, video.project_id, video.video_id, url=source.url)
        else:
            message = IngestMessage(IngestKind.COPY, video.project_id, video.video_id, from_video_id=source.video_id)
        try:
            self.queue().send(message)
        except RepositoryUnavailable:
            # The video exists already; it says why it will never play rather than stay `ingesting`.
            fail(self.media, video.project_id, video.video_id, "The source could not be queued for ingest.",
                 self.clock())  # fmt: skip
            raise


def fail(media: MediaRepository, project_id: str, video_id: str, reason: str, now: datetime) -> None:
    """Like the pipeline's failures: the reason on the media state, with video.encoding.failed."""
    failed = events.VideoEncodingFailed(**events.envelope(project_id, now), videoId=video_id, reason=reason)
    media.set_fields(project_id, video_id, {"failure": reason}, now, [failed])


class IngestFetcher:
    """The consumer's side: fetch or copy the source once, then mark it ingested."""

    def __init__(
        self,
        media: MediaRepository,
        videos: VideoRepository,
        store: Bucket,
        multipart: MultipartUploads,
        fetcher: SourceFetcher,
        clock: Callable[[], datetime],
        recordings: Bucket | None = None,
    ) -> None:
        self.media = media
        self.videos = videos
        self.store = store
        self.multipart = multipart
        self.fetcher = fetcher
        self.clock = clock
        # Where IVS writes live recordings (the media bucket).
        self.recordings = recordings

    def handle(self, message: IngestMessage) -> None:
        project_id, video_id = message.project_id, message.video_id
        state = self.media.get(project_id, video_id)
        if state is None or state.ingest_status is not IngestStatus.INGESTING or state.failure:
            return  # ingested already, failed already, or not a video waiting for this
        video = self.videos.get(project_id, video_id)
        if video is None or video.discarded:
            return
        key = source_key(project_id, video_id)
        stored = self.store.head(key)
        if stored is not None:
            # A redelivery after the source landed but before it was marked: mark, never refetch.
            self._ingested(message, key, stored.size)
            return
        now = self.clock()
        if not self.media.lease(project_id, video_id, LEASE_ATTRIBUTE, now, now + LEASE):
            raise IngestInProgress(f"{video_id} is being ingested by another delivery")
        try:
            if message.kind is IngestKind.URL:
                size = self._fetch(message, key)
            elif message.kind is IngestKind.COPY:
                size = self._copy(message, key)
            else:
                size = self._join_recording(message, key)
        except FetchFailed as failed:
            log.info("ingest failed", extra={"videoId": video_id, "reason": failed.reason})
            fail(self.media, project_id, video_id, failed.reason, self.clock())
            return
        except Exception:
            # Transient (S3, DynamoDB): free the lease so SQS's retry can start over at once.
            self.media.set_fields(project_id, video_id, {LEASE_ATTRIBUTE: to_atom(self.clock())}, self.clock())
            raise
        self._ingested(message, key, size)

    def _fetch(self, message: IngestMessage, key: str) -> int:
        assert message.url is not None
        download = self.fetcher.open(message.url)
        try:
            if download.length is not None and download.length > ingest.MAX_FETCH_BYTES:
                raise FetchFailed(f"The source is larger than the {ingest.MAX_FETCH_BYTES // ingest.GIB} GiB limit.")
            metadata = {"project-id": message.project_id, "video-id": message.video_id, "ingest": "url"}
            return self.multipart.write_stream(
                key, download.read, ingest.FETCH_PART_BYTES, ingest.MAX_FETCH_BYTES, metadata
            )
        finally:
            download.close()

    def _copy(self, message: IngestMessage, key: str) -> int:
        assert message.from_video_id is not None
        origin = self.store.head(source_key(message.project_id, message.from_video_id))
        if origin is None:
            raise FetchFailed(f"The video {message.from_video_id} has no source to copy yet.")
        self.multipart.copy(origin.key, key, origin.size)
        return origin.size

    def _join_recording(self, message: IngestMessage, key: str) -> int:
        """The cut's MPEG-TS segments, in order, streamed into one source file."""
        assert self.recordings is not None, "live recordings need the media bucket"
        try:
            all_segments = recording_segments(self.recordings, message.recordings)
        except RecordingUnreadable as unreadable:
            raise FetchFailed(f"The live recording could not be read: {unreadable}.") from unreadable
        runs = cuts(all_segments)
        if message.cut >= len(runs):
            raise FetchFailed("The live recording is shorter than this video's part of it.")
        offsets = timestamp_offsets(self.recordings, all_segments)
        reader = _Joined(self.recordings, [(segment.key, offsets[segment.part]) for segment in runs[message.cut]])
        metadata = {"project-id": message.project_id, "video-id": message.video_id, "ingest": "recording"}
        return self.multipart.write_stream(key, reader.read, ingest.FETCH_PART_BYTES, ingest.MAX_FETCH_BYTES, metadata)

    def _ingested(self, message: IngestMessage, key: str, size: int) -> None:
        project_id, video_id = message.project_id, message.video_id
        envelope = events.envelope(project_id, self.clock())
        emitted: list[events.DomainEvent] = [events.VideoSourceUploaded(**envelope, videoId=video_id)]
        if message.kind is IngestKind.RECORDING and message.live_stream_id:
            emitted.append(
                events.VideoSourceRecorded(
                    **events.envelope(project_id, self.clock()), videoId=video_id, liveStreamId=message.live_stream_id
                )
            )
        self.media.mark_ingested(project_id, video_id, size, key, emitted, self.clock())


class _Joined:
    """MPEG-TS segments read one after another as one stream, each with its timestamps shifted
    (`read(n)`: n bytes, fewer only at the end)."""

    def __init__(self, store: Bucket, segments: list[tuple[str, int]]) -> None:
        self.store = store
        self.segments = list(reversed(segments))
        self.buffer = b""

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size and self.segments:
            key, offset = self.segments.pop()
            self.buffer += mpegts.shift(self.store.read_all(key), offset)
        chunk, self.buffer = self.buffer[:size], self.buffer[size:]
        return chunk
