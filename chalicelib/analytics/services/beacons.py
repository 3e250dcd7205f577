"""Collection: a beacon's events, checked, attributed to the media's project, into the store."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock

from chalicelib.analytics.domain.beacons import (
    Beacon,
    EventRecord,
    Viewer,
    WatchBeacon,
    records_from_beacon,
    records_from_watch,
)
from chalicelib.analytics.ports import EventSink, MediaDirectory, ViewerParser
from chalicelib.core.domain.errors import NotFound

# A media's project never changes: owners are remembered for the life of the process.
MAX_REMEMBERED_MEDIA = 10_000


class BeaconService:
    def __init__(
        self,
        media: MediaDirectory,
        sink: EventSink,
        viewers: ViewerParser,
        now_ms: Callable[[], int],
        limit: Callable[[str], None],
    ) -> None:
        self.media = media
        self.sink = sink
        self.viewers = viewers
        self.now_ms = now_ms
        # Counts the beacon against its project's limit (raises TooManyRequests past it).
        self.limit = limit
        self._owners: OrderedDict[str, str] = OrderedDict()
        self._lock = Lock()

    def collect(self, beacon: Beacon, user_agent: str, country: str) -> int:
        project_id = self._project_of(beacon.media)
        records = records_from_beacon(beacon, project_id, self._viewer(user_agent, country), self.now_ms())
        return self._store(records)

    def collect_watch(self, beacon: WatchBeacon, user_agent: str, country: str) -> int:
        project_id = self._project_of(beacon.mid)
        records = records_from_watch(beacon, project_id, self._viewer(user_agent, country), self.now_ms())
        return self._store(records)

    def _store(self, records: list[EventRecord]) -> int:
        self.sink.put(records)
        return len(records)

    def _viewer(self, user_agent: str, country: str) -> Viewer:
        return self.viewers.viewer(user_agent, country)

    def _project_of(self, media_id: str) -> str:
        """Refuses unknown media (404, as an unknown id anywhere), then counts the beacon."""
        with self._lock:
            project_id = self._owners.get(media_id)
        if project_id is None:
            project_id = self.media.project_of(media_id)
            if project_id is None:
                raise NotFound(name="mediaId")
            with self._lock:
                self._owners[media_id] = project_id
                while len(self._owners) > MAX_REMEMBERED_MEDIA:
                    self._owners.popitem(last=False)
        self.limit(project_id)
        return project_id
