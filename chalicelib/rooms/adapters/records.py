"""Item layouts of rooms, join tokens and room sessions (docs/data-model.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, project_partition
from chalicelib.core.adapters.records import TTL, item_body
from chalicelib.core.clock import epoch_seconds
from chalicelib.rooms.domain.quality import Flow, Sample, slot
from chalicelib.rooms.domain.recordings import Recording
from chalicelib.rooms.domain.rooms import Room
from chalicelib.rooms.domain.sessions import Attendance, Session
from chalicelib.rooms.domain.tokens import JoinToken

ROOM_ENTITY = "room"


def room_key(project_id: str, room_id: str) -> tuple[str, str]:
    return project_partition(project_id, "ROOM"), room_id


def room_item(room: Room) -> dict[str, Any]:
    pk, sk = room_key(room.project_id, room.room_id)
    # A provisioning room expires (DynamoDB TTL); its removal releases the stage by name.
    ttl = epoch_seconds(room.expires_at) if room.expires_at else None
    return {PK: pk, SK: sk, "entity": ROOM_ENTITY, TTL: ttl, **room.model_dump(mode="json")}


def room_from_item(item: dict[str, Any]) -> Room:
    return Room.model_validate(item_body(item))


def token_key(project_id: str, room_id: str, token_id: str) -> tuple[str, str]:
    return project_partition(project_id, f"ROOM_TOKEN#{room_id}"), token_id


def token_item(token: JoinToken) -> dict[str, Any]:
    pk, sk = token_key(token.project_id, token.room_id, token.token_id)
    # Gone with its expiry: an expired token is refused from its own claims.
    return {
        PK: pk,
        SK: sk,
        "entity": "roomToken",
        TTL: epoch_seconds(token.expires_at),
        **token.model_dump(mode="json"),
    }


def token_from_item(item: dict[str, Any]) -> JoinToken:
    return JoinToken.model_validate(item_body(item))


SESSION_RETENTION = timedelta(days=400)


def active_session_key(project_id: str, room_id: str) -> tuple[str, str]:
    """The room's active session: what joins and the poll loop change, at a version."""
    return project_partition(project_id, "ROOM_SESSION_ACTIVE"), room_id


def session_key(project_id: str, session_id: str) -> tuple[str, str]:
    return project_partition(project_id, "ROOM_SESSION"), session_id


def room_sessions_index(project_id: str, room_id: str) -> str:
    return project_partition(project_id, f"ROOM_SESSIONS#{room_id}")


def ended_partition(project_id: str) -> str:
    """Ended sessions by end time: `GET /cdr?from=&to=` is a key range."""
    return project_partition(project_id, "ROOM_SESSION_ENDED")


def _summary(session: Session) -> dict[str, Any]:
    # Attendances live in items of their own: a session item stays small whatever its size.
    return session.model_dump(mode="json", exclude={"attendance"})


def active_session_item(session: Session) -> dict[str, Any]:
    """The active session's summary: its seat counters (`taken`), joins, the poll loop's state."""
    pk, sk = active_session_key(session.project_id, session.room_id)
    return {PK: pk, SK: sk, "entity": "roomSessionActive", **_summary(session)}


def attendance_partition(project_id: str, session_id: str) -> str:
    """A session's attendances, one item each, in join order: the CDR rows are one Query."""
    return project_partition(project_id, f"ROOM_ATTENDANCE#{session_id}")


def attendance_key(project_id: str, session_id: str, attendance: Attendance) -> tuple[str, str]:
    return (
        attendance_partition(project_id, session_id),
        f"{ended_sort_key(attendance.joined_at)}#{attendance.participant_id}",
    )


def attendance_item(session: Session, attendance: Attendance, version: int) -> dict[str, Any]:
    pk, sk = attendance_key(session.project_id, session.session_id, attendance)
    return {
        PK: pk,
        SK: sk,
        "entity": "roomAttendance",
        TTL: epoch_seconds(session.started_at + SESSION_RETENTION),
        **attendance.model_dump(mode="json"),
        "version": version,
    }


def attendance_from_item(item: dict[str, Any]) -> Attendance:
    return Attendance.model_validate(item_body(item))


def seat_key(project_id: str, session_id: str, group: str, user_ref: str) -> tuple[str, str]:
    """A user's seat of one group (sessions.seat_group) in a session: the joins that share it."""
    return project_partition(project_id, f"ROOM_SEAT#{session_id}"), f"{group}#{user_ref}"


