"""Captions and chapters of a video: WebVTT files in the media bucket, one item each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.domain import audit
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import Conflict, NotFound
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.core.ports import MediaFiles
from chalicelib.vod.domain import tracks
from chalicelib.vod.domain.tracks import TextTrack, TrackKind
from chalicelib.vod.ports import MasterPlaylistRefresher, TrackRepository
from chalicelib.vod.services.videos import VideoService

# Setting a default re-reads and re-applies after a lost race, like a video PATCH.
UPDATE_ATTEMPTS = 3


def snapshot(track: TextTrack) -> dict[str, Any]:
    return track.model_dump(mode="json", exclude={"project_id"})


class TrackService:
    def __init__(
        self,
        kind: TrackKind,
        repository: TrackRepository,
        videos: VideoService,
        objects: MediaFiles,
        playlists: MasterPlaylistRefresher,
        clock: Callable[[], datetime],
    ) -> None:
        self.kind = kind
        self.repository = repository
        self.videos = videos
        self.objects = objects
        self.playlists = playlists
        self.clock = clock

    def upload(self, actor: Actor, video_id: str, language: str, filename: str, data: bytes) -> TextTrack:
        """Stores the file, replacing any earlier one in the same language (which keeps `default`)."""
        tracks.language_tag(language)
        self.videos.get(actor, video_id)
        vtt = tracks.parse_webvtt(filename, data)
        now = self.clock()
        existing = self.repository.get(actor.project_id, self.kind, video_id, language)
        track = TextTrack(
            project_id=actor.project_id,
            video_id=video_id,
            kind=self.kind,
            language=language,
            default=existing.default if existing else False,
            duration_ms=round(vtt.duration_seconds * 1000),
            size=len(data),
            created_at=existing.created_at if existing else now,
            updated_at=now,
            version=existing.version + 1 if existing else 1,
        )
        # The object first: a record never points at a file that is not there.
        self.objects.put(track.object_key, data, tracks.VTT_CONTENT_TYPE)
        entry = self._audit(actor, "upload", track, before=existing)
        self.repository.save([(track, existing.version if existing else None)], entry)
        self._changed(actor, video_id)
        return track

    def get(self, actor: Actor, video_id: str, language: str) -> TextTrack:
        tracks.language_tag(language)
        self.videos.get(actor, video_id)
        track = self.repository.get(actor.project_id, self.kind, video_id, language)
        if track is None:
            raise NotFound(name="language")
        return track

    def list(self, actor: Actor, video_id: str, page: PageRequest) -> Page[TextTrack]:
        self.videos.get(actor, video_id)
        found = self.repository.list_all(actor.project_id, self.kind, video_id)
        return paginate(sorted(found, key=lambda t: t.language), page)

    def set_default(self, actor: Actor, video_id: str, language: str, default: bool) -> TextTrack:
        """At most one default per video: making one default clears the others in the same write."""
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, video_id, language)
            now = self.clock()
            updated = tracks.with_default(current, default, now)
            others = [
                t
                for t in self.repository.list_all(actor.project_id, self.kind, video_id)
                if default and t.default and t.language != language
            ]
            changes: list[tuple[TextTrack, int | None]] = [(updated, current.version)]
            changes += [(tracks.with_default(t, False, now), t.version) for t in others]
            try:
                self.repository.save(changes, self._audit(actor, "update", updated, before=current))
            except Conflict:
                continue
            self._changed(actor, video_id)
            return updated
        raise Conflict(name="language")

    def delete(self, actor: Actor, video_id: str, language: str) -> None:
        track = self.get(actor, video_id, language)
        self.repository.delete(track, self._audit(actor, "delete", None, before=track, subject=track))
        # After the record: a failed delete leaves an unlisted file, never a listed missing one.
        self.objects.delete(track.object_key)
        self._changed(actor, video_id)

    def _changed(self, actor: Actor, video_id: str) -> None:
        if self.kind is TrackKind.CAPTION:
            self.playlists.refresh(actor.project_id, video_id)

    def _audit(
        self,
        actor: Actor,
        verb: str,
        after: TextTrack | None,
        before: TextTrack | None,
        subject: TextTrack | None = None,
    ) -> audit.AuditEvent:
        track = subject or after
        assert track is not None
        return audit.record(
            actor,
            f"{self.kind.value}.{verb}",
            self.kind.value,
            f"{track.video_id}/{track.language}",
            self.clock(),
            before=snapshot(before) if before else None,
            after=snapshot(after) if after else None,
        )
