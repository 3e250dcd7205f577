"""The VOD pipeline after the source is stored: probe, plan the jobs, follow them to the end,
and publish what plays (the HLS multivariant playlist, MP4, thumbnail) with its events.

Every step is safe to repeat: S3 and EventBridge deliver at least once and out of order, so
state moves only forward (conditional writes) and each event is written by the move that
happens, in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.domain import events
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.core.observability import pipeline_stage as stage
from chalicelib.core.ports import Bucket
from chalicelib.vod.domain.encoding import (
    DEFAULT_PROFILE,
    LADDER,
    EncodingJob,
    EncodingProfile,
    JobKind,
    JobState,
    Rendition,
    SourceMetadata,
    SourceUnreadable,
    WatermarkPlacement,
    renditions_for,
    thumbnail_time,
)
from chalicelib.vod.domain.media import MediaState, QualityStatus, quality_key, timecode_seconds, variant_line
from chalicelib.vod.domain.playlists import subtitle_media_playlist, subtitles_group
from chalicelib.vod.domain.tracks import TextTrack
from chalicelib.vod.domain.videos import Video
from chalicelib.vod.ports import Encoder, MediaRepository, VideoRepository
from chalicelib.vod.services.videos import Detail

log = logging.getLogger(__name__)

MASTER_PLAYLIST = "hls/manifest.m3u8"
# A thumbnail job's `quality` marks a frame the user picked (PATCH /videos/{id}/thumbnail).
PICKED_THUMBNAIL = "pick"
H264_AAC = "avc1.640028,mp4a.40.2"
# Master rewrites that lost a race with another consumer are redone this many times.
PUBLISH_ATTEMPTS = 3

ProfileResolver = Callable[[str, str | None], EncodingProfile]
WatermarkResolver = Callable[[str, str], str | None]
CaptionLister = Callable[[str, str], list[TextTrack]]


def media_prefix(video_id: str) -> str:
    return f"vod/{video_id}/"


def metadata_json(metadata: SourceMetadata) -> dict[str, Any]:
    return {
        **metadata.model_dump(mode="json"),
        "display_width": metadata.display_width,
        "display_height": metadata.display_height,
        "aspect_ratio": metadata.aspect_ratio,
    }


def source_metadata(state: MediaState) -> SourceMetadata:
    return SourceMetadata.model_validate({k: v for k, v in state.metadata.items() if k in SourceMetadata.model_fields})


def _timecode_problem(title: str) -> InvalidInput:
    return InvalidInput([Problem("invalid-attribute", title, "timecode")])


class PipelineService:
    def __init__(
        self,
        media: MediaRepository,
        videos: VideoRepository,
        encoder: Encoder,
        uploads: Bucket,
        media_files: Bucket,
        clock: Callable[[], datetime],
        profiles: ProfileResolver = lambda project_id, profile_id: DEFAULT_PROFILE,
        watermarks: WatermarkResolver = lambda project_id, watermark_id: None,
        captions: CaptionLister = lambda project_id, video_id: [],
    ) -> None:
        self.media = media
        self.videos = videos
        self.encoder = encoder
        self.uploads = uploads
        self.media_files = media_files
        self.clock = clock
        self.profiles = profiles
        self.watermarks = watermarks
        self.captions = captions

    # -- a source arrived ------------------------------------------------------------------

    def ingest(self, project_id: str, video_id: str, source_key: str) -> None:
        """Probes the source and submits its jobs, once per source version: the first caller
        claims the work; a failure midway gives the claim back for the retry."""
        stored = self.uploads.head(source_key)
        if stored is None or not self.media.claim(project_id, video_id, stored.etag, "pipeline", self.clock()):
            return  # gone, or a duplicate notification of a source already taken in hand
        try:
            self._ingest(project_id, video_id, source_key, stored.etag)
        except Exception:
            self.media.release(project_id, video_id, stored.etag, "pipeline")
            raise

    def _ingest(self, project_id: str, video_id: str, source_key: str, etag: str) -> None:
        found = self.videos.get_with_media(project_id, video_id)
        if found is None or found[0].discarded:
            log.info("source of a missing or discarded video ignored", extra={"videoId": video_id})
            return
        video = found[0]
        source_url = f"{self.uploads.url()}/{source_key}"
        stage(video_id, "ingest")
        try:
            metadata = self.encoder.probe(source_url)
        except SourceUnreadable as unreadable:
            self._fail(project_id, video_id, f"The source could not be read: {unreadable.reason}")
            return
        refused = metadata.not_a_video()
        if refused is not None:
            self._fail(project_id, video_id, refused)
            return
        profile = self.profiles(project_id, video.encoding_profile_id)
        renditions = renditions_for(metadata, profile)
        qualities = {quality_key("hls", r.quality): QualityStatus.WAITING.value for r in renditions}
        top = renditions[-1]
        if video.mp4_support and profile.mp4:
            qualities[quality_key("mp4", top.quality)] = QualityStatus.WAITING.value
        self.media.set_fields(
            project_id,
            video_id,
            {
                "metadata": metadata_json(metadata),
                "qualities": qualities,
                "playlists": {},
                "failure": None,
                "source_key": source_key,
            },
            self.clock(),
        )
        stage(video_id, "probed")
        for job in self.plan(video, metadata, profile, renditions, source_url, etag):
            self.encoder.submit(job)
        stage(video_id, "submitted")

    def plan(
        self,
        video: Video,
        metadata: SourceMetadata,
        profile: EncodingProfile,
        renditions: list[Rendition],
        source_url: str,
        etag: str,
    ) -> list[EncodingJob]:
        """Remux first (playable in seconds), then thumbnail, the ladder low to high, the MP4."""
        clip_start = clip_end = None
        if video.clip is not None:
            if video.clip.start_timecode:
                clip_start = timecode_seconds(video.clip.start_timecode, metadata.framerate)
            if video.clip.end_timecode:
                clip_end = timecode_seconds(video.clip.end_timecode, metadata.framerate)
        watermark = None
        if video.watermark is not None:
            image = self.watermarks(video.project_id, video.watermark.id)
            if image is not None:
                fields = video.watermark.model_dump(exclude={"id"})
                watermark = WatermarkPlacement(image_url=image, **fields)
        common: dict[str, Any] = {
            "project_id": video.project_id,
            "video_id": video.video_id,
            "source_url": source_url,
            "destination_prefix": f"{self.media_files.url()}/{media_prefix(video.video_id)}",
            "framerate": metadata.framerate,
            "audio": metadata.has_audio,
            "segment_seconds": profile.segment_seconds,
            "clip_start": clip_start,
            "clip_end": clip_end,
        }

        def token(kind: JobKind, quality: str | None = None) -> str:
            return f"{video.video_id}-{etag[:12]}-{kind.value}-{quality or 'all'}"

        jobs: list[EncodingJob] = []
        if metadata.remuxable and watermark is None and clip_start is None and clip_end is None:
            jobs.append(EncodingJob(kind=JobKind.REMUX, idempotency_token=token(JobKind.REMUX), **common))
        jobs.append(
            EncodingJob(
                kind=JobKind.THUMBNAIL,
                idempotency_token=token(JobKind.THUMBNAIL),
                thumbnail_at=thumbnail_time(metadata, profile) + (clip_start or 0.0),
                rendition=renditions[-1],
                **common,
            )
        )
        for rendition in renditions:
            jobs.append(
                EncodingJob(
                    kind=JobKind.RENDITION,
                    quality=rendition.quality,
                    rendition=rendition,
                    watermark=watermark,
                    idempotency_token=token(JobKind.RENDITION, rendition.quality),
                    **common,
                )
            )
        if video.mp4_support and profile.mp4:
            top = renditions[-1]
            jobs.append(
                EncodingJob(
                    kind=JobKind.MP4,
                    quality=top.quality,
                    rendition=top,
                    watermark=watermark,
                    idempotency_token=token(JobKind.MP4, top.quality),
                    **common,
                )
            )
        return jobs

    def pick_thumbnail(self, actor: Actor, video_id: str, timecode: str) -> Detail:
        """Captures the frame at `timecode` with the media service; the video's thumbnail
        switches when the job completes."""
        found = self.videos.get_with_media(actor.project_id, video_id)
        if found is None or found[0].discarded:
            raise NotFound(name="videoId")
        video, media = found
        if media is None or not media.metadata or not media.source_key:
            raise InvalidInput(
                [Problem("invalid-attribute", "The video has no source to take a frame from.", "timecode")]
            )
        metadata = SourceMetadata.model_validate(
            {k: v for k, v in media.metadata.items() if k in SourceMetadata.model_fields}
        )
        at = timecode_seconds(timecode, metadata.framerate)
        if metadata.duration is not None and at >= metadata.duration:
            raise InvalidInput(
                [Problem("invalid-attribute", "The timecode is beyond the end of the video.", "timecode")]
            )
        renditions = renditions_for(metadata)
        self.encoder.submit(
            EncodingJob(
                project_id=actor.project_id,
                video_id=video_id,
                kind=JobKind.THUMBNAIL,
                quality=PICKED_THUMBNAIL,
                source_url=f"{self.uploads.url()}/{media.source_key}",
                destination_prefix=f"{self.media_files.url()}/{media_prefix(video_id)}",
                idempotency_token=f"{video_id}-pick-{actor.request_id}",
                thumbnail_at=at,
                rendition=renditions[-1] if renditions else None,
                framerate=metadata.framerate,
                audio=metadata.has_audio,
            )
        )
        return video, media

    def _fail(self, project_id: str, video_id: str, reason: str) -> None:
        failed = events.VideoEncodingFailed(
            **events.envelope(project_id, self.clock()), videoId=video_id, reason=reason
        )
        self.media.set_fields(project_id, video_id, {"failure": reason}, self.clock(), [failed])

    # -- a job reported --------------------------------------------------------------------

    def on_job_event(self, event: dict[str, Any]) -> None:
        state = self.encoder.job_state(event)
        if state is None:
            return
        stage(state.video_id, f"job {state.kind.value} {state.quality or ''} {state.status}".replace("  ", " "))
        if state.status in ("PROGRESSING", "STATUS_UPDATE", "INPUT_INFORMATION"):
            self._started(state)
        elif state.status == "COMPLETE":
            self._completed(state)
        elif state.status in ("ERROR", "CANCELED"):
            self._errored(state)

    def _started(self, state: JobState) -> None:
        key = self._quality(state)
        if key is not None:
            self.media.set_quality(
                state.project_id,
                state.video_id,
                key,
                QualityStatus.ENCODING,
                self.clock(),
                unless=(QualityStatus.ENCODING, QualityStatus.ENCODED, QualityStatus.FAILED),
            )

    def _completed(self, state: JobState) -> None:
        project_id, video_id = state.project_id, state.video_id
        if state.kind is JobKind.THUMBNAIL:
            if state.outputs:
                # A new name per frame: CDN caches never serve a replaced thumbnail.
                picked = state.quality == PICKED_THUMBNAIL
                name = f"thumbnails/{'pick' if picked else 'auto'}-{state.job_id}.jpg"
                self.media_files.copy_from(
                    self.media_files.bucket, self._key(state.outputs[-1]), media_prefix(video_id) + name, "image/jpeg"
                )
                source = "pick" if picked else "auto"
                self.media.choose_thumbnail(project_id, video_id, name, source, self.clock())
            return
        if state.kind is JobKind.REMUX:
            child = self._relative_playlist(state)
            if child is not None:
                self.media.set_fields(project_id, video_id, {"preview_playlist": child}, self.clock())
                self._became_playable(project_id, video_id)
            return
        key = self._quality(state)
        if key is None or state.quality is None:
            return
        encoding = "hls" if state.kind is JobKind.RENDITION else "mp4"
        completed = events.VideoEncodingQualityCompleted(
            **events.envelope(project_id, self.clock()), videoId=video_id, encoding=encoding, quality=state.quality
        )
        extra: dict[str, Any] = {"mp4": True} if encoding == "mp4" else {}
        child = self._relative_playlist(state) if encoding == "hls" else None
        if child is not None:
            extra[f"playlists.{state.quality}"] = child
        moved = self.media.set_quality(
            project_id,
            video_id,
            key,
            QualityStatus.ENCODED,
            self.clock(),
            unless=(QualityStatus.ENCODED,),
            extra=extra,
            events=[completed],
        )
        if moved and encoding == "hls":
            self._became_playable(project_id, video_id)
        self._settle(project_id, video_id)

    def _errored(self, state: JobState) -> None:
        log.warning(
            "encoding job failed",
            extra={"videoId": state.video_id, "kind": state.kind.value, "error": state.error_message},
        )
        key = self._quality(state)
        if key is None:
            return  # a failed remux or thumbnail leaves the ladder to finish
        self.media.set_quality(
            state.project_id,
            state.video_id,
            key,
            QualityStatus.FAILED,
            self.clock(),
            unless=(QualityStatus.ENCODED, QualityStatus.FAILED),
            extra={"failure": state.error_message or "Encoding failed."},
        )
        self._settle(state.project_id, state.video_id)

    def _settle(self, project_id: str, video_id: str) -> None:
        state = self.media.get(project_id, video_id)
        if state is None or not state.settled:
            return
        if state.encoded("hls"):
            ready = events.VideoReady(
                **events.envelope(project_id, self.clock()), videoId=video_id, encodedSeconds=state.encoded_seconds()
            )
            self.media.flag_once(project_id, video_id, "ready", self.clock(), [ready])
        else:
            reason = state.failure or "Every rendition failed to encode."
            failed = events.VideoEncodingFailed(
                **events.envelope(project_id, self.clock()), videoId=video_id, reason=reason
            )
            self.media.flag_once(project_id, video_id, "ready", self.clock(), [failed])

    def _became_playable(self, project_id: str, video_id: str) -> None:
        """The multivariant playlist is written before `playable` flips, so a client that sees
        `playable: true` can always fetch it."""
        self.publish_master(project_id, video_id)
        playable = events.VideoPlayable(**events.envelope(project_id, self.clock()), videoId=video_id)
        if self.media.flag_once(project_id, video_id, "playable", self.clock(), [playable]):
            stage(video_id, "playable")

    def refresh(self, project_id: str, video_id: str) -> None:
        """MasterPlaylistRefresher: captions changed, so the master's SUBTITLES group must too."""
        self.publish_master(project_id, video_id)

    def publish_master(self, project_id: str, video_id: str) -> None:
        """Writes hls/manifest.m3u8 over the renditions encoded so far (or the remuxed source
        until the first one is), re-reading the state to catch a rendition that finished meanwhile."""
        written: str | None = None
        for _ in range(PUBLISH_ATTEMPTS):
            state = self.media.get(project_id, video_id)
            if state is None:
                return
            playlist = self.master_playlist(state)
            if playlist is None or playlist == written:
                return
            self.media_files.put(
                media_prefix(video_id) + MASTER_PLAYLIST, playlist.encode(), "application/vnd.apple.mpegurl"
            )
            written = playlist

    def _subtitles(self, state: MediaState) -> list[str]:
        """Writes one media playlist per caption (pointing at its VTT) and returns the master's
        SUBTITLES lines."""
        captions = self.captions(state.project_id, state.video_id)
        duration = float(state.metadata.get("duration") or 0.0)
        for caption in captions:
            playlist = subtitle_media_playlist(f"../../captions/{caption.language}.vtt", duration)
            key = f"{media_prefix(state.video_id)}hls/captions/{caption.language}.m3u8"
            self.media_files.put(key, playlist.encode(), "application/vnd.apple.mpegurl")
        return subtitles_group(captions)

    def master_playlist(self, state: MediaState) -> str | None:
        if not state.encoded("hls") and not state.preview_playlist:
            return None
        subtitles = self._subtitles(state)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS", *subtitles]
        metadata = source_metadata(state)
        sizes = {r.quality: r for r in renditions_for(metadata)} if state.metadata else {}
        ladder = {r.quality: r for r in LADDER}
        encoded = [q for q in state.encoded("hls") if q in state.playlists]
        if encoded:
            for quality in encoded:
                rendition = sizes.get(quality) or ladder[quality]
                bandwidth = rendition.max_bitrate + rendition.audio_bitrate
                lines += variant_line(
                    bandwidth, rendition.width, rendition.height, H264_AAC, state.playlists[quality], bool(subtitles)
                )
        elif state.preview_playlist:
            bandwidth = int(state.metadata.get("bitrate") or 5_000_000)
            lines += variant_line(
                bandwidth,
                metadata.display_width,
                metadata.display_height,
                None,
                state.preview_playlist,
                bool(subtitles),
            )
        else:
            return None
        return "\n".join(lines) + "\n"

    def _quality(self, state: JobState) -> str | None:
        if state.quality is None:
            return None
        if state.kind is JobKind.RENDITION:
            return quality_key("hls", state.quality)
        if state.kind is JobKind.MP4:
            return quality_key("mp4", state.quality)
        return None

    def _key(self, url: str) -> str:
        return url.split("/", 3)[3]

    def _relative_playlist(self, state: JobState) -> str | None:
        """The child playlist relative to vod/{videoId}/hls/ (where the master lives)."""
        children = [url for url in state.outputs if url.endswith(".m3u8")][1:]
        if not children:
            return None
        hls_prefix = media_prefix(state.video_id) + "hls/"
        key = self._key(children[0])
        return key[len(hls_prefix) :] if key.startswith(hls_prefix) else None
