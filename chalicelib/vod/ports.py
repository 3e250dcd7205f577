"""What the VOD services need from the outside world."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

# Types only: importing the ports must not pull in PyJWT or every model (cold-start budget).
from chalicelib.core.ports import Bucket

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.core.domain.audit import AuditEvent
    from chalicelib.core.domain.events import DomainEvent
    from chalicelib.core.domain.objects import StoredPart
    from chalicelib.vod.domain.encoding import EncodingJob, JobState, SourceMetadata
    from chalicelib.vod.domain.encoding_profiles import EncodingProfile
    from chalicelib.vod.domain.ingest import DirectUpload, DirectUploadStatus
    from chalicelib.vod.domain.media import IngestMethod, MediaState, QualityStatus
    from chalicelib.vod.domain.thumbnails import Thumbnail
    from chalicelib.vod.domain.tracks import TextTrack, TrackKind
    from chalicelib.vod.domain.uploads import (
        ContentRange,
        OpenUpload,
        RangeForm,
        ReceivedPart,
        UploadSession,
        UploadToken,
    )
    from chalicelib.vod.domain.videos import Video, VideoListing
    from chalicelib.vod.domain.watermarks import Watermark


class VideoRepository(Protocol):
    def get(self, project_id: str, video_id: str) -> Video | None: ...
    def get_with_media(self, project_id: str, video_id: str) -> tuple[Video, MediaState | None] | None: ...
    def listing(self, project_id: str, discarded: bool, fields: Collection[str]) -> list[VideoListing]: ...
    def details(self, project_id: str, video_ids: Sequence[str]) -> list[tuple[Video, MediaState | None]]: ...
    def create(self, video: Video, audit: AuditEvent, events: Sequence[DomainEvent]) -> None: ...
    def create_ingesting(
        self,
        video: Video,
        audit: AuditEvent,
        events: Sequence[DomainEvent],
        method: IngestMethod,
        source_key: str,
        now: datetime,
    ) -> None: ...
    def save(self, video: Video, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]) -> None: ...


class MasterPlaylistRefresher(Protocol):
    """Rewrites a video's HLS master playlist after its captions change (SUBTITLES group)."""

    def refresh(self, project_id: str, video_id: str) -> None: ...


class TrackRepository(Protocol):
    def get(self, project_id: str, kind: TrackKind, video_id: str, language: str) -> TextTrack | None: ...
    def list_all(self, project_id: str, kind: TrackKind, video_id: str) -> list[TextTrack]: ...
    def save(self, changes: Sequence[tuple[TextTrack, int | None]], audit: AuditEvent) -> None: ...
    def delete(self, track: TextTrack, audit: AuditEvent) -> None: ...


class ThumbnailRepository(Protocol):
    def get_thumbnail(self, project_id: str, video_id: str) -> Thumbnail | None: ...
    def save_thumbnail(self, thumbnail: Thumbnail, audit: AuditEvent) -> None: ...


class WatermarkRepository(Protocol):
    def get(self, project_id: str, watermark_id: str) -> Watermark | None: ...
    def list_all(self, project_id: str) -> list[Watermark]: ...
    def create(self, watermark: Watermark, audit: AuditEvent) -> None: ...
    def delete(self, watermark: Watermark, audit: AuditEvent) -> None: ...


class EncodingProfileRepository(Protocol):
    def get(self, project_id: str, profile_id: str) -> EncodingProfile | None: ...
    def list_all(self, project_id: str) -> list[EncodingProfile]: ...
    def save(self, changes: Sequence[tuple[EncodingProfile, int | None]], audit: AuditEvent) -> None: ...
    def delete(self, profile: EncodingProfile, audit: AuditEvent) -> None: ...


class ThumbnailChoice(Protocol):
    """The video's media state, which names the file `assets.thumbnail` points at."""

    def choose_thumbnail(self, project_id: str, video_id: str, file: str, source: str, now: datetime) -> bool: ...


class MediaRepository(Protocol):
    """Each video's media state: how its source arrived, the probe, each rendition's state."""

    def get(self, project_id: str, video_id: str) -> MediaState | None: ...
    def claim(self, project_id: str, video_id: str, marker: str, attribute: str, now: datetime) -> bool: ...
    def release(self, project_id: str, video_id: str, marker: str, attribute: str) -> None: ...
    def set_fields(
        self, project_id: str, video_id: str, fields: dict[str, Any], now: datetime, events: Sequence[DomainEvent] = ()
    ) -> None: ...
    def set_quality(
        self,
        project_id: str,
        video_id: str,
        key: str,
        status: QualityStatus,
        now: datetime,
        unless: Sequence[QualityStatus],
        extra: dict[str, Any] | None = None,
        events: Sequence[DomainEvent] = (),
    ) -> bool: ...
    def choose_thumbnail(self, project_id: str, video_id: str, file: str, source: str, now: datetime) -> bool: ...
    def flag_once(
        self, project_id: str, video_id: str, flag: str, now: datetime, events: Sequence[DomainEvent]
    ) -> bool: ...
    def lease(self, project_id: str, video_id: str, attribute: str, now: datetime, until: datetime) -> bool: ...
    def mark_ingested(
        self,
        project_id: str,
        video_id: str,
        filesize: int,
        source_key: str,
        events: Sequence[DomainEvent],
        now: datetime,
    ) -> bool: ...


