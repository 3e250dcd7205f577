"""DynamoDB implementations of the repository ports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from chalicelib import resources
from chalicelib.adapters import records
from chalicelib.adapters.dynamodb import PK, Put, Table, Update, project_partition
from chalicelib.adapters.uploads import media_source_update
from chalicelib.clock import to_atom
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.credentials import ApiKey, Project, RefreshToken
from chalicelib.domain.events import DomainEvent
from chalicelib.domain.media import IngestMethod, IngestStatus, MediaState
from chalicelib.domain.videos import Video

_CREATE = {"condition": "attribute_not_exists(#pk)", "names": {"#pk": PK}}


def _versioned_put(item: dict[str, object], expected_version: int) -> Put:
    return Put(item=item, condition="#v = :expected", names={"#v": "version"}, values={":expected": expected_version})


class DynamoVideoRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, video_id: str) -> Video | None:
        item = self.table.get(*records.video_key(project_id, video_id))
        return None if item is None else records.video_from_item(item)

    def list_all(self, project_id: str) -> list[Video]:
        return [video for video, _ in self.list_with_media(project_id)]

    def list_with_media(self, project_id: str) -> list[tuple[Video, MediaState | None]]:
        """Each video with its media state; both live in the same partition."""
        pk, _ = records.video_key(project_id, "")
        return _pair(self.table.query(pk))

    def get_with_media(self, project_id: str, video_id: str) -> tuple[Video, MediaState | None] | None:
        pk, sk = records.video_key(project_id, video_id)
        pairs = _pair(self.table.query(pk, sk_between=(sk, sk + "#~"), consistent=True))
        return pairs[0] if pairs else None

    def create(self, video: Video, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        """The video, its audit entry and its events are written together or not at all."""
        self.table.write(
            [
                Put(item=records.video_item(video), **_CREATE),  # type: ignore[arg-type]
                records.audit_put(audit),
                *(records.outbox_put(event) for event in events),
            ]
        )

    def create_ingesting(
        self,
        video: Video,
        audit: AuditEvent,
        events: Sequence[DomainEvent],
        method: IngestMethod,
        source_key: str,
        now: datetime,
    ) -> None:
        """A video whose source the ingest consumer will fetch or copy: the video, its media state
        (`ingesting`) and its audit entry and events are one transaction, so no reader ever sees the
        video without its ingest status."""
        self.table.write(
            [
                Put(item=records.video_item(video), **_CREATE),  # type: ignore[arg-type]
                media_source_update(
                    video.project_id, video.video_id, IngestStatus.INGESTING, method, None, source_key, now
                ),
                records.audit_put(audit),
                *(records.outbox_put(event) for event in events),
            ]
        )

    def save(self, video: Video, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        self.table.write(
            [
                _versioned_put(records.video_item(video), expected_version),
                records.audit_put(audit),
                *(records.outbox_put(event) for event in events),
            ]
        )


def _pair(items: Iterable[dict[str, Any]]) -> list[tuple[Video, MediaState | None]]:
    videos: dict[str, Video] = {}
    media: dict[str, MediaState] = {}
    for item in items:
        if item.get("entity") == "video":
            video = records.video_from_item(item)
            videos[video.video_id] = video
        elif item.get("entity") == "videoMedia":
            state = records.media_from_item(item)
            media[state.video_id] = state
    return [(video, media.get(video_id)) for video_id, video in videos.items()]


class DynamoCredentialRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create_project(self, project: Project, first_key: ApiKey) -> None:
        self.table.write(
            [
                Put(item=records.project_item(project), **_CREATE),  # type: ignore[arg-type]
                Put(item=records.key_item(first_key), **_CREATE),  # type: ignore[arg-type]
            ]
        )

    def get_project(self, project_id: str) -> Project | None:
        item = self.table.get(f"P#{project_id}", "PROJECT")
        return None if item is None else records.project_from_item(item)

    def list_projects(self) -> list[Project]:
        items = self.table.query(records.PROJECTS_INDEX_PK, index=resources.GSI1)
        return [records.project_from_item(item) for item in items]

    def get_key(self, project_id: str, key_id: str) -> ApiKey | None:
        item = self.table.get(*records.key_key(project_id, key_id))
        return None if item is None else records.key_from_item(item)

    def list_keys(self, project_id: str) -> list[ApiKey]:
        pk, _ = records.key_key(project_id, "")
        return [records.key_from_item(item) for item in self.table.query(pk)]

    def create_key(self, key: ApiKey, audit: AuditEvent | None) -> None:
        writes: list[Put | Update] = [Put(item=records.key_item(key), **_CREATE)]  # type: ignore[arg-type]
        if audit is not None:
            writes.append(records.audit_put(audit))
        self.table.write(writes)

    def save_key(self, key: ApiKey, expected_version: int, audit: AuditEvent) -> None:
        self.table.write([_versioned_put(records.key_item(key), expected_version), records.audit_put(audit)])

    def create_refresh_token(self, token: RefreshToken) -> None:
        self.table.write([Put(item=records.refresh_item(token), **_CREATE)])  # type: ignore[arg-type]

    def get_refresh_token(self, project_id: str, token_id: str) -> RefreshToken | None:
        item = self.table.get(*records.refresh_key(project_id, token_id))
        return None if item is None else records.refresh_from_item(item)

    def consume_refresh_token(self, token: RefreshToken, used_at: datetime, successor: RefreshToken) -> None:
        """Marks the token used and stores its successor atomically; a second use loses the race."""
        pk, sk = records.refresh_key(token.project_id, token.token_id)
        self.table.write(
            [
                Update(
                    key={PK: pk, resources.SORT_KEY: sk},
                    expression="SET #used = :now",
                    condition="attribute_exists(#pk) AND attribute_not_exists(#used)",
                    names={"#used": "usedAt", "#pk": PK},
                    values={":now": to_atom(used_at)},
                ),
                Put(item=records.refresh_item(successor), **_CREATE),  # type: ignore[arg-type]
            ]
        )


class DynamoAuditLog:
    def __init__(self, table: Table) -> None:
        self.table = table

    def append(self, event: AuditEvent) -> None:
        self.table.write([records.audit_put(event)])

    def between(self, project_id: str, since: datetime, until: datetime) -> Sequence[AuditEvent]:
        # "~" sorts after every character used in event ids, so the upper bound is inclusive.
        bounds = (to_atom(since), f"{to_atom(until)}#~")
        items = self.table.query(project_partition(project_id, "AUDIT"), sk_between=bounds, forward=False)
        return [records.audit_from_item(item) for item in items]


class DynamoRateCounter:
    def __init__(self, table: Table) -> None:
        self.table = table

    def hit(self, project_id: str, bucket: str, window_start: int, window_seconds: int) -> int:
        attributes = self.table.update(
            Update(
                key={PK: project_partition(project_id, f"RATE#{bucket}"), resources.SORT_KEY: str(window_start)},
                expression="ADD #count :one SET #ttl = :ttl",
                names={"#count": "count", "#ttl": resources.TTL_ATTRIBUTE},
                values={":one": 1, ":ttl": window_start + 2 * window_seconds},
            ),
            return_new=True,
        )
        assert attributes is not None
        return int(attributes["count"])
