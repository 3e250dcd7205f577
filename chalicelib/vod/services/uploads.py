"""Source uploads: admitting a part from its headers, receiving its stored body, assembling
the source in S3, and delegated upload tokens."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.core import ids
from chalicelib.core.domain import events, formdata
from chalicelib.core.domain.access import Actor, Principal, Role
from chalicelib.core.domain.errors import AuthenticationFailed, DomainError, NotFound
from chalicelib.core.domain.objects import Slice
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.core.observability import pipeline_stage as stage
from chalicelib.core.ports import Bucket
from chalicelib.vod.domain import uploads
from chalicelib.vod.domain.media import MediaState
from chalicelib.vod.domain.uploads import (
    CONTENT_TYPE_METADATA,
    DELEGATED_TITLE,
    RANGE_METADATA,
    TOKEN_METADATA,
    ContentRange,
    OpenUpload,
    RangeForm,
    ReceivedPart,
    UploadSession,
    UploadToken,
    incoming_key,
    parse_incoming_key,
    source_key,
)
from chalicelib.vod.domain.videos import Video, VideoCreation
from chalicelib.vod.ports import MediaRepository, UploadRepository, UploadTokenRepository
from chalicelib.vod.services.videos import VideoService

logger = logging.getLogger(__name__)

# Chunks racing for one delegated upload re-read its expected position this many times.
CLAIM_ATTEMPTS = 3


class InvalidUploadToken(AuthenticationFailed):
    slug = "authentication-invalid-upload-token"
    title = "The upload token is invalid or expired."


class MissingUploadToken(AuthenticationFailed):
    slug = "authentication-missing-upload-token"
    title = "The upload token is missing."


@dataclass(frozen=True)
class Admission:
    """A part allowed through: where the gateway stores its body and what the caller sees."""

    video: Video
    object_key: str
    content_range: ContentRange
    token_id: str | None = None


def token_actor(token: UploadToken, request_id: str) -> Actor:
    return Actor(Principal(token.project_id, f"token:{token.token_id}", Role.OPERATOR), request_id)


def _title(error: DomainError) -> str:
    return error.problems[0].title if error.problems else error.title


class UploadService:
    def __init__(
        self,
        uploads_repo: UploadRepository,
        media: MediaRepository,
        tokens: UploadTokenRepository,
        videos: VideoService,
        store: Bucket,
        clock: Callable[[], datetime],
        source_arrived: Callable[[str, str, str], None] = lambda project_id, video_id, key: None,
    ) -> None:
        self.uploads = uploads_repo
        # Starts the pipeline at once (one queue hop sooner than the sources/ notification,
        # which still follows and finds the work claimed).
        self.source_arrived = source_arrived
        self.media = media
        self.tokens = tokens
        self.videos = videos
        self.store = store
        self.clock = clock

    # -- at the gateway: headers only ------------------------------------------------------

    def admit(
        self, actor: Actor, video_id: str, header: str | None, body_length: int | None, content_type: str | None = None
    ) -> Admission:
        content_range = uploads.parse_content_range(header)
        video = self.videos.get(actor, video_id)
        uploads.check_envelope(content_type, body_length)
        self._check(actor.project_id, video_id, content_range, body_length)
        return Admission(video, incoming_key(actor.project_id, video_id, actor.request_id), content_range)

    def admit_delegated(
        self,
        token_id: str | None,
        header: str | None,
        body_length: int | None,
        request_id: str,
        content_type: str | None = None,
        named_video: str | None = None,
    ) -> Admission:
        if not token_id:
            raise MissingUploadToken()
        token = self.tokens.find(token_id)
        if token is None or not token.valid_at(self.clock()):
            raise InvalidUploadToken()
        content_range = uploads.parse_content_range(header)
        uploads.check_envelope(content_type, body_length)
        actor = token_actor(token, request_id)
        starts = content_range.part == 1 if content_range.form is RangeForm.PART else content_range.start == 0
        if named_video:
            video = self._named_open_video(actor, token, content_range, named_video)
        elif starts:
            # Checked before the video exists: a refused first chunk leaves no open upload behind.
            uploads.admit(None, content_range, body_length, False, False)
            # The SDK learns the video id from this answer (a progressive session sends it back).
            video = self.videos.create(actor, VideoCreation(title=DELEGATED_TITLE))
            opened = OpenUpload(video.video_id, uploads.slot_of(content_range), uploads.following(content_range))
            self.tokens.remember_open_upload(token, opened)
        else:
            video = self._open_video(actor, token, content_range)
        self._check(token.project_id, video.video_id, content_range, body_length)
        key = incoming_key(token.project_id, video.video_id, request_id)
        return Admission(video, key, content_range, token.token_id)

    def _named_open_video(self, actor: Actor, token: UploadToken, content_range: ContentRange, video_id: str) -> Video:
        """A chunk whose `videoId` the gateway can see (query string): only a video this token
        started; anything else looks like a missing video."""
        for _ in range(CLAIM_ATTEMPTS):
            chosen = next((u for u in self.tokens.open_uploads(token) if u.video_id == video_id), None)
            if chosen is None:
                session = self.uploads.session(token.project_id, video_id)
                if session is None or session.token_id != token.token_id:
                    raise NotFound(name="videoId")
                return self.videos.get(actor, video_id)  # finished or failed: the checks say which
            if self.tokens.advance_open_upload(token, chosen, max(chosen.next, uploads.following(content_range))):
                return self.videos.get(actor, video_id)
        raise uploads.AmbiguousUpload()

    def _open_video(self, actor: Actor, token: UploadToken, content_range: ContentRange) -> Video:
        """The video of a later chunk without a videoId: the one open upload of the token that can
        take it (see uploads.choose_open_upload). Its expected position moves on conditionally, so
        two concurrent chunks never both take the same place."""
        for _ in range(CLAIM_ATTEMPTS):
            chosen = uploads.choose_open_upload(self.tokens.open_uploads(token), content_range)
            after = max(chosen.next, uploads.following(content_range))
            if self.tokens.advance_open_upload(token, chosen, after):
                return self.videos.get(actor, chosen.video_id)
        raise uploads.AmbiguousUpload()

    def _check(self, project_id: str, video_id: str, content_range: ContentRange, body_length: int | None) -> None:
        session = self.uploads.session(project_id, video_id)
        media = self.media.get(project_id, video_id)
        has_source = media is not None and media.ingest_status is not None
        received = self.uploads.has_part(project_id, video_id, content_range)
        uploads.admit(session, content_range, body_length, received, has_source)
        if (
            session is not None
            and content_range.form is RangeForm.BYTES
            and uploads.overlaps(self.uploads.parts(project_id, video_id), content_range)
        ):
            raise uploads.range_problem(
                "video-content-range-by-bytes-overlap", "This range overlaps a range already sent."
            )

    # -- after the body is stored ----------------------------------------------------------

    def receive(self, object_key: str) -> None:
        """Parses a stored request body and records its part; the part that completes the
        set assembles the source. Safe to run twice for the same object."""
        parsed = parse_incoming_key(object_key)
        stored = self.store.head(object_key) if parsed else None
        if parsed is None or stored is None:
            return
        project_id, video_id, _ = parsed
        token_id = stored.metadata.get(TOKEN_METADATA) or None
        content_range: ContentRange | None = None
        try:
            content_range = uploads.parse_content_range(stored.metadata.get(RANGE_METADATA))
            location = formdata.locate_file(
                self.store.read(object_key, 0, formdata.HEAD_BYTES),
                stored.size,
                stored.metadata.get(CONTENT_TYPE_METADATA),
                self.store.read(object_key, max(0, stored.size - 512), stored.size),
            )
            video_id = self._named_video(project_id, video_id, token_id, location.fields.get("videoId"))
            uploads.accept(content_range, location.size)
        except DomainError as refused:
            # The caller was answered 2xx when the headers passed, so the part is never dropped
            # silently: the upload ends failed, with the reason and its event.
            reason = f"An uploaded part was refused: {refused.detail or _title(refused)}"
            logger.warning("upload part %s refused: %s", object_key, reason)
            self.fail(project_id, video_id, token_id, content_range, reason)
            self.store.delete(object_key)
            return
        part = ReceivedPart(
            key=content_range.key,
            part=content_range.part,
            start=content_range.start,
            end=content_range.end,
            size=location.size,
            object_key=object_key,
            offset=location.start,
            received_at=self.clock(),
        )
        recorded = self.uploads.record_part(
            project_id, video_id, content_range, part, token_id, location.filename, self.clock()
        )
        if not recorded and not any(p.object_key == object_key for p in self.uploads.parts(project_id, video_id)):
            self.store.delete(object_key)  # a second copy of a part already kept
        session = self.uploads.session(project_id, video_id)
        if session is not None and uploads.is_complete(session) and session.status is uploads.UploadStatus.UPLOADING:
            self.assemble(session)

    def _named_video(self, project_id: str, video_id: str, token_id: str | None, named: str | None) -> str:
        """A delegated progressive upload names its video in the body; that name wins over the
        gateway's guess, but only for a video the same token started."""
        if not token_id or not named or named == video_id:
            return video_id
        session = self.uploads.session(project_id, named)
        if session is None or session.token_id != token_id:
            raise NotFound(name="videoId")
        return named

    def assemble(self, session: UploadSession) -> None:
        parts = uploads.assembly_order(session, self.uploads.parts(session.project_id, session.video_id))
        key = source_key(session.project_id, session.video_id)
        self.store.concatenate(
            key,
            [Slice(p.object_key, p.offset, p.offset + p.size) for p in parts],
            "application/octet-stream",
            {"project-id": session.project_id, "video-id": session.video_id, "filename": session.filename or ""},
        )
        uploaded = events.VideoSourceUploaded(
            **events.envelope(session.project_id, self.clock()), videoId=session.video_id
        )
        size = sum(p.size for p in parts)
        if self.uploads.complete(session.project_id, session.video_id, size, key, [uploaded], self.clock()):
            stage(session.video_id, "assembled", parts=len(parts), bytes=size)
            if session.token_id:
                self.tokens.forget_open_upload(session.project_id, session.token_id, session.video_id)
            self.store.delete_many([p.object_key for p in parts])
            try:
                self.source_arrived(session.project_id, session.video_id, key)
            except Exception:
                # The sources/ notification runs the same ingest again, with its queue's retries.
                logger.exception("ingest right after assembly failed; the source notification will retry")

    def fail(
        self, project_id: str, video_id: str, token_id: str | None, content_range: ContentRange | None, reason: str
    ) -> None:
        """Ends an upload failed, once: later parts are refused at the gateway, the parts kept so
        far are removed, and `video.encoding.failed` carries the reason (also in the status)."""
        failed = events.VideoEncodingFailed(
            **events.envelope(project_id, self.clock()), videoId=video_id, reason=reason
        )
        form = content_range.form if content_range is not None else RangeForm.PART
        if self.uploads.fail(project_id, video_id, form, reason, [failed], self.clock()):
            stage(video_id, "upload failed", reason=reason)
            self.store.delete_many([p.object_key for p in self.uploads.parts(project_id, video_id)])
        if token_id:
            self.tokens.forget_open_upload(project_id, token_id, video_id)

    # -- status ----------------------------------------------------------------------------

    def status(self, actor: Actor, video_id: str) -> tuple[MediaState | None, UploadSession | None, list[ReceivedPart]]:
        _, media = self.videos.detail(actor, video_id)
        session = self.uploads.session(actor.project_id, video_id)
        return media, session, ([] if session is None else self.uploads.parts(actor.project_id, video_id))


class UploadTokenService:
    def __init__(self, tokens: UploadTokenRepository, clock: Callable[[], datetime]) -> None:
        self.tokens = tokens
        self.clock = clock

    def create(self, actor: Actor, payload: uploads.UploadTokenCreation) -> UploadToken:
        token = UploadToken(
            project_id=actor.project_id,
            token_id=ids.new_id(uploads.UPLOAD_TOKEN_PREFIX),
            ttl=payload.ttl,
            created_at=self.clock().replace(microsecond=0),
        )
        self.tokens.create(token)
        return token

    def get(self, actor: Actor, token_id: str) -> UploadToken:
        token = self.tokens.get(actor.project_id, token_id)
        if token is None or not token.valid_at(self.clock()):
            raise NotFound(name="uploadToken")
        return token

    def list(self, actor: Actor, query: uploads.UploadTokenQuery, page: PageRequest) -> Page[UploadToken]:
        now = self.clock()
        active = [t for t in self.tokens.list(actor.project_id) if t.valid_at(now)]
        return paginate(uploads.sort_tokens(active, query), page)

    def delete(self, actor: Actor, token_id: str) -> None:
        self.tokens.delete(self.get(actor, token_id))
