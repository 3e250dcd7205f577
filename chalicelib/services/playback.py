"""What players fetch besides the renditions: the HLS master playlist's subtitle group."""

from __future__ import annotations


class NoMasterPlaylist:
    """Leaves the master playlist alone: replaced when the VOD pipeline lands."""

    def refresh(self, project_id: str, video_id: str) -> None:
        return None
