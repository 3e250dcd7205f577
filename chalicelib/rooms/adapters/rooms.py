"""DynamoDB repositories of rooms, their join tokens, their sessions, recordings and quality samples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, Delete, Put, Table, Update, Write
from chalicelib.core.adapters.records import audit_put, outbox_put
from chalicelib.core.adapters.versioned import CREATE_ONLY, versioned_delete, versioned_put
from chalicelib.core.clock import to_atom
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.events import DomainEvent
from chalicelib.rooms.adapters.records import (
    active_session_item,
    active_session_key,
    ended_item,
    ended_partition,
    ended_sort_key,
    recording_from_item,
    recording_item,
    recording_key,
    room_from_item,
    room_item,
    room_key,
    room_sessions_index,
    sample_from_item,
    session_from_item,
    session_item,
    session_key,
    session_recordings_index,
    stats_item,
    stats_partition,
    token_from_item,
    token_item,
    token_key,
)
from chalicelib.rooms.domain.quality import Sample
from chalicelib.rooms.domain.recordings import Recording
from chalicelib.rooms.domain.rooms import Room
from chalicelib.rooms.domain.sessions import Session
from chalicelib.rooms.domain.tokens import JoinToken


class DynamoRoomRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, room_id: str) -> Room | None:
        item = self.table.get(*room_key(project_id, room_id))
        return None if item is None else room_from_item(item)

    def list_all(self, project_id: str) -> list[Room]:
        pk, _ = room_key(project_id, "")
        return [room_from_item(item) for item in self.table.query(pk)]

    def reserve(self, room: Room) -> None:
        self.table.write([Put(item=room_item(room), **CREATE_ONLY)])  # type: ignore[arg-type]

    def save(self, room: Room, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        """The room, its audit entry and its events are written together or not at all."""
        self.table.write(
            [versioned_put(room_item(room), expected_version), audit_put(audit), *(outbox_put(e) for e in events)]
        )

    def delete(
        self, room: Room, expected_version: int, audit: AuditEvent | None, events: Sequence[DomainEvent]
    ) -> None:
        writes: list[Write] = [versioned_delete(*room_key(room.project_id, room.room_id), expected_version)]
        if audit is not None:
            writes.append(audit_put(audit))
        writes.extend(outbox_put(event) for event in events)
        self.table.write(writes)


class DynamoJoinTokenRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, token: JoinToken, audit: AuditEvent) -> None:
        self.table.write([Put(item=token_item(token), **CREATE_ONLY), audit_put(audit)])  # type: ignore[arg-type]

    def get(self, project_id: str, room_id: str, token_id: str) -> JoinToken | None:
        item = self.table.get(*token_key(project_id, room_id, token_id))
        return None if item is None else token_from_item(item)

    def of_user(self, project_id: str, room_id: str, user_ref: str) -> list[JoinToken]:
        pk, _ = token_key(project_id, room_id, "")
        tokens = (token_from_item(item) for item in self.table.query(pk, consistent=True))
        return [token for token in tokens if token.user_ref == user_ref]

    def revoke(self, token: JoinToken, audit: AuditEvent) -> bool:
        pk, sk = token_key(token.project_id, token.room_id, token.token_id)
        gone = Delete(key={PK: pk, SK: sk}, condition="attribute_exists(#pk)", names={"#pk": PK})
        return self.table.write_if([gone, audit_put(audit)])

    def use_once(self, token: JoinToken, now: datetime) -> bool:
        pk, sk = token_key(token.project_id, token.room_id, token.token_id)
        mark = Update(
            key={PK: pk, SK: sk},
            expression="SET used_at = :now",
            # The record must still exist (not revoked) and be unused.
            condition="attribute_exists(#pk) AND attribute_not_exists(used_at)",
            names={"#pk": PK},
            values={":now": to_atom(now)},
        )
        return self.table.write_if([mark])


class DynamoSessionRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def active(self, project_id: str, room_id: str) -> Session | None:
        item = self.table.get(*active_session_key(project_id, room_id))
        return None if item is None else session_from_item(item)

    def get(self, project_id: str, session_id: str) -> Session | None:
        item = self.table.get(*session_key(project_id, session_id))
        if item is None:
            return None
        session = session_from_item(item)
        # An active session's record is as it started; its attendance lives in the active item.
        live = self.active(project_id, session.room_id) if session.active else None
        return live if live is not None and live.session_id == session_id else session

    def of_room(self, project_id: str, room_id: str) -> list[Session]:
        found = [
            session_from_item(item)
            for item in self.table.query(room_sessions_index(project_id, room_id), index=resources.GSI1)
        ]
        live = self.active(project_id, room_id) if any(s.active for s in found) else None
        return [live if live is not None and live.session_id == s.session_id else s for s in found]

    def ended_between(self, project_id: str, since: datetime, until: datetime) -> list[Session]:
        # Keys are "<end>#<sessionId>": one ending at `until` sorts after the bound, and is left out.
        span = (ended_sort_key(since), ended_sort_key(until))
        return [session_from_item(item) for item in self.table.query(ended_partition(project_id), span)]

    def save(self, session: Session, expected_version: int | None, events: Sequence[DomainEvent]) -> None:
        outbox = [outbox_put(event) for event in events]
        if expected_version is None:
            created = Put(item=active_session_item(session), **CREATE_ONLY)  # type: ignore[arg-type]
            self.table.write([created, Put(item=session_item(session)), *outbox])
        elif session.active:
            self.table.write([versioned_put(active_session_item(session), expected_version), *outbox])
        else:
            gone = versioned_delete(*active_session_key(session.project_id, session.room_id), expected_version)
            self.table.write([gone, Put(item=session_item(session)), Put(item=ended_item(session)), *outbox])


class DynamoRecordingRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, recording_id: str) -> Recording | None:
        item = self.table.get(*recording_key(project_id, recording_id))
        return None if item is None else recording_from_item(item)

    def of_session(self, project_id: str, session_id: str) -> list[Recording]:
        index = session_recordings_index(project_id, session_id)
        return [recording_from_item(item) for item in self.table.query(index, index=resources.GSI1)]

    def save(
        self,
        recording: Recording,
        expected_version: int | None,
        audit: AuditEvent | None,
        events: Sequence[DomainEvent],
    ) -> None:
        """Creates (`expected_version` None) or updates the recording, with its audit entry and
        events, in one transaction; Conflict when another change came first."""
        item = recording_item(recording)
        put = (
            Put(item=item, **CREATE_ONLY)  # type: ignore[arg-type]
            if expected_version is None
            else versioned_put(item, expected_version)
        )
        writes: list[Write] = [put, *(outbox_put(event) for event in events)]
        if audit is not None:
            writes.append(audit_put(audit))
        self.table.write(writes)


class DynamoQualityRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, project_id: str, session_id: str, sample: Sample) -> bool:
        created = Put(item=stats_item(project_id, session_id, sample), **CREATE_ONLY)  # type: ignore[arg-type]
        return self.table.write_if([created])

    def of_session(self, project_id: str, session_id: str) -> list[Sample]:
        return [sample_from_item(item) for item in self.table.query(stats_partition(project_id, session_id))]
