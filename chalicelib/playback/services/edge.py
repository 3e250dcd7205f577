"""Keeps the edge check's list of private videos current (docs/playback.md, "On AWS").

Each video event that may change a video's privacy (its creation, an update of `public`) names
the video; the service reads the video as it is now and puts or deletes its entry. Reading the
current state rather than applying the event makes redeliveries and events out of order harmless:
the last one handled writes what the table holds. A removed video item deletes the entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.playback.domain.edge import PRIVATE_VALUE, private_entry
from chalicelib.playback.ports import EdgeStore, VideoPrivacy


@dataclass(frozen=True)
class EdgeService:
    videos: VideoPrivacy
    store: EdgeStore

    def sync(self, project_id: str, video_id: str, listed: bool = True) -> bool:
        """Writes the video's entry from its item; True when it is now listed as private.
        `listed=False` (a new video: no entry can exist) skips the delete of a public one."""
        private = self.videos.privacy(project_id, video_id)
        if private:
            self.store.put(private_entry(video_id), PRIVATE_VALUE)
            return True
        if listed:
            self.store.delete(private_entry(video_id))
        return False

    def forget(self, video_id: str) -> None:
        self.store.delete(private_entry(video_id))

    def backfill(self, videos: Iterable[tuple[str, str]]) -> int:
        """Syncs each (project, video) listed (the private ones, for a new store); how many."""
        return sum(1 for project_id, video_id in videos if self.sync(project_id, video_id))
