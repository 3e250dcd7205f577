"""Video metadata use-cases: create, read, update, discard, restore, list, tags."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import to_atom
from chalicelib.core.domain import audit, events
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import Conflict, InvalidInput, InvalidPayload, NotFound, Problem
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.vod.domain import videos
from chalicelib.vod.domain.media import MediaState
from chalicelib.vod.domain.videos import TagQuery, Video, VideoCreation, VideoQuery, VideoUpdate
from chalicelib.vod.ports import VideoRepository

if TYPE_CHECKING:
    from chalicelib.vod.services.ingest import IngestRequests

# A video and its media state (None until a source arrives).
Detail = tuple[Video, MediaState | None]

# A PATCH merges fields, so re-reading and re-applying after a lost race is safe.
UPDATE_ATTEMPTS = 3


# DynamoDB items stop at 400 KB and an audit item holds a video twice (before and after).
MAX_VIDEO_BYTES = 120_000


def snapshot(video: Video) -> dict[str, Any]:
    return video.model_dump(mode="json", exclude={"project_id"})


def ensure_storable(video: Video) -> Video:
    size = len(json.dumps(snapshot(video), ensure_ascii=False).encode())
    if size > MAX_VIDEO_BYTES:
        raise InvalidPayload(detail=f"The video's attributes take {size} bytes; the limit is {MAX_VIDEO_BYTES}.")
    return video


class VideoService:
    def __init__(
        self,
        repository: VideoRepository,
        clock: Callable[[], datetime],
        profile_exists: Callable[[str, str], bool] = lambda project_id, profile_id: True,
        ingest: Callable[[], IngestRequests] | None = None,
        watermark_exists: Callable[[str, str], bool] = lambda project_id, watermark_id: True,
        player_exists: Callable[[str, str], bool] = lambda project_id, player_id: True,
    ) -> None:
        self.repository = repository
        self.clock = clock
        self.profile_exists = profile_exists
        self.watermark_exists = watermark_exists
        self.player_exists = player_exists
        # Built on first use: only a create with `source` needs the queue client.
        self.ingest = ingest

    def create(self, actor: Actor, payload: VideoCreation) -> Video:
        profile_id = payload.encoding_profile_id
        if profile_id is not None and not self.profile_exists(actor.project_id, profile_id):
            raise InvalidInput(
                [Problem("invalid-attribute", "The encoding profile does not exist.", "encodingProfileId")]
            )
        watermark = payload.watermark
        if watermark is not None and not self.watermark_exists(actor.project_id, watermark.id):
            # The pipeline would find no image and encode without it: say so now instead.
            raise InvalidInput(
                [Problem("invalid-attribute", "The watermark does not exist in this project.", "watermark.id")]
            )
        self._require_player(actor, payload.player_id)
        admitted = None
        if payload.source is not None:
            if self.ingest is None:
                raise InvalidInput(
                    [Problem("invalid-attribute", "Ingest from a URL or a videoId is not available.", "source")]
                )
            # Checked before anything is written: a refused source leaves no video behind.
            requests = self.ingest()
            admitted = (requests, requests.admit(actor, payload.source))
        video = ensure_storable(videos.new_video(actor.project_id, payload, self.clock()))
        entry = audit.record(actor, "video.create", "video", video.video_id, self.clock(), after=snapshot(video))
        created = events.VideoCreated(**self._envelope(actor), videoId=video.video_id, title=video.title)
        if admitted is None:
            self.repository.create(video, entry, [created])
        else:
            requests, source = admitted
            requests.start(video, entry, [created], source)
        return video

    def detail(self, actor: Actor, video_id: str) -> Detail:
        """The video with its media state (assets, encoding), read together."""
        found = self.repository.get_with_media(actor.project_id, video_id)
        if found is None or found[0].discarded:
            raise NotFound(name="videoId")
        return found

    def get(self, actor: Actor, video_id: str) -> Video:
        video = self.repository.get(actor.project_id, video_id)
        if video is None or video.discarded:
            raise NotFound(name="videoId")
        return video

    def _require_player(self, actor: Actor, player_id: str | None) -> None:
        """A video plays with a player of its own project (playback context)."""
        if player_id is not None and not self.player_exists(actor.project_id, player_id):
            raise InvalidInput([Problem("invalid-attribute", "The player does not exist in this project.", "playerId")])

    def update(self, actor: Actor, video_id: str, payload: VideoUpdate) -> Detail:
        self._require_player(actor, payload.player_id)
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, video_id)
            updated = ensure_storable(videos.apply_update(current, payload.changes(), self.clock()))
            entry = audit.record(
                actor,
                "video.update",
                "video",
                video_id,
                self.clock(),
                before=snapshot(current),
                after=snapshot(updated),
            )
            changed = videos.changed_fields(current, updated)
            emitted = (
                [events.VideoUpdated(**self._envelope(actor), videoId=video_id, changed=changed)] if changed else []
            )
            try:
                self.repository.save(updated, current.version, entry, emitted)
                return self.detail(actor, video_id)
            except Conflict:
                continue
        raise Conflict(name="videoId")

    def discard(self, actor: Actor, video_id: str) -> None:
        current = self.get(actor, video_id)
        discarded = videos.discard(current, self.clock())
        entry = audit.record(
            actor, "video.delete", "video", video_id, self.clock(), before=snapshot(current), after=snapshot(discarded)
        )
        deletes_at = to_atom(discarded.deletes_at) if discarded.deletes_at else None
        deleted = events.VideoDeleted(**self._envelope(actor), videoId=video_id, deletesAt=deletes_at)
        self.repository.save(discarded, current.version, entry, [deleted])

    def list(self, actor: Actor, query: VideoQuery, page: PageRequest) -> Page[Detail]:
        return self._page(actor, query, page, discarded=False)

    def list_discarded(self, actor: Actor, query: VideoQuery, page: PageRequest) -> Page[Detail]:
        return self._page(actor, query, page, discarded=True)

    def _page(self, actor: Actor, query: VideoQuery, page: PageRequest, discarded: bool) -> Page[Detail]:
        """Filtered and sorted on the listing index's rows; only the page's videos are read whole."""
        rows = self.repository.listing(actor.project_id, discarded, videos.listing_fields(query))
        chosen = paginate(videos.select(rows, query), page)
        found = self.repository.details(actor.project_id, [row.video_id for row in chosen.items])
        # The index is eventually consistent: a video discarded or restored a moment ago is left out.
        details = [(video, state) for video, state in found if video.discarded is discarded]
        return Page(details, chosen.current_page, chosen.page_size, chosen.items_total)

    def get_discarded(self, actor: Actor, video_id: str) -> Video:
        video = self.repository.get(actor.project_id, video_id)
        if video is None or not video.discarded:
            raise NotFound(name="videoId")
        return video

    def restore(self, actor: Actor, video_id: str) -> Video:
        current = self.get_discarded(actor, video_id)
        restored = videos.restore(current, self.clock())
        entry = audit.record(
            actor, "video.restore", "video", video_id, self.clock(), before=snapshot(current), after=snapshot(restored)
        )
        restored_event = events.VideoRestored(**self._envelope(actor), videoId=video_id)
        self.repository.save(restored, current.version, entry, [restored_event])
        return restored

    def tags(self, actor: Actor, query: TagQuery, page: PageRequest) -> Page[tuple[str, int]]:
        rows = self.repository.listing(actor.project_id, discarded=False, fields={"tags"})
        return paginate(videos.tag_counts(rows, query), page)

    def _envelope(self, actor: Actor) -> dict[str, str]:
        return events.envelope(actor.project_id, self.clock())
