"""IVS real-time requests from the rooms adapter: botocore's Stubber (types, required members) and the
strict model walk (enums, bounds, patterns) for every call, and ClientError codes as domain errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.core import ids
from chalicelib.rooms.adapters.stages import IvsStages, participant_token_request
from chalicelib.rooms.domain.errors import StageNotFound, StageQuotaExceeded, StageUnavailable
from chalicelib.rooms.domain.rooms import TAG_APP, TAG_PROJECT, TAG_ROOM, stage_name
from chalicelib.rooms.domain.sessions import PlaneEvent, Sighting
from chalicelib.rooms.domain.tokens import BOTH, WATCH
from tests.unit import strict_model
from tests.unit.test_ivs_channels import strict_model_name

SERVICE = "ivs-realtime"
STAGE = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf123456"
OTHER = "arn:aws:ivs:us-east-1:123456789012:stage/ZzZzZz999999"
PROJECT, ROOM = ids.new_id("pr"), ids.new_id("ro")
NAME = stage_name(PROJECT, ROOM)
TAGS = {TAG_APP: "videoplane", TAG_PROJECT: PROJECT, TAG_ROOM: ROOM}
SESSION = "st-AbCdEfGh12345"
ENDPOINTS = {"whip": "https://global.whip.live-video.net", "events": "wss://global.events.live-video.net"}


def client() -> Any:
    # Stubber never sends; the client only needs a region and (unused) credentials.
    return boto3.client(  # type: ignore[call-overload]
        SERVICE, region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit"
    )


def checked(stubber: Stubber, operation: str, response: dict[str, Any], params: dict[str, Any]) -> None:
    """Queues a response for exactly these parameters, after the strict walk passes them."""
    assert strict_model.findings(SERVICE, operation, params) == [], params
    stubber.add_response(strict_model_name(operation), response, params)


def test_create_stage_names_and_tags_it_and_reads_its_endpoints() -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        stage = {"arn": STAGE, "name": NAME, "tags": TAGS, "endpoints": ENDPOINTS}
        checked(stubber, "CreateStage", {"stage": stage, "participantTokens": []}, {"name": NAME, "tags": TAGS})
        created = IvsStages(ivs).create_stage(NAME, TAGS)
        stubber.assert_no_pending_responses()
    assert created.arn == STAGE and created.whip_endpoint == ENDPOINTS["whip"]
    # IVS names no subscribe endpoint: only the devstack's template gives one.
    assert created.whep_endpoint == ""


def test_a_subscribe_url_template_names_the_stage() -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        stage = {"arn": STAGE, "name": NAME, "tags": TAGS, "endpoints": ENDPOINTS}
        checked(stubber, "CreateStage", {"stage": stage, "participantTokens": []}, {"name": NAME, "tags": TAGS})
        created = IvsStages(ivs, "http://127.0.0.1:9/whep/{stageId}").create_stage(NAME, TAGS)
    assert created.whep_endpoint == "http://127.0.0.1:9/whep/" + STAGE.rsplit("/", 1)[1]


def test_stage_names_fit_ivs_and_the_walker_catches_a_long_one() -> None:
    # Smithy patterns are unanchored (the walker searches); IVS means the whole name.
    assert re.fullmatch("[a-zA-Z0-9-_]{1,128}", NAME)
    assert any(f.startswith("name") for f in strict_model.findings(SERVICE, "CreateStage", {"name": "x" * 129}))


@pytest.mark.parametrize("capabilities", [BOTH, WATCH], ids=["publish+subscribe", "subscribe"])
def test_participant_tokens_carry_the_granted_capabilities(capabilities: frozenset[Any]) -> None:
    ivs = client()
    request = participant_token_request(STAGE, "user-1", 1440, capabilities, {"role": "moderator", "roomId": ROOM})
    with Stubber(ivs) as stubber:
        token = {"participantId": "pArTiCiPaNt1", "token": "eyJ.x.y", "userId": "user-1", "duration": 1440,
                 "capabilities": request["capabilities"]}  # fmt: skip
        checked(stubber, "CreateParticipantToken", {"participantToken": token}, request)
        participant, value, _ = IvsStages(ivs).participant_token(
            STAGE, "user-1", 1440, capabilities, {"role": "moderator", "roomId": ROOM}
        )
        stubber.assert_no_pending_responses()
    assert (participant, value) == ("pArTiCiPaNt1", "eyJ.x.y")
    assert request["capabilities"] == sorted(c.value.upper() for c in capabilities)


def test_presence_lists_connected_participants_of_the_active_session_page_by_page() -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        stage = {"arn": STAGE, "name": NAME, "activeSessionId": SESSION, "endpoints": ENDPOINTS}
        checked(stubber, "GetStage", {"stage": stage}, {"arn": STAGE})
        first = {"stageArn": STAGE, "sessionId": SESSION, "filterByState": "CONNECTED", "maxResults": 100}
        checked(stubber, "ListParticipants", {"participants": [{"participantId": "a"}], "nextToken": "n2"}, first)
        checked(stubber, "ListParticipants", {"participants": [{"participantId": "b"}]}, {**first, "nextToken": "n2"})
        found_stage, connected = IvsStages(ivs).presence(STAGE)
        stubber.assert_no_pending_responses()
    assert connected == {"a", "b"} and found_stage.events_endpoint == ENDPOINTS["events"]


def test_a_stage_without_a_session_has_no_one_connected() -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        checked(stubber, "GetStage", {"stage": {"arn": STAGE, "endpoints": ENDPOINTS}}, {"arn": STAGE})
        assert IvsStages(ivs).presence(STAGE)[1] == set()
        stubber.assert_no_pending_responses()


def test_release_by_arn_and_a_stage_already_gone_counts_as_released() -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        checked(stubber, "DeleteStage", {}, {"arn": STAGE})
        stubber.add_client_error("delete_stage", "ResourceNotFoundException", http_status_code=404)
        stages = IvsStages(ivs)
        assert stages.delete_stages(NAME, STAGE) == 1
        assert stages.delete_stages(NAME, STAGE) == 0
        stubber.assert_no_pending_responses()


def test_release_by_name_reads_every_page_and_keeps_exact_matches() -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        page1 = {"stages": [{"arn": OTHER, "name": NAME + "x"}], "nextToken": "p2"}
        checked(stubber, "ListStages", page1, {"maxResults": 100})
        checked(
            stubber, "ListStages", {"stages": [{"arn": STAGE, "name": NAME}]}, {"maxResults": 100, "nextToken": "p2"}
        )
        checked(stubber, "DeleteStage", {}, {"arn": STAGE})
        assert IvsStages(ivs).delete_stages(NAME, None) == 1
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ServiceQuotaExceededException", 402, StageQuotaExceeded),
        ("PendingVerification", 403, StageUnavailable),
        ("InternalServerException", 500, StageUnavailable),
        ("ResourceNotFoundException", 404, StageNotFound),
    ],
)
def test_client_errors_become_domain_errors(code: str, status: int, expected: type[Exception]) -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        stubber.add_client_error("get_stage", code, http_status_code=status)
        with pytest.raises(expected):
            IvsStages(ivs).presence(STAGE)


def test_disconnect_names_the_participant_and_an_absent_one_is_false() -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        request = {
            "stageArn": STAGE,
            "participantId": "pArTiCiPaNt1",
            "reason": "Removed from the room by a moderator.",
        }
        checked(stubber, "DisconnectParticipant", {}, request)
        stubber.add_client_error("disconnect_participant", "ResourceNotFoundException", http_status_code=404)
        stages = IvsStages(ivs)
        assert stages.disconnect(STAGE, "pArTiCiPaNt1", request["reason"]) is True
        assert stages.disconnect(STAGE, "pArTiCiPaNt1", request["reason"]) is False
        stubber.assert_no_pending_responses()


def test_a_stages_room_comes_from_this_apps_tags_only() -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        checked(stubber, "GetStage", {"stage": {"arn": STAGE, "tags": TAGS}}, {"arn": STAGE})
        checked(stubber, "GetStage", {"stage": {"arn": OTHER, "tags": {"team": "other"}}}, {"arn": OTHER})
        stubber.add_client_error("get_stage", "ResourceNotFoundException", http_status_code=404)
        stages = IvsStages(ivs)
        assert stages.stage_room(STAGE) == (PROJECT, ROOM)
        assert stages.stage_room(OTHER) is None
        assert stages.stage_room(STAGE) is None
        stubber.assert_no_pending_responses()


def test_attendance_lists_every_state_of_the_earlier_and_the_active_stage_sessions() -> None:
    ivs = client()
    earlier = "st-EaRlIeR000001"
    joined = datetime(2026, 3, 4, 10, 0, 1, tzinfo=UTC)
    with Stubber(ivs) as stubber:
        checked(stubber, "GetStage", {"stage": {"arn": STAGE, "activeSessionId": SESSION}}, {"arn": STAGE})
        gone = {"participantId": "a", "state": "DISCONNECTED", "firstJoinTime": joined}
        checked(
            stubber,
            "ListParticipants",
            {"participants": [gone]},
            {"stageArn": STAGE, "sessionId": earlier, "maxResults": 100},
        )
        here = {"participantId": "b", "state": "CONNECTED", "firstJoinTime": joined}
        first = {"stageArn": STAGE, "sessionId": SESSION, "maxResults": 100}
        checked(stubber, "ListParticipants", {"participants": [here], "nextToken": "n2"}, first)
        checked(stubber, "ListParticipants", {"participants": []}, {**first, "nextToken": "n2"})
        active, sightings = IvsStages(ivs).attendance(STAGE, [earlier, SESSION])
        stubber.assert_no_pending_responses()
    assert active == SESSION
    assert sightings == [Sighting("a", False, joined, earlier), Sighting("b", True, joined, SESSION)]


def test_participant_events_carry_their_names_and_times() -> None:
    ivs = client()
    left = datetime(2026, 3, 4, 10, 0, 30, tzinfo=UTC)
    with Stubber(ivs) as stubber:
        request = {"stageArn": STAGE, "sessionId": SESSION, "participantId": "a", "maxResults": 100}
        page = {"events": [{"name": "JOINED", "participantId": "a", "eventTime": left}], "nextToken": "e2"}
        checked(stubber, "ListParticipantEvents", page, request)
        page2 = {"events": [{"name": "LEFT", "participantId": "a", "eventTime": left}]}
        checked(stubber, "ListParticipantEvents", page2, {**request, "nextToken": "e2"})
        found = IvsStages(ivs).participant_events(STAGE, SESSION, "a")
        stubber.assert_no_pending_responses()
    assert found == [PlaneEvent("a", "JOINED", left), PlaneEvent("a", "LEFT", left)]
