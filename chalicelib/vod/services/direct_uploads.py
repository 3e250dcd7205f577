"""Resumable direct uploads (a Videoplane extension, docs/uploads.md): the client PUTs each part
of the source straight to S3 with presigned UploadPart URLs, so files of any size up to 5 TiB
never pass through API Gateway or Lambda; completing the upload runs the normal pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.core import resources
from chalicelib.core.clock import epoch_seconds
from chalicelib.core.domain import events
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.core.domain.objects import StoredPart
from chalicelib.core.ports import Bucket
from chalicelib.vod.domain import ingest
from chalicelib.vod.domain.ingest import DirectUpload, DirectUploadStatus
from chalicelib.vod.domain.uploads import SourceAlreadyUploaded, UploadStatus, source_key
from chalicelib.vod.ports import DirectUploadRepository, MediaRepository, MultipartUploads, UploadRepository
from chalicelib.vod.services.videos import Detail, VideoService

# Long enough for a slow link to send a large part; GET the upload again for fresh URLs.
URL_EXPIRY = timedelta(hours=6)
# The bucket's lifecycle aborts multipart uploads after this many days; the record goes a day later.
RECORD_RETENTION = timedelta(days=resources.ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS + 1)


@dataclass(frozen=True)
class PartUrl:
    number: int
    url: str
    size: int


@dataclass(frozen=True)
class Grant:
    """An upload as the API shows it: what S3 holds and where to PUT what it lacks."""

    upload: DirectUpload
    expires_at: datetime | None
    urls: list[PartUrl]
    stored: list[StoredPart]


class DirectUploadService:
    def __init__(
        self,
        uploads: DirectUploadRepository,
        media: MediaRepository,
        sessions: UploadRepository,
        videos: VideoService,
        store: Bucket,
        multipart: MultipartUploads,
        clock: Callable[[], datetime],
    ) -> None:
        self.uploads = uploads
        self.media = media
        self.sessions = sessions
        self.videos = videos
        self.store = store
        self.multipart = multipart
        self.clock = clock

    def create(self, actor: Actor, video_id: str, filesize: int, part_size: int | None) -> Grant:
        self.videos.get(actor, video_id)
        plan = ingest.plan_parts(filesize, part_size)
        self._refuse_if_sourced(actor.project_id, video_id)
        key = source_key(actor.project_id, video_id)
        upload_id = self.multipart.create_multipart(key, {"project-id": actor.project_id, "video-id": video_id})
        now = self.clock().replace(microsecond=0)
        upload = DirectUpload(
            project_id=actor.project_id, video_id=video_id, upload_id=upload_id, filesize=plan.filesize,
            part_size=plan.part_size, parts_count=plan.count, created_at=now,
        )  # fmt: skip
        try:
            self.uploads.create(upload, epoch_seconds(now + RECORD_RETENTION))
        except Exception:
            self.multipart.abort_multipart(key, upload_id)  # nothing may be billed for an upload nobody can see
            raise
        return self._grant(upload, [])

    def list_uploads(self, actor: Actor, video_id: str) -> list[DirectUpload]:
        self.videos.get(actor, video_id)
        return self.uploads.list_for_video(actor.project_id, video_id)

    def get(self, actor: Actor, video_id: str, upload_id: str) -> Grant:
        upload = self._upload(actor, video_id, upload_id)
        if upload.status is not DirectUploadStatus.OPEN:
            return Grant(upload, None, [], [])
        stored = self.multipart.list_parts(source_key(actor.project_id, video_id), upload_id)
        return self._grant(upload, stored or [])

    def complete(self, actor: Actor, video_id: str, upload_id: str) -> Detail:
        upload = self._upload(actor, video_id, upload_id)
        if upload.status is DirectUploadStatus.COMPLETED:
            return self.videos.detail(actor, video_id)  # a repeated complete answers the same
        if upload.status is DirectUploadStatus.ABORTED:
            raise NotFound(name="uploadId")
        key = source_key(actor.project_id, video_id)
        stored = self.multipart.list_parts(key, upload_id)
        if stored is None:
            # S3 no longer knows the upload: an earlier complete finished there and failed here, or
            # the lifecycle rule aborted it. Only the first leaves the whole object behind.
            found = self.store.head(key)
            if found is None or found.size != upload.filesize:
                raise NotFound(name="uploadId")
        else:
            self._check_parts(upload, stored)
            self._refuse_if_sourced(actor.project_id, video_id)  # completing would overwrite that source
            self.multipart.complete_multipart(
                key, upload_id, [{"PartNumber": p.number, "ETag": p.etag} for p in sorted(stored, key=_number)]
            )
        uploaded = events.VideoSourceUploaded(**events.envelope(actor.project_id, self.clock()), videoId=video_id)
        if not self.uploads.complete(upload, key, [uploaded], self.clock()):
            again = self.uploads.get(actor.project_id, video_id, upload_id)
            if again is None or again.status is not DirectUploadStatus.COMPLETED:
                raise SourceAlreadyUploaded()
        return self.videos.detail(actor, video_id)

    def abort(self, actor: Actor, video_id: str, upload_id: str) -> None:
        upload = self._upload(actor, video_id, upload_id)
        if upload.status is DirectUploadStatus.COMPLETED:
            raise InvalidInput(
                [Problem("multipart-upload-completed", "The upload is complete; it can no longer be aborted.",
                         "uploadId")]
            )  # fmt: skip
        self.multipart.abort_multipart(source_key(actor.project_id, video_id), upload_id)
        if upload.status is DirectUploadStatus.OPEN:
            self.uploads.set_status(upload, DirectUploadStatus.ABORTED)

    def _upload(self, actor: Actor, video_id: str, upload_id: str) -> DirectUpload:
        self.videos.get(actor, video_id)
        upload = self.uploads.get(actor.project_id, video_id, upload_id)
        if upload is None:
            raise NotFound(name="uploadId")
        return upload

    def _refuse_if_sourced(self, project_id: str, video_id: str) -> None:
        """One source per video, as for the upload routes (400 video-source-already-uploaded)."""
        media = self.media.get(project_id, video_id)
        session = self.sessions.session(project_id, video_id)
        if (media is not None and media.ingest_status is not None) or (
            session is not None and session.status is UploadStatus.UPLOADED
        ):
            raise SourceAlreadyUploaded()

    def _check_parts(self, upload: DirectUpload, stored: list[StoredPart]) -> None:
        sizes = {p.number: p.size for p in stored}
        missing = ingest.missing_parts(upload.plan, sizes)
        extra = sorted(n for n in sizes if n > upload.parts_count)
        if missing or extra:
            detail = f"Missing or of the wrong size: parts {_ranges(missing)}." if missing else ""
            if extra:
                detail += f" Unexpected parts {_ranges(extra)}."
            raise InvalidInput(
                [Problem("multipart-upload-incomplete", "Some parts of the upload are missing.", "parts",
                         detail.strip())]
            )  # fmt: skip

    def _grant(self, upload: DirectUpload, stored: list[StoredPart]) -> Grant:
        have = {p.number: p.size for p in stored}
        key = source_key(upload.project_id, upload.video_id)
        seconds = int(URL_EXPIRY.total_seconds())
        urls = [
            PartUrl(number, self.multipart.presign_part(key, upload.upload_id, number, seconds), size)
            for number, size in upload.plan.sizes()
            if have.get(number) != size
        ]
        return Grant(upload, self.clock().replace(microsecond=0) + URL_EXPIRY, urls, stored)


def _number(part: StoredPart) -> int:
    return part.number


def _ranges(numbers: list[int]) -> str:
    """`1-3, 7`: a 10,000-part upload missing most parts still gives a short message."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and spans[-1][1] == n - 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
