"""The EnableX facade's translations (pure): EnableX payloads → the rooms services' payloads, rooms
and call detail records → EnableX's shapes, refusals → EnableX's `result` codes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from chalicelib.core import ids
from chalicelib.core.domain.errors import InvalidInput
from chalicelib.rooms.domain import enablex, rooms
from chalicelib.rooms.domain.enablex import EnableXRoom, EnableXSettings, EnableXToken
from chalicelib.rooms.domain.rooms import Lifetime, Mode
from chalicelib.rooms.domain.sessions import CallRecord, LeaveReason
from chalicelib.rooms.domain.tokens import Role

NOW = datetime(2026, 3, 4, 10, 0, 0, tzinfo=UTC)
PROJECT = ids.new_id("pr")


def settings(**fields: object) -> EnableXSettings:
    return EnableXSettings.model_validate(fields)


def test_enablex_counts_arrive_as_strings_or_numbers() -> None:
    both = settings(moderators="2", participants=5, duration="60")
    assert (both.moderators, both.participants, both.duration) == (2, 5, 60)
    for bad in ("five", "-1", "1.5", True):
        with pytest.raises(ValidationError):
            settings(participants=bad)


def test_settings_translate_to_videoplane_names() -> None:
    sent = settings(mode="lecture", scheduled=True, scheduled_time="2031-05-04 10:00:00", duration="45",
                    moderators="2", participants="0", auto_recording=True, quality="HD", wait_moderator=True,
                    canvas=True, media_zone="IN")  # fmt: skip
    assert enablex.settings_in(sent, creating=True) == {
        "mode": "lecture", "lifetime": "scheduled", "startsAt": datetime(2031, 5, 4, 10, tzinfo=UTC),
        "duration": 45, "maxModerators": 2, "autoRecording": True, "quality": "HD", "waitForModerator": True,
    }  # fmt: skip
    # A creation without a mode is a group (EnableX's default); an update leaves what was not sent.
    assert enablex.settings_in(settings(), creating=True) == {"mode": "group"}
    assert enablex.settings_in(settings(duration=0), creating=False) == {"duration": None}
    assert enablex.settings_in(settings(wait_for_moderator=False, wait_moderator=True), creating=False) == {
        "waitForModerator": False
    }


def test_lifetimes() -> None:
    assert enablex.lifetime_in(None, None) is None
    assert enablex.lifetime_in(False, False) is Lifetime.PERMANENT
    assert enablex.lifetime_in(True, False) is Lifetime.SCHEDULED
    assert enablex.lifetime_in(None, True) is Lifetime.ADHOC
    with pytest.raises(InvalidInput) as both:
        enablex.settings_in(settings(scheduled=True, adhoc=True), creating=True)
    assert both.value.first.name == "settings[adhoc]"


def test_unknown_settings_keys_are_refused_and_enablex_ones_are_taken() -> None:
    with pytest.raises(ValidationError):
        settings(teleport=True)
    assert settings(abwd=True, knock=False, role_based_recording={"moderator": "audiovideo"}).model_fields_set


def test_scheduled_time_is_utc_and_other_text_is_left_for_the_rooms_check() -> None:
    assert enablex.scheduled_start("2031-05-04 10:00:00") == datetime(2031, 5, 4, 10, tzinfo=UTC)
    assert enablex.scheduled_start("tomorrow") == "tomorrow"
    body = EnableXRoom.model_validate({"name": "x", "settings": {"scheduled": True, "scheduled_time": "soon",
                                                                 "duration": 30}})  # fmt: skip
    with pytest.raises(ValidationError):
        enablex.parse_creation(body)


def test_a_creation_becomes_the_rooms_payload() -> None:
    body = EnableXRoom.model_validate(
        {"name": "Consult", "owner_ref": "c-9", "settings": {"participants": "5"}, "sip": {}, "data": {"k": 1}}
    )
    creation = enablex.parse_creation(body)
    assert (creation.name, creation.owner_ref) == ("Consult", "c-9")
    assert creation.settings.settings().max_participants == 5 and creation.settings.mode is Mode.GROUP


def test_an_update_carries_only_what_was_sent() -> None:
    raw = {"owner_ref": None, "settings": {"quality": "LD"}}
    update = enablex.parse_update(raw, EnableXRoom.model_validate(raw))
    assert update.model_fields_set == {"owner_ref", "settings"} and update.owner_ref is None
    assert update.settings is not None and update.settings.model_fields_set == {"quality"}
    assert enablex.parse_update({"name": None}, EnableXRoom.model_validate({"name": None})).null_violations() == [
        "name"
    ]


def test_roles_translate() -> None:
    assert enablex.role_in("audience") == "viewer" and enablex.role_in("moderator") == "moderator"
    assert enablex.role_in("pilot") == "pilot"  # refused by the token request
    token = enablex.parse_token(EnableXToken.model_validate({"name": "Bo", "role": "audience", "user_ref": "bo"}))
    assert (token.role, token.user_ref, token.ttl) == (Role.VIEWER, "bo", 24 * 3600)
    with pytest.raises(ValidationError):
        enablex.parse_token(EnableXToken.model_validate({"name": "Bo", "role": "pilot", "user_ref": "bo"}))


def test_a_period_of_days_includes_both() -> None:
    assert enablex.period(date(2026, 3, 1), date(2026, 3, 1)) == (
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 2, tzinfo=UTC),
    )


def room(**settings_: object) -> rooms.Room:
    creation = rooms.RoomCreation.model_validate({"name": "Consult", "settings": {"mode": "group", **settings_}})
    return rooms.new_room(PROJECT, creation, NOW)


def test_a_room_in_enablex_shape_has_counts_as_strings() -> None:
    out = enablex.room_out(room(maxParticipants=5))
    assert out["settings"] == {
        "mode": "group", "scheduled": False, "adhoc": False, "duration": "0", "moderators": "1",
        "participants": "5", "auto_recording": False, "quality": "SD", "wait_for_moderator": False,
    }  # fmt: skip
    assert out["owner_ref"] == "" and out["created"] == "2026-03-04 10:00:00" and "joinable" not in out
    scheduled = enablex.room_out(room(lifetime="scheduled", startsAt="2026-03-05T09:00:00+01:00", duration=30))
    assert scheduled["settings"]["scheduled_time"] == "2026-03-05 08:00:00"
    assert scheduled["joinable"] == {"from": "2026-03-05 07:45:00", "until": "2026-03-05 08:30:00"}


def test_a_call_record_in_enablex_shape() -> None:
    record = CallRecord(
        session_id="rs1", room_id="ro1", participant_id="p1", user_ref="ada", name="Ada", role=Role.MODERATOR,
        joined_at=NOW, connected_at=datetime(2026, 3, 4, 10, 0, 2, tzinfo=UTC),
        left_at=datetime(2026, 3, 4, 10, 1, 32, tzinfo=UTC), leave_reason=LeaveReason.LEFT, duration_seconds=90,
        published_seconds=0, published=True,
    )  # fmt: skip
    out = enablex.cdr_out(record, room(), PROJECT)
    assert (out["conf_num"], out["call_num"], out["app_id"]) == ("rs1", "p1", PROJECT)
    assert out["room"]["connect_dt"] == "2026-03-04 10:00:02" and out["room"]["disconnect_dt"] == "2026-03-04 10:01:32"
    assert out["room"]["duration"] == "1.5" and out["usage"]["published_minutes"] == "0.0"
    assert out["room"]["room_details"] == {"name": "Consult", "owner_ref": ""}
    assert out["published_track"]["video"] is True and out["user"]["ref"] == "ada"
    assert enablex.cdr_out(record, None, PROJECT)["room"]["room_details"] == {}


def test_refusals_carry_enablex_codes_where_it_has_them() -> None:
    assert enablex.result_code(400, "name") == 10002
    assert enablex.result_code(400, "settings[maxParticipants]") == 10007
    assert enablex.result_code(400, "settings[participants]") == 10007
    assert enablex.result_code(400, "settings[startsAt]") == 10005
    assert enablex.result_code(400, "settings[teleport]") == 10009
    assert enablex.result_code(400, "settings[quality]") == 400
    assert enablex.result_code(400, "settings") == 400
    assert enablex.result_code(404, "roomId") == 404
    assert enablex.error_out(404, "roomId", "The requested resource was not found.", None) == {
        "result": 404,
        "error": "The requested resource was not found.",
        "desc": "room_id: The requested resource was not found.",
    }
