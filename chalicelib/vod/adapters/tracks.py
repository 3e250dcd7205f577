"""DynamoDB repository of captions and chapters."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.core.adapters.dynamodb import Table
from chalicelib.core.adapters.records import audit_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.vod.adapters.records import track_from_item, track_item, track_key
from chalicelib.vod.adapters.writes import _delete, _puts
from chalicelib.vod.domain.tracks import TextTrack, TrackKind


class DynamoTrackRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, kind: TrackKind, video_id: str, language: str) -> TextTrack | None:
        item = self.table.get(*track_key(project_id, kind, video_id, language))
        return None if item is None else track_from_item(item)

    def list_all(self, project_id: str, kind: TrackKind, video_id: str) -> list[TextTrack]:
        pk, _ = track_key(project_id, kind, video_id, "")
        return [track_from_item(item) for item in self.table.query(pk)]

    def save(self, changes: Sequence[tuple[TextTrack, int | None]], audit: AuditEvent) -> None:
        """`changes` pairs each track with the version it was read at (None: it must be new)."""
        self.table.write([*_puts(track_item, changes), audit_put(audit)])

    def delete(self, track: TextTrack, audit: AuditEvent) -> None:
        key = track_key(track.project_id, track.kind, track.video_id, track.language)
        self.table.write([_delete(key, track.version), audit_put(audit)])