# An ended session's record keeps a copy of its attendances inline up to this many joins (about
# 35 KB): the analytics context reads room minutes from it (chalicelib/analytics/adapters/rooms.py).
# Bigger sessions have them in their attendance items only.
INLINE_ATTENDANCE_LIMIT = 100


def session_item(session: Session) -> dict[str, Any]:
    """The session's record: written when it starts, written again when it ends."""
    pk, sk = session_key(session.project_id, session.session_id)
    inline = not session.active and len(session.attendance) <= INLINE_ATTENDANCE_LIMIT
    body = (
        session.model_dump(mode="json", exclude={"attendance": {"__all__": {"version", "seated"}}}) if inline else None
    )
    return {
        PK: pk,
        SK: sk,
        "entity": "roomSession",
        resources.GSI1_PARTITION_KEY: room_sessions_index(session.project_id, session.room_id),
        resources.GSI1_SORT_KEY: session.session_id,
        TTL: epoch_seconds(session.started_at + SESSION_RETENTION),
        **(_summary(session) if body is None else body),
    }


def ended_item(session: Session) -> dict[str, Any]:
    assert session.ended_at is not None
    return {
        PK: ended_partition(session.project_id),
        SK: f"{ended_sort_key(session.ended_at)}#{session.session_id}",
        "entity": "roomSessionEnded",
        TTL: epoch_seconds(session.started_at + SESSION_RETENTION),
        **_summary(session),
    }


def ended_sort_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def session_from_item(item: dict[str, Any], attendances: Iterable[Attendance] = ()) -> Session:
    """The session with its attendances: those of a session stored before they had items of their
    own are inline (version 0); an item of its own, if any, is newer."""
    body = item_body(item)
    inline = {
        pid: Attendance.model_validate(raw).model_copy(update={"version": 0, "seated": False})
        for pid, raw in (body.pop("attendance", None) or {}).items()
    }
    merged = {**inline, **{a.participant_id: a for a in attendances}}
    return Session.model_validate(body).model_copy(update={"attendance": merged})


def recording_key(project_id: str, recording_id: str) -> tuple[str, str]:
    """A recording by its composition's id: what a composition event finds it by."""
    return project_partition(project_id, "ROOM_RECORDING"), recording_id


def session_recordings_index(project_id: str, session_id: str) -> str:
    return project_partition(project_id, f"ROOM_RECORDINGS#{session_id}")


def recording_item(recording: Recording) -> dict[str, Any]:
    pk, sk = recording_key(recording.project_id, recording.recording_id)
    return {
        PK: pk,
        SK: sk,
        "entity": "roomRecording",
        resources.GSI1_PARTITION_KEY: session_recordings_index(recording.project_id, recording.session_id),
        resources.GSI1_SORT_KEY: f"{ended_sort_key(recording.started_at)}#{recording.recording_id}",
        TTL: epoch_seconds(recording.started_at + SESSION_RETENTION),
        **recording.model_dump(mode="json"),
    }


def recording_from_item(item: dict[str, Any]) -> Recording:
    return Recording.model_validate(item_body(item))


def stats_partition(project_id: str, session_id: str) -> str:
    """A session's quality samples: the records read them with one Query."""
    return project_partition(project_id, f"ROOM_STATS#{session_id}")


def stats_item(project_id: str, session_id: str, sample: Sample) -> dict[str, Any]:
    return {
        PK: stats_partition(project_id, session_id),
        # One item per participant and slot: a second post in the slot is refused.
        SK: f"{sample.participant_id}#{slot(sample.at):012d}",
        "entity": "roomStats",
        TTL: epoch_seconds(sample.at + SESSION_RETENTION),
        "participant_id": sample.participant_id,
        "at": sample.at.isoformat(),
        "send": asdict(sample.send) if sample.send else None,
        "receive": asdict(sample.receive) if sample.receive else None,
        "round_trip_time": sample.round_trip_time,
        "jitter": sample.jitter,
    }


def sample_from_item(item: dict[str, Any]) -> Sample:
    def flow(raw: dict[str, Any] | None) -> Flow | None:
        if raw is None:
            return None
        figures = (int(raw["bitrate"]), int(raw["packets"]), int(raw["packets_lost"]))
        return Flow(*figures, audio=flow(raw.get("audio")), video=flow(raw.get("video")))

    def seconds(raw: Any) -> float | None:
        return None if raw is None else float(raw)

    return Sample(
        participant_id=item["participant_id"],
        at=datetime.fromisoformat(item["at"]),
        send=flow(item.get("send")),
        receive=flow(item.get("receive")),
        round_trip_time=seconds(item.get("round_trip_time")),
        jitter=seconds(item.get("jitter")),
    )
