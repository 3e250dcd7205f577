"""IVS requests from the live adapter: botocore's Stubber (types, required members) and the strict
model walk (enums, bounds, patterns) for every call, and ClientError codes as domain errors."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.live.adapters.ivs import IvsChannels, create_channel_request
from chalicelib.live.domain.errors import ChannelNotFound, ChannelQuotaExceeded, ChannelUnavailable
from chalicelib.live.domain.live_streams import channel_name
from tests.unit import strict_model

CHANNEL = "arn:aws:ivs:us-east-1:123456789012:channel/AbCdEf123456"
KEY = "arn:aws:ivs:us-east-1:123456789012:stream-key/KeY123456789"
OLD_KEY = "arn:aws:ivs:us-east-1:123456789012:stream-key/OlD123456789"
RECORDING = "arn:aws:ivs:us-east-1:123456789012:recording-configuration/ReC123456789"
NAME = channel_name("pr" + "1" * 22, "li" + "A" * 22)
TAGS = {"videoplane:app": "videoplane", "videoplane:projectId": "pr1", "videoplane:liveStreamId": "li1"}


def ivs() -> Any:
    # Stubber never sends; the client only needs a region and (unused) credentials.
    return boto3.client("ivs", region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit")


def channel_wire(name: str = NAME) -> dict[str, Any]:
    return {
        "arn": CHANNEL,
        "name": name,
        "latencyMode": "LOW",
        "type": "STANDARD",
        "ingestEndpoint": "abc.global-contribute.live-video.net",
        "playbackUrl": "https://abc.us-east-1.playback.live-video.net/api/video/v1/x.m3u8",
        "srt": {"endpoint": "abc.srt.live-video.net", "passphrase": "p" * 32},
    }


def key_wire(arn: str = KEY, value: str = "sk_us-east-1_abc") -> dict[str, Any]:
    return {"arn": arn, "value": value, "channelArn": CHANNEL}


def checked(stubber: Stubber, operation: str, response: dict[str, Any], params: dict[str, Any]) -> None:
    """Queues a response for exactly these parameters, after the strict walk passes them."""
    assert strict_model.findings("ivs", operation, params) == [], params
    stubber.add_response(strict_model_name(operation), response, params)


def strict_model_name(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


@pytest.mark.parametrize("channel_type", ["STANDARD", "BASIC"])
@pytest.mark.parametrize("record", [False, True])
def test_create_channel_request_passes_the_model(channel_type: Any, record: bool) -> None:
    request = create_channel_request(NAME, TAGS, record, channel_type, RECORDING)
    assert strict_model.findings("ivs", "CreateChannel", request) == []
    assert request["latencyMode"] == "LOW" and request["type"] == channel_type
    assert ("recordingConfigurationArn" in request) is record


def test_the_walker_catches_a_bad_type_and_a_long_tag() -> None:
    request = create_channel_request(NAME, {"k" * 129: "v"}, False, "STANDARD", "")
    request["type"] = "PREMIUM"
    found = strict_model.findings("ivs", "CreateChannel", request)
    assert any(f.startswith("type:") for f in found) and any("<key k" in f for f in found), found


def test_channel_names_fit_ivs() -> None:
    # Smithy patterns are unanchored (the walker searches); IVS means the whole name.
    assert re.fullmatch("[a-zA-Z0-9-_]{1,128}", NAME)
    assert strict_model.findings("ivs", "ListChannels", {"filterByName": NAME}) == []


def test_create_channel_returns_the_channel_and_its_key() -> None:
    client = ivs()
    with Stubber(client) as stubber:
        request = create_channel_request(NAME, TAGS, True, "BASIC", RECORDING)
        checked(stubber, "CreateChannel", {"channel": channel_wire(), "streamKey": key_wire()}, request)
        channel, key = IvsChannels(client, "BASIC", RECORDING).create_channel(NAME, TAGS, record=True)
        stubber.assert_no_pending_responses()
    assert channel.arn == CHANNEL and channel.srt_endpoint == "abc.srt.live-video.net"
    assert key.arn == KEY and key.value == "sk_us-east-1_abc"


def test_a_recorded_stream_without_a_configuration_is_created_unrecorded() -> None:
    request = create_channel_request(NAME, TAGS, True, "STANDARD", "")
    assert "recordingConfigurationArn" not in request


def test_reset_deletes_every_key_then_creates_one() -> None:
    client = ivs()
    with Stubber(client) as stubber:
        listed = {"streamKeys": [{"arn": OLD_KEY, "channelArn": CHANNEL}, {"arn": KEY, "channelArn": CHANNEL}]}
        checked(stubber, "ListStreamKeys", listed, {"channelArn": CHANNEL, "maxResults": 50})
        checked(stubber, "DeleteStreamKey", {}, {"arn": OLD_KEY})
        # Gone meanwhile (a concurrent reset): the work is done.
        stubber.add_client_error("delete_stream_key", "ResourceNotFoundException", http_status_code=404)
        assert strict_model.findings("ivs", "DeleteStreamKey", {"arn": KEY}) == []
        new = key_wire(arn="arn:aws:ivs:us-east-1:123456789012:stream-key/NeW123456789", value="sk_new")
        checked(stubber, "CreateStreamKey", {"streamKey": new}, {"channelArn": CHANNEL})
        key = IvsChannels(client).reset_stream_key(CHANNEL)
        stubber.assert_no_pending_responses()
    assert key.value == "sk_new"


def test_is_live_reads_the_stream_and_not_broadcasting_is_offline() -> None:
    client = ivs()
    with Stubber(client) as stubber:
        stream = {"channelArn": CHANNEL, "streamId": "st-" + "a" * 23, "state": "LIVE", "health": "HEALTHY"}
        checked(stubber, "GetStream", {"stream": stream}, {"channelArn": CHANNEL})
        stubber.add_client_error("get_stream", "ChannelNotBroadcasting", http_status_code=404)
        channels = IvsChannels(client)
        assert channels.is_live(CHANNEL) is True
        assert channels.is_live(CHANNEL) is False
        stubber.assert_no_pending_responses()


def test_stop_stream_of_an_ended_stream_is_done() -> None:
    client = ivs()
    with Stubber(client) as stubber:
        checked(stubber, "StopStream", {}, {"channelArn": CHANNEL})
        stubber.add_client_error("stop_stream", "ChannelNotBroadcasting", http_status_code=404)
        channels = IvsChannels(client)
        channels.stop_stream(CHANNEL)
        channels.stop_stream(CHANNEL)
        stubber.assert_no_pending_responses()


def test_delete_channels_deletes_every_exact_name_match() -> None:
    client = ivs()
    other = "arn:aws:ivs:us-east-1:123456789012:channel/OtHeR1234567"
    with Stubber(client) as stubber:
        listed = {
            "channels": [
                {"arn": CHANNEL, "name": NAME},
                # filterByName is a prefix match: a longer name is someone else's channel.
                {"arn": other, "name": NAME + "x"},
            ]
        }
        checked(stubber, "ListChannels", listed, {"filterByName": NAME, "maxResults": 100})
        stubber.add_client_error("get_stream", "ChannelNotBroadcasting", http_status_code=404)
        checked(stubber, "DeleteChannel", {}, {"arn": CHANNEL})
        assert IvsChannels(client).delete_channels(NAME) == 1
        stubber.assert_no_pending_responses()


def test_delete_channels_of_a_live_channel_stops_it_first_and_pages() -> None:
    client = ivs()
    with Stubber(client) as stubber:
        checked(stubber, "ListChannels", {"channels": [], "nextToken": "t1"}, {"filterByName": NAME, "maxResults": 100})
        page = {"channels": [{"arn": CHANNEL, "name": NAME}]}
        checked(stubber, "ListChannels", page, {"filterByName": NAME, "maxResults": 100, "nextToken": "t1"})
        stream = {"channelArn": CHANNEL, "state": "LIVE"}
        checked(stubber, "GetStream", {"stream": stream}, {"channelArn": CHANNEL})
        checked(stubber, "StopStream", {}, {"channelArn": CHANNEL})
        # IVS refuses while the stream is still ending: retried later by the stream consumer.
        stubber.add_client_error("delete_channel", "ConflictException", http_status_code=409)
        with pytest.raises(ChannelUnavailable):
            IvsChannels(client).delete_channels(NAME)
        stubber.assert_no_pending_responses()


def test_delete_channels_when_none_is_left() -> None:
    client = ivs()
    with Stubber(client) as stubber:
        checked(stubber, "ListChannels", {"channels": []}, {"filterByName": NAME, "maxResults": 100})
        assert IvsChannels(client).delete_channels(NAME) == 0


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 429, ChannelUnavailable),
        ("InternalServerException", 500, ChannelUnavailable),
        ("ServiceQuotaExceededException", 402, ChannelQuotaExceeded),
        ("ResourceNotFoundException", 404, ChannelNotFound),
    ],
)
def test_client_errors_become_domain_errors(code: str, status: int, expected: type[Exception]) -> None:
    client = ivs()
    with Stubber(client) as stubber:
        stubber.add_client_error("create_channel", code, http_status_code=status)
        with pytest.raises(expected):
            IvsChannels(client).create_channel(NAME, TAGS, record=False)


def test_a_validation_error_stays_a_client_error() -> None:
    from botocore.exceptions import ClientError

    client = ivs()
    with Stubber(client) as stubber:
        stubber.add_client_error("create_channel", "ValidationException", http_status_code=400)
        with pytest.raises(ClientError):
            IvsChannels(client).create_channel(NAME, TAGS, record=False)


# -- the stack's recording configuration (resources.LIVE_RECORDING_CONFIGURATION) ---------------


def test_the_recording_configuration_request_passes_the_model() -> None:
    """What the devstack sends its IVS plane (and infra builds as AWS::IVS::RecordingConfiguration)."""
    from devstack.bootstrap import ensure_recording_configuration, recording_configuration_request

    request = recording_configuration_request("videoplane-media")
    assert request["destinationConfiguration"] == {"s3": {"bucketName": "videoplane-media"}}
    assert request["recordingReconnectWindowSeconds"] == 0  # each push alone: streams join their own
    client = ivs()
    destination = request["destinationConfiguration"]
    created = {"arn": RECORDING, "name": request["name"], "destinationConfiguration": destination, "state": "ACTIVE"}
    with Stubber(client) as stubber:
        checked(stubber, "ListRecordingConfigurations", {"recordingConfigurations": []}, {})
        checked(stubber, "CreateRecordingConfiguration", {"recordingConfiguration": created}, request)
        assert ensure_recording_configuration(client, "videoplane-media") == RECORDING
        # Found by name on the next start: never a second one.
        checked(stubber, "ListRecordingConfigurations", {"recordingConfigurations": [created]}, {})
        assert ensure_recording_configuration(client, "videoplane-media") == RECORDING
        stubber.assert_no_pending_responses()


def test_a_private_streams_channel_is_authorized_and_public_flips_it() -> None:
    client = ivs()
    with Stubber(client) as stubber:
        request = create_channel_request(NAME, TAGS, False, "STANDARD", "", authorized=True)
        assert request["authorized"] is True
        checked(stubber, "CreateChannel", {"channel": channel_wire(), "streamKey": key_wire()}, request)
        checked(stubber, "UpdateChannel", {"channel": channel_wire()}, {"arn": CHANNEL, "authorized": False})
        channels = IvsChannels(client)
        channels.create_channel(NAME, TAGS, record=False, authorized=True)
        channels.set_authorized(CHANNEL, False)
        stubber.assert_no_pending_responses()