class UploadRepository(Protocol):
    """Upload sessions and the parts received so far."""

    def session(self, project_id: str, video_id: str) -> UploadSession | None: ...
    def has_part(self, project_id: str, video_id: str, content_range: ContentRange) -> bool: ...
    def parts(self, project_id: str, video_id: str) -> list[ReceivedPart]: ...
    def record_part(
        self,
        project_id: str,
        video_id: str,
        content_range: ContentRange,
        part: ReceivedPart,
        token_id: str | None,
        filename: str,
        now: datetime,
    ) -> bool: ...
    def complete(
        self,
        project_id: str,
        video_id: str,
        filesize: int,
        source_key: str,
        events: Sequence[DomainEvent],
        now: datetime,
    ) -> bool: ...
    def fail(
        self, project_id: str, video_id: str, form: RangeForm, reason: str, events: Sequence[DomainEvent], now: datetime
    ) -> bool: ...


class DirectUploadRepository(Protocol):
    def create(self, upload: DirectUpload, ttl: int) -> None: ...
    def get(self, project_id: str, video_id: str, upload_id: str) -> DirectUpload | None: ...
    def list_for_video(self, project_id: str, video_id: str) -> list[DirectUpload]: ...
    def complete(self, upload: DirectUpload, source_key: str, events: Sequence[DomainEvent], now: datetime) -> bool: ...
    def set_status(self, upload: DirectUpload, status: DirectUploadStatus) -> None: ...


class UploadTokenRepository(Protocol):
    def create(self, token: UploadToken) -> None: ...
    def get(self, project_id: str, token_id: str) -> UploadToken | None: ...
    def find(self, token_id: str) -> UploadToken | None: ...
    def list(self, project_id: str) -> list[UploadToken]: ...
    def delete(self, token: UploadToken) -> None: ...
    def remember_open_upload(self, token: UploadToken, upload: OpenUpload) -> None: ...
    def open_uploads(self, token: UploadToken) -> Sequence[OpenUpload]: ...
    def advance_open_upload(self, token: UploadToken, upload: OpenUpload, next_position: int) -> bool: ...
    def forget_open_upload(self, project_id: str, token_id: str, video_id: str) -> None: ...


class MultipartUploads(Bucket, Protocol):
    """Multipart writes to the uploads bucket: streamed fetches, large copies, presigned parts."""

    def write_stream(
        self, key: str, read: Callable[[int], bytes], part_bytes: int, limit: int, metadata: dict[str, str]
    ) -> int: ...
    def copy(self, source_key: str, key: str, size: int) -> None: ...
    def presign_part(self, key: str, upload_id: str, number: int, expires_in: int) -> str: ...
    def list_parts(self, key: str, upload_id: str) -> list[StoredPart] | None: ...


class SourceStream(Protocol):
    """An open response body of a source URL, read in pieces."""

    url: str
    length: int | None

    def read(self, size: int) -> bytes: ...
    def close(self) -> None: ...


class SourceFetcher(Protocol):
    """GETs a source URL through the SSRF guard (every redirect checked)."""

    def open(self, url: str) -> SourceStream: ...


class ObjectSweeper(Protocol):
    """Lists and deletes the objects of one bucket by prefix (a purged video's files)."""

    bucket: str

    def list_keys(self, prefix: str) -> Iterator[list[str]]:
        """The keys under `prefix`, one page at a time (at most 1,000 keys, S3's DeleteObjects limit)."""
        ...

    def delete_keys(self, keys: Sequence[str]) -> None:
        """Deletes them all (a missing key counts as deleted), or raises."""
        ...


class VideoLeftovers(Protocol):
    """The items that share a removed video's keys: media state, captions, chapters, thumbnail,
    upload session and parts, direct uploads, and its place in an upload token."""

    def remove(self, project_id: str, video_id: str) -> int:
        """Deletes what is left and returns how many items that was (0 when nothing was)."""
        ...


class Encoder(Protocol):
    """The media plane: probes sources, runs encoding jobs, and reads its job-state events."""

    def submit(self, job: EncodingJob) -> str: ...
    def probe(self, source_url: str) -> SourceMetadata: ...
    def job_state(self, event: dict[str, Any]) -> JobState | None: ...
