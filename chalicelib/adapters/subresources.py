"""DynamoDB repositories for captions, chapters, thumbnails, watermarks and encoding profiles.

Each change and its audit entry go in one `Table.write`; versioned items carry `version` and are
written only if nobody changed them since they were read (None: only if absent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from chalicelib.adapters import records
from chalicelib.adapters.dynamodb import PK, SK, Delete, Put, Table, Write
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.encoding_profiles import EncodingProfile
from chalicelib.domain.thumbnails import Thumbnail
from chalicelib.domain.tracks import TextTrack, TrackKind
from chalicelib.domain.watermarks import Watermark

T = TypeVar("T")
_ABSENT = "attribute_not_exists(#pk)"


def _put(item: dict[str, Any], expected_version: int | None) -> Put:
    if expected_version is None:
        return Put(item=item, condition=_ABSENT, names={"#pk": PK})
    return Put(item=item, condition="#v = :expected", names={"#v": "version"}, values={":expected": expected_version})


def _delete(key: tuple[str, str], expected_version: int | None = None) -> Delete:
    if expected_version is None:
        return Delete(key={PK: key[0], SK: key[1]}, condition="attribute_exists(#pk)", names={"#pk": PK})
    return Delete(
        key={PK: key[0], SK: key[1]},
        condition="#v = :expected",
        names={"#v": "version"},
        values={":expected": expected_version},
    )


def _puts(item: Callable[[T], dict[str, Any]], changes: Sequence[tuple[T, int | None]]) -> list[Write]:
    return [_put(item(entity), expected) for entity, expected in changes]


class DynamoTrackRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, kind: TrackKind, video_id: str, language: str) -> TextTrack | None:
        item = self.table.get(*records.track_key(project_id, kind, video_id, language))
        return None if item is None else records.track_from_item(item)

    def list_all(self, project_id: str, kind: TrackKind, video_id: str) -> list[TextTrack]:
        pk, _ = records.track_key(project_id, kind, video_id, "")
        return [records.track_from_item(item) for item in self.table.query(pk)]

    def save(self, changes: Sequence[tuple[TextTrack, int | None]], audit: AuditEvent) -> None:
        """`changes` pairs each track with the version it was read at (None: it must be new)."""
        self.table.write([*_puts(records.track_item, changes), records.audit_put(audit)])

    def delete(self, track: TextTrack, audit: AuditEvent) -> None:
        key = records.track_key(track.project_id, track.kind, track.video_id, track.language)
        self.table.write([_delete(key, track.version), records.audit_put(audit)])


class DynamoThumbnailRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get_thumbnail(self, project_id: str, video_id: str) -> Thumbnail | None:
        item = self.table.get(*records.thumbnail_key(project_id, video_id))
        return None if item is None else records.thumbnail_from_item(item)

    def save_thumbnail(self, thumbnail: Thumbnail, audit: AuditEvent) -> None:
        # The last upload wins: a thumbnail has no version to race on.
        self.table.write([Put(item=records.thumbnail_item(thumbnail)), records.audit_put(audit)])


class DynamoWatermarkRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, watermark_id: str) -> Watermark | None:
        item = self.table.get(*records.watermark_key(project_id, watermark_id))
        return None if item is None else records.watermark_from_item(item)

    def list_all(self, project_id: str) -> list[Watermark]:
        pk, _ = records.watermark_key(project_id, "")
        return [records.watermark_from_item(item) for item in self.table.query(pk)]

    def create(self, watermark: Watermark, audit: AuditEvent) -> None:
        self.table.write([_put(records.watermark_item(watermark), None), records.audit_put(audit)])

    def delete(self, watermark: Watermark, audit: AuditEvent) -> None:
        key = records.watermark_key(watermark.project_id, watermark.watermark_id)
        self.table.write([_delete(key), records.audit_put(audit)])


class DynamoEncodingProfileRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, profile_id: str) -> EncodingProfile | None:
        item = self.table.get(*records.profile_key(project_id, profile_id))
        return None if item is None else records.profile_from_item(item)

    def list_all(self, project_id: str) -> list[EncodingProfile]:
        pk, _ = records.profile_key(project_id, "")
        return [records.profile_from_item(item) for item in self.table.query(pk)]

    def save(self, changes: Sequence[tuple[EncodingProfile, int | None]], audit: AuditEvent) -> None:
        self.table.write([*_puts(records.profile_item, changes), records.audit_put(audit)])

    def delete(self, profile: EncodingProfile, audit: AuditEvent) -> None:
        key = records.profile_key(profile.project_id, profile.profile_id)
        self.table.write([_delete(key, profile.version), records.audit_put(audit)])
