"""MediaLive requests from the live events adapter: botocore's Stubber (types, required members)
and the strict model walk (enums, bounds, patterns) for every call, and ClientError codes as domain
errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.live.adapters import medialive
from chalicelib.live.adapters.medialive import MediaLiveChannels, MediaLiveSettings
from chalicelib.live.domain.errors import ChannelEnded, ChannelNotFound, ChannelRefused, ChannelUnavailable
from chalicelib.live.domain.live_event_templates import Failover, LiveProfile, built_in
from chalicelib.live.domain.live_events import (
    LiveEvent,
    LiveEventCreation,
    LiveEventState,
    RouteName,
    new_live_event,
    transition,
)
from tests.unit import strict_model

NOW = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::123456789012:role/videoplane-MediaLiveRole"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:srt-AbCdEf"
SETTINGS = MediaLiveSettings(
    role_arn=ROLE, media_bucket="videoplane-media", ingest_cidrs=("127.0.0.1/32",),
    srt_passphrase_secret_arn=SECRET, media_base_url="https://media.example",
)  # fmt: skip
CHANNEL_ARN = "arn:aws:medialive:us-east-1:123456789012:channel:1234567"


def client() -> Any:
    return boto3.client("medialive", region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit")


def event(premiere: bool = False, backup: str | None = "rtmp", profile: LiveProfile | None = None) -> LiveEvent:
    source = {"videoId": "vi" + "V" * 22} if premiere else {"liveStreamId": "li" + "L" * 22}
    routes = {"primary": {"protocol": "rtmp"}, "backup": {"protocol": backup} if backup else None}
    payload = LiveEventCreation.model_validate(
        {
            "name": "Town hall",
            **source,
            "schedule": {"startAt": NOW + timedelta(minutes=5), "endAt": NOW + timedelta(hours=1)},
            "routes": routes,
        }
    )
    applied = profile or built_in("pr1").profile()
    return new_live_event("pr" + "P" * 22, payload, "default", 1, applied, NOW)


def snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def checked(stubber: Stubber, operation: str, response: dict[str, Any], params: dict[str, Any]) -> None:
    """Queues a response for exactly these parameters, after the strict walk passes them."""
    assert strict_model.findings("medialive", operation, params) == [], params
    stubber.add_response(snake(operation), response, params)


def refused(stubber: Stubber, operation: str, code: str, status: int) -> None:
    stubber.add_client_error(snake(operation), code, "refused", status)


def input_wire(input_id: str, name: str, url: str = "") -> dict[str, Any]:
    destinations = [{"Url": url, "Ip": "10.0.0.1", "Port": "1935"}] if url else []
    return {"Id": input_id, "Name": name, "Arn": f"arn:aws:medialive:us-east-1:123456789012:input:{input_id}",
            "State": "DETACHED", "Destinations": destinations}  # fmt: skip


@pytest.mark.parametrize("record", [False, True])
@pytest.mark.parametrize("latency", ["normal", "low"])
def test_the_channel_request_passes_the_model(record: bool, latency: str) -> None:
    profile = LiveProfile.model_validate(
        {
            "record": record,
            "latencyMode": latency,
            "failover": {"blackVideoMs": 2000, "audioSilenceMs": 3000, "inputPreference": "EQUAL_INPUT_PREFERENCE"},
            "inputLoss": {"action": "PAUSE_OUTPUT"},
        }
    )
    live = event(profile=profile)
    request = medialive.create_channel_request(live, {"primary": "111", "backup": "222"}, SETTINGS)
    assert strict_model.findings("medialive", "CreateChannel", request) == []
    primary, backup = request["InputAttachments"]
    failover = primary["AutomaticInputFailoverSettings"]
    assert (
        failover["SecondaryInputId"] == "222"
        and backup["InputId"] == "222"
        and "AutomaticInputFailoverSettings" not in backup
    )
    assert failover["InputPreference"] == "EQUAL_INPUT_PREFERENCE" and failover["ErrorClearTimeMsec"] == 30000
    conditions = [next(iter(c["FailoverConditionSettings"])) for c in failover["FailoverConditions"]]
    assert conditions == ["InputLossSettings", "VideoBlackSettings", "AudioSilenceSettings"]
    group = request["EncoderSettings"]["OutputGroups"][0]["OutputGroupSettings"]["HlsGroupSettings"]
    assert group["Mode"] == ("VOD" if record else "LIVE") and group["InputLossAction"] == "PAUSE_OUTPUT"
    assert group["IndexNSegments"] == (3 if latency == "low" else 6) and ("KeepSegments" in group) is not record
    heights = [v["Height"] for v in request["EncoderSettings"]["VideoDescriptions"]]
    assert heights == [1080, 720, 480, 240] and request["EncoderSettings"]["VideoDescriptions"][0]["Width"] == 1920
    assert request["Destinations"][0]["Settings"][0]["Url"] == (
        f"s3ssl://videoplane-media/live-events/{live.project_id}/{live.live_event_id}/index"
    )
    assert request["ChannelClass"] == "SINGLE_PIPELINE" and request["RoleArn"] == ROLE
    # MediaLive's idempotency token: a racing second arm of this version gets the same channel.
    assert request["RequestId"] == f"{live.live_event_id}-channel-v{live.version}"


def test_without_a_backup_there_is_no_failover_and_a_premiere_plays_its_file() -> None:
    single = medialive.create_channel_request(event(backup=None), {"primary": "111"}, SETTINGS)
    assert [a["InputAttachmentName"] for a in single["InputAttachments"]] == ["primary"]
    assert "AutomaticInputFailoverSettings" not in single["InputAttachments"][0]
    premiere = event(premiere=True)
    request = medialive.create_channel_request(premiere, {"file": "333"}, SETTINGS)
    assert strict_model.findings("medialive", "CreateChannel", request) == []
    assert request["InputAttachments"][0]["InputSettings"]["SourceEndBehavior"] == "CONTINUE"
    file_input = medialive.file_input_request(premiere, "s3ssl://uploads/sources/pr1/vi1")
    assert strict_model.findings("medialive", "CreateInput", file_input) == []


def test_the_walker_catches_a_bad_enum_and_a_short_segment() -> None:
    request = medialive.create_channel_request(event(), {"primary": "1", "backup": "2"}, SETTINGS)
    request["ChannelClass"] = "DOUBLE_PIPELINE"
    request["EncoderSettings"]["OutputGroups"][0]["OutputGroupSettings"]["HlsGroupSettings"]["IndexNSegments"] = 2
    found = strict_model.findings("medialive", "CreateChannel", request)
    assert any(f.startswith("ChannelClass") for f in found) and any("IndexNSegments" in f for f in found), found


def test_srt_routes_are_listeners_with_the_stacks_passphrase_secret() -> None:
    live = event(backup="srt")
    request = medialive.push_input_request(live, RouteName.BACKUP, "srt", "sg1", SECRET)
    assert strict_model.findings("medialive", "CreateInput", request) == []
    assert request["Type"] == "SRT_LISTENER" and request["InputSecurityGroups"] == ["sg1"]
    assert request["SrtSettings"]["SrtListenerSettings"]["Decryption"]["PassphraseSecretArn"] == SECRET
    with pytest.raises(ChannelRefused):
        medialive.push_input_request(live, RouteName.BACKUP, "srt", "sg1", "")


def test_arming_makes_what_is_missing_returns_the_ingest_urls_and_starts_the_stored_channel() -> None:
    live = event()
    api = client()
    names = {role: f"videoplane-{live.live_event_id}-{role}" for role in ("primary", "backup", "channel")}
    with Stubber(api) as stubber:
        checked(stubber, "ListInputSecurityGroups", {"InputSecurityGroups": []}, {"MaxResults": 100})
        checked(stubber, "CreateInputSecurityGroup", {"SecurityGroup": {"Id": "sg1"}},
                medialive.security_group_request(live, ["127.0.0.1/32"]))  # fmt: skip
        # The primary exists from an earlier attempt; only the backup is created.
        checked(stubber, "ListInputs", {"Inputs": [input_wire("111", names["primary"])]}, {"MaxResults": 100})
        checked(stubber, "ListInputs", {"Inputs": [input_wire("111", names["primary"])]}, {"MaxResults": 100})
        checked(stubber, "CreateInput", {"Input": input_wire("222", names["backup"])},
                medialive.push_input_request(live, RouteName.BACKUP, "rtmp", "sg1", SECRET))  # fmt: skip
        checked(stubber, "ListChannels", {"Channels": []}, {"MaxResults": 100})
        request = medialive.create_channel_request(live, {"primary": "111", "backup": "222"}, SETTINGS)
        checked(
            stubber, "CreateChannel", {"Channel": {"Id": "1234567", "Arn": CHANNEL_ARN, "State": "CREATING"}}, request
        )
        for input_id, route in (("111", "primary"), ("222", "backup")):
            url = f"rtmp://10.0.0.1:1935/{live.live_event_id}/{route}"
            checked(stubber, "DescribeInput", input_wire(input_id, names[route], url), {"InputId": input_id})
        channels = MediaLiveChannels(api, SETTINGS, sleep=lambda s: None)
        resources = channels.create(live)
        stubber.assert_no_pending_responses()  # nothing started: the service stores the channel first
        checked(stubber, "DescribeChannel", {"State": "CREATING"}, {"ChannelId": "1234567"})
        checked(stubber, "DescribeChannel", {"State": "IDLE"}, {"ChannelId": "1234567"})
        checked(stubber, "StartChannel", {"State": "STARTING"}, {"ChannelId": "1234567"})
        channels.start(live.model_copy(update={"channel": resources}))
        stubber.assert_no_pending_responses()
    assert resources.channel_id == "1234567" and resources.channel_arn == CHANNEL_ARN
    assert resources.input_ids == ("111", "222") and resources.input_security_group_id == "sg1"
    assert [(i.route, i.url) for i in resources.ingest] == [
        (RouteName.PRIMARY, f"rtmp://10.0.0.1:1935/{live.live_event_id}/primary"),
        (RouteName.BACKUP, f"rtmp://10.0.0.1:1935/{live.live_event_id}/backup"),
    ]
    assert (
        resources.playback_url == f"https://media.example/live-events/{live.project_id}/{live.live_event_id}/index.m3u8"
    )


def test_a_retried_arm_of_a_running_channel_creates_and_starts_nothing() -> None:
    live = event(backup=None)
    api = client()
    group = {"Id": "sg1", "Tags": {"videoplane:liveEventId": live.live_event_id}, "State": "IN_USE"}
    primary = input_wire("111", f"videoplane-{live.live_event_id}-primary", "rtmp://10.0.0.1:1935/a/b")
    channel = {
        "Id": "1234567",
        "Arn": CHANNEL_ARN,
        "Name": f"videoplane-{live.live_event_id}-channel",
        "State": "RUNNING",
    }
    with Stubber(api) as stubber:
        checked(stubber, "ListInputSecurityGroups", {"InputSecurityGroups": [group]}, {"MaxResults": 100})
        checked(stubber, "ListInputs", {"Inputs": [primary]}, {"MaxResults": 100})
        checked(stubber, "ListChannels", {"Channels": [channel]}, {"MaxResults": 100})
        checked(stubber, "DescribeInput", primary, {"InputId": "111"})
        channels = MediaLiveChannels(api, SETTINGS, sleep=lambda s: None)
        resources = channels.create(live)
        checked(stubber, "DescribeChannel", {"State": "RUNNING"}, {"ChannelId": "1234567"})
        channels.start(live.model_copy(update={"channel": resources}))
        stubber.assert_no_pending_responses()
    assert resources.channel_id == "1234567" and len(resources.ingest) == 1


def test_a_start_that_finds_its_channel_deleted_by_an_end_says_the_event_ended() -> None:
    live = event(backup=None)
    resources = medialive.ChannelResources(channel_id="7", channel_arn=CHANNEL_ARN, playback_url="x")
    api = client()
    with Stubber(api) as stubber:
        checked(stubber, "DescribeChannel", {"State": "DELETING"}, {"ChannelId": "7"})
        with pytest.raises(ChannelEnded):
            MediaLiveChannels(api, SETTINGS, sleep=lambda s: None).start(live.model_copy(update={"channel": resources}))
        stubber.assert_no_pending_responses()  # no StartChannel, and no waiting 20 polls for IDLE


def test_a_premiere_arms_a_file_input_from_the_videos_source() -> None:
    live = event(premiere=True)
    api = client()
    url = "s3ssl://videoplane-uploads/sources/pr1/vi1"
    with Stubber(api) as stubber:
        checked(stubber, "ListInputs", {"Inputs": []}, {"MaxResults": 100})
        checked(stubber, "CreateInput", {"Input": input_wire("333", "file")}, medialive.file_input_request(live, url))
        checked(stubber, "ListChannels", {"Channels": []}, {"MaxResults": 100})
        request = medialive.create_channel_request(live, {"file": "333"}, SETTINGS)
        checked(stubber, "CreateChannel", {"Channel": {"Id": "7", "Arn": CHANNEL_ARN}}, request)
        channels = MediaLiveChannels(api, SETTINGS, source_url=lambda e: url, sleep=lambda s: None)
        resources = channels.create(live)
        checked(stubber, "DescribeChannel", {"State": "IDLE"}, {"ChannelId": "7"})
        checked(stubber, "StartChannel", {}, {"ChannelId": "7"})
        channels.start(live.model_copy(update={"channel": resources}))
        stubber.assert_no_pending_responses()
    assert resources.ingest == () and resources.input_security_group_id is None
    with pytest.raises(ChannelRefused):
        MediaLiveChannels(client(), SETTINGS).create(live)  # no source: refused before any call


def test_releasing_stops_and_deletes_the_channel_then_its_inputs_and_group() -> None:
    live = event()
    api = client()
    channel = {
        "Id": "1234567",
        "Arn": CHANNEL_ARN,
        "Name": f"videoplane-{live.live_event_id}-channel",
        "State": "RUNNING",
    }
    inputs = [
        input_wire("111", f"videoplane-{live.live_event_id}-primary"),
        input_wire("222", f"videoplane-{live.live_event_id}-backup"),
    ]
    group = {"Id": "sg1", "Tags": {"videoplane:liveEventId": live.live_event_id}, "State": "IDLE"}
    with Stubber(api) as stubber:
        checked(stubber, "ListChannels", {"Channels": [channel], "NextToken": "n"}, {"MaxResults": 100})
        checked(stubber, "DescribeChannel", {"State": "RUNNING"}, {"ChannelId": "1234567"})
        checked(stubber, "StopChannel", {"State": "STOPPING"}, {"ChannelId": "1234567"})
        checked(stubber, "DescribeChannel", {"State": "STOPPING"}, {"ChannelId": "1234567"})
        checked(stubber, "DescribeChannel", {"State": "IDLE"}, {"ChannelId": "1234567"})
        checked(stubber, "DeleteChannel", {"State": "DELETING"}, {"ChannelId": "1234567"})
        refused(stubber, "DescribeChannel", "NotFoundException", 404)  # gone: done
        for input_id in ("111", "222"):
            checked(stubber, "ListInputs", {"Inputs": inputs}, {"MaxResults": 100})
            checked(stubber, "DeleteInput", {}, {"InputId": input_id})
        checked(stubber, "ListInputs", {"Inputs": inputs}, {"MaxResults": 100})  # no file input
        checked(stubber, "ListInputSecurityGroups", {"InputSecurityGroups": [group]}, {"MaxResults": 100})
        refused(stubber, "DeleteInputSecurityGroup", "NotFoundException", 404)  # already gone counts
        MediaLiveChannels(api, SETTINGS, sleep=lambda s: None).release(live)
        stubber.assert_no_pending_responses()


def test_a_release_racing_another_waits_for_its_delete_and_deletes_no_channel_twice() -> None:
    """The API's end and the consumer's (MediaLive's IDLE after the stop) release the same channel."""
    live = event(backup=None)
    api = client()
    channel = {"Id": "7", "Arn": CHANNEL_ARN, "Name": f"videoplane-{live.live_event_id}-channel", "State": "RUNNING"}
    with Stubber(api) as stubber:
        checked(stubber, "ListChannels", {"Channels": [channel]}, {"MaxResults": 100})
        checked(stubber, "DescribeChannel", {"State": "RUNNING"}, {"ChannelId": "7"})
        checked(stubber, "StopChannel", {"State": "STOPPING"}, {"ChannelId": "7"})
        checked(stubber, "DescribeChannel", {"State": "DELETING"}, {"ChannelId": "7"})  # the other one's delete
        checked(stubber, "DescribeChannel", {"State": "DELETED"}, {"ChannelId": "7"})
        for _ in ("primary", "backup", "file"):
            checked(stubber, "ListInputs", {"Inputs": []}, {"MaxResults": 100})
        checked(stubber, "ListInputSecurityGroups", {"InputSecurityGroups": []}, {"MaxResults": 100})
        MediaLiveChannels(api, SETTINGS, sleep=lambda s: None).release(live)
        stubber.assert_no_pending_responses()


def test_releasing_what_is_gone_does_nothing() -> None:
    live = event()
    api = client()
    with Stubber(api) as stubber:
        checked(stubber, "ListChannels", {"Channels": []}, {"MaxResults": 100})
        for _ in range(3):
            checked(stubber, "ListInputs", {"Inputs": []}, {"MaxResults": 100})
        checked(stubber, "ListInputSecurityGroups", {"InputSecurityGroups": []}, {"MaxResults": 100})
        MediaLiveChannels(api, SETTINGS).release(live)
        stubber.assert_no_pending_responses()


def test_the_operators_switch_is_an_immediate_input_switch() -> None:
    live = event(profile=LiveProfile(failover=Failover(input_preference="EQUAL_INPUT_PREFERENCE")))
    channel = medialive.ChannelResources(channel_id="1234567", channel_arn=CHANNEL_ARN, playback_url="x")
    armed = transition(live, LiveEventState.ARMED, NOW, channel=channel)
    assert armed is not None
    api = client()
    request = medialive.input_switch_request("1234567", RouteName.BACKUP, f"videoplane-backup-{armed.version}")
    with Stubber(api) as stubber:
        checked(stubber, "BatchUpdateSchedule", {}, request)
        MediaLiveChannels(api, SETTINGS).switch_input(armed, RouteName.BACKUP)
        stubber.assert_no_pending_responses()
    with pytest.raises(ChannelNotFound):
        MediaLiveChannels(client(), SETTINGS).switch_input(live, RouteName.BACKUP)  # not armed


def test_a_channel_that_never_becomes_idle_is_a_retry() -> None:
    live = event(backup=None)
    api = client()
    stored = medialive.ChannelResources(
        channel_id="9", channel_arn=CHANNEL_ARN, playback_url="https://media.example/x.m3u8"
    )
    with Stubber(api) as stubber:
        for _ in range(medialive.STATE_POLLS):
            checked(stubber, "DescribeChannel", {"State": "CREATING"}, {"ChannelId": "9"})
        with pytest.raises(ChannelUnavailable):
            MediaLiveChannels(api, SETTINGS, sleep=lambda s: None).start(live.model_copy(update={"channel": stored}))
        stubber.assert_no_pending_responses()
    with pytest.raises(ChannelNotFound):
        MediaLiveChannels(client(), SETTINGS).start(live)  # not created


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("TooManyRequestsException", 429, ChannelUnavailable),
        ("ConflictException", 409, ChannelUnavailable),
        ("InternalServerErrorException", 500, ChannelUnavailable),
        ("BadRequestException", 400, ChannelRefused),
        ("UnprocessableEntityException", 422, ChannelRefused),
        ("NotFoundException", 404, ChannelNotFound),
    ],
)
def test_client_errors_become_domain_errors(code: str, status: int, expected: type[Exception]) -> None:
    api = client()
    with Stubber(api) as stubber:
        refused(stubber, "ListChannels", code, status)
        with pytest.raises(expected):
            MediaLiveChannels(api, SETTINGS).release(event())


def test_forbidden_stays_a_client_error() -> None:
    from botocore.exceptions import ClientError

    api = client()
    with Stubber(api) as stubber:
        refused(stubber, "ListChannels", "ForbiddenException", 403)
        with pytest.raises(ClientError):
            MediaLiveChannels(api, SETTINGS).release(event())
