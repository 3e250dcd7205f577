"""Keeps the edge check's list of private videos current (docs/playback.md, "On AWS").

Each video event that may change a video's privacy (its creation, an update of `public`) names
the video; the service reads the video as it is now and puts or deletes its entry. Reading the
current state rather than applying the event makes redeliveries and events out of order harmless:
the last one handled writes what the table holds. A removed video item deletes the entry. Live
streams are listed the same way (`private/<liveStreamId>`: their files in the media bucket, the
uploaded thumbnail, follow the videos' rule at the edge), from `live-stream.created`,
`live-stream.updated` and removed stream items.

Geo restrictions reach the edge the same way: a `playback-geo.updated` event makes the store hold
the project's policy as it is now (`geo-project/<projectId>`) and, while it restricts anything, the
project of each of its videos (`project/<videoId>`); a video created in a restricted project gets
its entry too. Lifting a restriction deletes the policy only: the videos' entries then lead nowhere
(the edge finds no policy) and are deleted with their video, not in a fan-out of deletes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.playback.domain.edge import (
    PRIVATE_VALUE,
    geo_project_entry,
    geo_value,
    private_entry,
    video_project_entry,
)
from chalicelib.playback.ports import BatchEdgeStore, GeoPolicies, LiveStreamPrivacy, VideoPrivacy


@dataclass(frozen=True)
class EdgeService:
    videos: VideoPrivacy
    store: BatchEdgeStore
    policies: GeoPolicies
    live_streams: LiveStreamPrivacy | None = None

    def sync(self, project_id: str, video_id: str, listed: bool = True) -> bool:
        """Writes the video's entry from its item; True when it is now listed as private.
        `listed=False` (a new video: no entry can exist) skips the delete of a public one."""
        return self._list(video_id, bool(self.videos.privacy(project_id, video_id)), listed)

    def sync_live(self, project_id: str, live_stream_id: str, listed: bool = True) -> bool:
        """The same for a live stream (its files in the media bucket: the uploaded thumbnail)."""
        if self.live_streams is None:
            raise RuntimeError("EdgeService needs the live streams to sync one")
        return self._list(live_stream_id, bool(self.live_streams.privacy(project_id, live_stream_id)), listed)

    def _list(self, subject_id: str, private: bool, listed: bool) -> bool:
        if private:
            self.store.put(private_entry(subject_id), PRIVATE_VALUE)
            return True
        if listed:
            self.store.delete(private_entry(subject_id))
        return False

    def forget(self, video_id: str) -> None:
        self.store.delete(private_entry(video_id))

    def sync_geo(self, project_id: str) -> str | None:
        """Writes the project's policy as it is now, with its videos' entries first so the project
        switches at once; returns the value written (None: the restriction was lifted)."""
        policy = self.policies.get(project_id)
        value = geo_value(policy.mode, policy.countries)
        if value is None:
            self.store.delete(geo_project_entry(project_id))
            return None
        entries = {video_project_entry(video_id): project_id for video_id in self.videos.video_ids(project_id)}
        self.store.put_many({**entries, geo_project_entry(project_id): value})
        return value

    def map_video(self, project_id: str, video_id: str) -> bool:
        """A new video's entry when its project restricts playback now; True when written."""
        if geo_value(self.policies.get(project_id).mode, ()) is None:
            return False
        self.store.put(video_project_entry(video_id), project_id)
        return True

    def unmap_video(self, project_id: str, video_id: str) -> None:
        """A removed video's entry, when its project ever set a restriction (else none was written)."""
        if self.policies.get(project_id).updated_at is not None:
            self.store.delete(video_project_entry(video_id))

    def backfill(self, videos: Iterable[tuple[str, str]]) -> int:
        """Syncs each (project, video) listed (the private ones, for a new store); how many."""
        return sum(1 for project_id, video_id in videos if self.sync(project_id, video_id))

    def backfill_live(self, live_streams: Iterable[tuple[str, str]]) -> int:
        """The same for (project, live stream) pairs."""
        return sum(1 for project_id, stream_id in live_streams if self.sync_live(project_id, stream_id))
