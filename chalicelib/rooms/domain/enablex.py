"""EnableX Video API v2 ↔ Videoplane rooms: pure translations for the `/enablex/v2/…` facade.

The facade owns no rule of its own: an EnableX payload becomes the Videoplane payload the rooms
services already validate (`RoomCreation`, `RoomUpdate`, `TokenRequest`), and their results become
EnableX's shapes (snake_case, counts as strings, `result` codes). docs/rooms.md, "EnableX facade",
has the tables; research: ../shared/reference/live-rooms-playback.md §D.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr, StringConstraints

from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.rooms.domain.quality import FlowFigures, Quality
from chalicelib.rooms.domain.recordings import Archived
from chalicelib.rooms.domain.rooms import Lifetime, Mode, Room, RoomCreation, RoomUpdate, window
from chalicelib.rooms.domain.sessions import CallRecord
from chalicelib.rooms.domain.tokens import Role, TokenRequest

# EnableX's date-times: "YYYY-MM-DD HH:MM:SS", UTC.
DATE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
SUCCESS = 0
BOTH_LIFETIMES = "A room is scheduled or ad hoc, not both."
# Counts EnableX sends either as numbers or as strings of digits ("participants": "5").
_DIGITS = re.compile(r"^\d{1,9}$")


def _count(value: Any) -> Any:
    """ "5" → 5; anything else is left for the type check to refuse."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return value


Count = Annotated[StrictInt, BeforeValidator(_count), Field(ge=0)]
Text = Annotated[StrictStr, StringConstraints(max_length=1024)]


class EnableXSettings(BaseModel):
    """`settings` of an EnableX room. Keys EnableX has and Videoplane does not act on are taken and
    ignored (an app server sends them unchanged); a key EnableX does not have is refused (10009)."""

    model_config = ConfigDict(extra="forbid")
    mode: Mode | None = None
    scheduled: StrictBool | None = None
    adhoc: StrictBool | None = None
    scheduled_time: Text | None = None
    duration: Count | None = None
    moderators: Count | None = None
    participants: Count | None = None
    auto_recording: StrictBool | None = None
    quality: str | None = None
    wait_for_moderator: StrictBool | None = None
    # The official sample app's spelling.
    wait_moderator: StrictBool | None = None
    # Taken, not acted on (docs/rooms.md, "EnableX facade").
    description: Any = None
    billing_code: Any = None
    canvas: Any = None
    screen_share: Any = None
    abwd: Any = None
    max_active_talkers: Any = None
    active_talker: Any = None
    knock: Any = None
    media_zone: Any = None
    single_file_recording: Any = None
    role_based_recording: Any = None
    live_recording: Any = None


class EnableXRoom(BaseModel):
    """`POST /enablex/v2/rooms` body (EnableX's "Create Room")."""

    model_config = ConfigDict(extra="ignore")
    name: Any = None
    owner_ref: Any = None
    settings: EnableXSettings = Field(default_factory=EnableXSettings)
    # Taken, not acted on: SIP dial-in and custom data.
    sip: Any = None
    data: Any = None


class EnableXToken(BaseModel):
    """`POST /enablex/v2/rooms/{room_id}/tokens` body."""

    model_config = ConfigDict(extra="ignore")
    name: Any = None
    role: Any = None
    user_ref: Any = None


# -- EnableX → Videoplane --------------------------------------------------------------------------

ROLES = {"moderator": Role.MODERATOR, "participant": Role.PARTICIPANT, "viewer": Role.VIEWER, "audience": Role.VIEWER}


def role_in(name: object) -> object:
    """EnableX's role names → Videoplane's (`audience` is a viewer); an unknown one is left for the
    token request's own check to refuse."""
    return ROLES[name].value if isinstance(name, str) and name in ROLES else name


def scheduled_start(value: str) -> datetime | str:
    """EnableX's "YYYY-MM-DD HH:MM:SS" (UTC) → an aware date-time; other text is left as it is (the
    room's own check refuses it)."""
    try:
        return datetime.strptime(value, DATE_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return value


def lifetime_in(scheduled: bool | None, adhoc: bool | None) -> Lifetime | None:
    """`scheduled` and `adhoc` both false: permanent (EnableX's default). Both true is refused by the
    caller."""
    if scheduled is None and adhoc is None:
        return None
    if scheduled:
        return Lifetime.SCHEDULED
    return Lifetime.ADHOC if adhoc else Lifetime.PERMANENT


# EnableX's settings keys taken as they are → Videoplane's names.
_SAME = (("auto_recording", "autoRecording"), ("quality", "quality"))
# Seats: a count of 0 (EnableX: unlimited) leaves the mode's default.
_SEATS = (("moderators", "maxModerators"), ("participants", "maxParticipants"))


def settings_in(s: EnableXSettings, *, creating: bool) -> dict[str, Any]:
    """EnableX settings → Videoplane's (camelCase wire names), only the keys that were sent; a
    duration of 0 means no limit."""
    if s.scheduled and s.adhoc:
        raise InvalidInput([Problem("invalid-attribute", BOTH_LIFETIMES, "settings[adhoc]")])
    out: dict[str, Any] = {}
    mode = s.mode or (Mode.GROUP if creating else None)  # group: EnableX's default
    if mode is not None:
        out["mode"] = mode.value
    lifetime = lifetime_in(s.scheduled, s.adhoc)
    if lifetime is not None:
        out["lifetime"] = lifetime.value
    if s.scheduled_time is not None:
        out["startsAt"] = scheduled_start(s.scheduled_time)
    if "duration" in s.model_fields_set:
        out["duration"] = s.duration or None
    out.update({ours: getattr(s, theirs) for theirs, ours in _SEATS if getattr(s, theirs)})
    out.update({ours: getattr(s, theirs) for theirs, ours in _SAME if getattr(s, theirs) is not None})
    wait = s.wait_for_moderator if s.wait_for_moderator is not None else s.wait_moderator
    if wait is not None:
        out["waitForModerator"] = wait
    return out


def creation_in(body: EnableXRoom) -> dict[str, Any]:
    """The `RoomCreation` payload of an EnableX room (validated by the caller)."""
    return {"name": body.name, "ownerRef": body.owner_ref, "settings": settings_in(body.settings, creating=True)}


def update_in(raw: dict[str, Any], body: EnableXRoom) -> dict[str, Any]:
    """The `RoomUpdate` payload of an EnableX PATCH: only what it sent."""
    out: dict[str, Any] = {k: getattr(body, k) for k in ("name",) if k in raw}
    if "owner_ref" in raw:
        out["ownerRef"] = body.owner_ref
    if "settings" in raw:
        out["settings"] = settings_in(body.settings, creating=False)
    return out


def token_in(body: EnableXToken) -> dict[str, Any]:
    """The `TokenRequest` payload of an EnableX token request (24 h, EnableX's and ours)."""
    return {"userRef": body.user_ref, "name": body.name, "role": role_in(body.role)}


def parse_creation(body: EnableXRoom) -> RoomCreation:
    return RoomCreation.model_validate(creation_in(body))


def parse_update(raw: dict[str, Any], body: EnableXRoom) -> RoomUpdate:
    return RoomUpdate.model_validate(update_in(raw, body))


def parse_token(body: EnableXToken) -> TokenRequest:
    return TokenRequest.model_validate(token_in(body))


def period(since: date, until: date) -> tuple[datetime, datetime]:
    """EnableX's `/{from}/{to}` dates (UTC, both days included) → [start, end)."""
    start = datetime.combine(since, time(), tzinfo=UTC)
    return start, datetime.combine(until, time(), tzinfo=UTC) + timedelta(days=1)


# -- Videoplane → EnableX --------------------------------------------------------------------------


def _dt(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime(DATE_TIME_FORMAT)


def room_out(room: Room) -> dict[str, Any]:
    """A room in EnableX's shape: counts and the duration as strings, as EnableX sends them."""
    s = room.settings
    settings: dict[str, Any] = {
        "mode": s.mode.value,
        "scheduled": s.lifetime is Lifetime.SCHEDULED,
        "adhoc": s.lifetime is Lifetime.ADHOC,
        "duration": str(s.duration or 0),
        "moderators": str(s.max_moderators),
        "participants": str(s.max_participants),
        "auto_recording": s.auto_recording,
        "quality": s.quality,
        "wait_for_moderator": s.wait_for_moderator,
    }
    if s.starts_at is not None:
        settings["scheduled_time"] = _dt(s.starts_at)
    out: dict[str, Any] = {
        "room_id": room.room_id,
        "name": room.name,
        "owner_ref": room.owner_ref or "",
        "settings": settings,
        "sip": {"enabled": False},
        "created": _dt(room.created_at),
        "updated": _dt(room.updated_at),
    }
    bounds = window(s)
    if bounds is not None:
        out["joinable"] = {"from": _dt(bounds[0]), "until": _dt(bounds[1])}
    return out


def _minutes(seconds: int) -> float:
    return round(seconds / 60, 2)


def _text(value: float | int | None) -> str:
    return "" if value is None else str(value)


def _figures_out(f: FlowFigures | None) -> dict[str, str]:
    if f is None:
        return {}
    return {
        "avg_bitrate": str(f.avg_bitrate),
        "avg_bitrate_quality": f.rating,
        "max_bitrate": str(f.max_bitrate),
        "min_bitrate": str(f.min_bitrate),
        "p95_bitrate": str(f.p95_bitrate),
        "packet_loss": _text(f.loss_percent),
    }


def _flow_out(f: FlowFigures | None) -> dict[str, Any]:
    """EnableX's `video` and `audio` figures, beside both kinds together."""
    if f is None:
        return {}
    return {**_figures_out(f), "video": _figures_out(f.video), "audio": _figures_out(f.audio)}


def stats_quality_out(q: Quality | None) -> dict[str, Any]:
    """EnableX's `stats_quality`, from the samples the client reported: per direction, `video` and
    `audio` (EnableX's levels; empty when the client did not tell the kinds apart) beside both
    together; bitrates in bits per second, loss in percent, times in milliseconds, as strings.
    Empty without samples."""
    if q is None:
        return {}
    return {
        "send": _flow_out(q.send),
        "receive": _flow_out(q.receive),
        "rtt": {"avg": _text(q.avg_rtt_ms), "p95": _text(q.p95_rtt_ms)},
        "jitter": {"avg": _text(q.avg_jitter_ms)},
        "samples": str(q.samples),
    }


def cdr_out(record: CallRecord, room: Room | None, app_id: str) -> dict[str, Any]:
    """A call detail record in EnableX's shape. `conf_num` is the session, `call_num` the
    participant; `stats_quality` holds what the participant's client reported."""
    connected = record.connected_at or record.joined_at
    return {
        "cdr_id": record.participant_id,
        "trans_date": _dt(record.left_at or record.joined_at),
        "app_id": app_id,
        "conf_num": record.session_id,
        "call_num": record.participant_id,
        "call_log_id": record.participant_id,
        "sip": False,
        "room": {
            "room_id": record.room_id,
            "connect_dt": _dt(connected),
            "disconnect_dt": _dt(record.left_at),
            "duration": str(_minutes(record.duration_seconds)),
            "room_details": {"name": room.name, "owner_ref": room.owner_ref or ""} if room else {},
        },
        "user": {"role": record.role.value, "name": record.name, "ref": record.user_ref, "ip": "", "agent": ""},
        "sigserver": {
            "connect_dt": _dt(record.joined_at),
            "disconnect_dt": _dt(record.left_at),
            "duration": str(_minutes(record.duration_seconds)),
            "hold_duration": "0",
        },
        "published_track": {
            "audio": record.published,
            "video": record.published,
            "data": False,
            "screen": False,
            "url": "",
        },
        "usage": {
            "connect_minutes": str(_minutes(record.duration_seconds)),
            "room_connect_minutes": str(_minutes(record.duration_seconds)),
            "published_minutes": str(_minutes(record.published_seconds)),
            "subscribed_minutes": str(_minutes(record.duration_seconds)),
            "screen_minutes": "0",
        },
        "stats_quality": stats_quality_out(record.quality),
    }


def archive_out(archived: Archived, app_id: str) -> dict[str, Any]:
    """An archive item in EnableX's shape: `recording` is the composition made playable (its HLS
    manifest; EnableX's is an .mkv file), `transcoded` the video's MP4; `_id` the recording."""
    r, assets = archived.recording, archived.assets
    return {
        "_id": r.recording_id,
        "trans_date": _dt(r.ended_at or r.started_at),
        "conf_num": r.session_id,
        "app_id": app_id,
        "room_id": r.room_id,
        "recording": [{"url": assets.hls}] if assets.hls else [],
        "transcoded": [{"url": assets.mp4}] if assets.mp4 else [],
        "metadata": {"video_id": assets.video_id},
    }


# -- errors -------------------------------------------------------------------------------------

# EnableX's own result codes where its Video API documents one (its "Error Handling" page, Rooms).
# Every other refusal answers its HTTP status as the code (401, 403, 404, 409, 429, 503).
FIELD_CODES: dict[str, int] = {
    "name": 10002,
    "settings[scheduled]": 10003,
    "settings[adhoc]": 10003,
    "settings[scheduled_time]": 10005,
    "settings[moderators]": 10007,
    "settings[participants]": 10007,
    "settings[auto_recording]": 10008,
}
UNKNOWN_SETTING = 10009
# Videoplane's attribute names, as the rooms services name them → EnableX's.
NAMES = {
    "ownerRef": "owner_ref",
    "roomId": "room_id",
    "userRef": "user_ref",
    "settings[lifetime]": "settings[scheduled]",
    "settings[startsAt]": "settings[scheduled_time]",
    "settings[maxModerators]": "settings[moderators]",
    "settings[maxParticipants]": "settings[participants]",
    "settings[autoRecording]": "settings[auto_recording]",
    "settings[waitForModerator]": "settings[wait_for_moderator]",
}


def enablex_name(name: str) -> str:
    return NAMES.get(name, name)


def result_code(status: int, name: str) -> int:
    """The `result` of a refusal: EnableX's code for the attribute where it has one, else the status."""
    name = enablex_name(name)
    if status == 400 and name in FIELD_CODES:
        return FIELD_CODES[name]
    if status == 400 and name.startswith("settings[") and name[9:-1] not in EnableXSettings.model_fields:
        return UNKNOWN_SETTING
    return status


def error_out(status: int, name: str, title: str, detail: str | None) -> dict[str, Any]:
    """EnableX's error body: `result` (non-zero), `error` (short) and `desc`."""
    name = enablex_name(name)
    desc = detail or title
    if name and name not in desc:
        desc = f"{name}: {desc}"
    return {"result": result_code(status, name), "error": title, "desc": desc}
