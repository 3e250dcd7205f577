"""Amazon IVS (low-latency channels): the live plane's control API.

One channel per live stream, LOW latency, of the type a setting chooses (STANDARD transcodes a
ladder, BASIC passes the source through), RTMP allowed beside RTMPS (`insecureIngest`), recorded
with the stack's recording configuration when the stream records. Channels are found again by
their deterministic name (ListChannels filterByName), which is how a channel is released even if
the request that created it died before saving it.

ClientError codes become domain errors here: throttling and IVS's own failures are
`ChannelUnavailable` (503, retry), quotas `ChannelQuotaExceeded`, a missing resource
`ChannelNotFound` (a delete's work is already done). Anything else is a bug in the request or the
role, and stays a ClientError (500, logged).
"""

from __future__ import annotations

from typing import Any, Literal

from botocore.exceptions import ClientError

from chalicelib.core.adapters.calls import translated_call
from chalicelib.live.domain.errors import ChannelNotFound, ChannelQuotaExceeded, ChannelUnavailable
from chalicelib.live.domain.live_streams import Channel, StreamKey

ChannelType = Literal["STANDARD", "BASIC"]
_RETRYABLE = {"ThrottlingException", "InternalServerException", "PendingVerification", "ConflictException"}
# ListChannels pages hold at most 100; a name matches one channel (a crashed request may have
# left a second one, which is released too).
_PAGE = 100


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate(error: ClientError) -> Exception:
    code = _code(error)
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code == "ResourceNotFoundException":
        return ChannelNotFound(str(error))
    if code == "ServiceQuotaExceededException":
        return ChannelQuotaExceeded(detail="The account's IVS quota of channels or stream keys is reached.")
    if code in _RETRYABLE or status >= 500:
        return ChannelUnavailable()
    return error


def channel_from_wire(channel: dict[str, Any]) -> Channel:
    srt = channel.get("srt") or {}
    return Channel(
        arn=channel["arn"],
        ingest_endpoint=channel.get("ingestEndpoint", ""),
        playback_url=channel.get("playbackUrl", ""),
        srt_endpoint=srt.get("endpoint"),
        srt_passphrase=srt.get("passphrase"),
    )


def stream_key_from_wire(key: dict[str, Any]) -> StreamKey:
    return StreamKey(arn=key["arn"], value=key["value"])


def create_channel_request(
    name: str,
    tags: dict[str, str],
    record: bool,
    channel_type: ChannelType,
    recording_configuration_arn: str,
    authorized: bool = False,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "name": name,
        "latencyMode": "LOW",
        "type": channel_type,
        # RTMP (not only RTMPS) is one of the ingest protocols a live stream offers.
        "insecureIngest": True,
        # A private stream's channel plays only with a playback JWT (ES384, the stack's key pair).
        "authorized": authorized,
        "tags": tags,
    }
    if record and recording_configuration_arn:
        request["recordingConfigurationArn"] = recording_configuration_arn
    return request


class IvsChannels:
    def __init__(
        self, client: Any, channel_type: ChannelType = "STANDARD", recording_configuration_arn: str = ""
    ) -> None:
        self.client = client
        self.channel_type = channel_type
        self.recording_configuration_arn = recording_configuration_arn

    def create_channel(
        self, name: str, tags: dict[str, str], record: bool, authorized: bool = False
    ) -> tuple[Channel, StreamKey]:
        request = create_channel_request(
            name, tags, record, self.channel_type, self.recording_configuration_arn, authorized
        )
        response = self._call("create_channel", **request)
        return channel_from_wire(response["channel"]), stream_key_from_wire(response["streamKey"])

    def set_authorized(self, channel_arn: str, authorized: bool) -> None:
        """Private (playback JWTs required) or public; IVS applies it to new viewer sessions."""
        self._call("update_channel", arn=channel_arn, authorized=authorized)

    def reset_stream_key(self, channel_arn: str) -> StreamKey:
        for arn in self._stream_key_arns(channel_arn):
            try:
                self._call("delete_stream_key", arn=arn)
            except ChannelNotFound:
                continue
        return stream_key_from_wire(self._call("create_stream_key", channelArn=channel_arn)["streamKey"])

    def is_live(self, channel_arn: str) -> bool:
        try:
            stream = self._call("get_stream", channelArn=channel_arn)["stream"]
        except ClientError as error:
            if _code(error) == "ChannelNotBroadcasting":
                return False
            raise
        return bool(stream.get("state") == "LIVE")

    def stop_stream(self, channel_arn: str) -> None:
        try:
            self._call("stop_stream", channelArn=channel_arn)
        except ClientError as error:
            # Ended between the check and the stop: what `complete` wanted.
            if _code(error) != "ChannelNotBroadcasting":
                raise

    def delete_channels(self, name: str) -> int:
        deleted = 0
        for arn in self._channel_arns(name):
            try:
                if self.is_live(arn):
                    # IVS refuses to delete a live channel (ConflictException, retried as
                    # ChannelUnavailable by the stream consumer) until the stopped stream has ended.
                    self.stop_stream(arn)
                self._call("delete_channel", arn=arn)
            except ChannelNotFound:
                continue
            deleted += 1
        return deleted

    def _channel_arns(self, name: str) -> list[str]:
        arns: list[str] = []
        request: dict[str, Any] = {"filterByName": name, "maxResults": _PAGE}
        while True:
            response = self._call("list_channels", **request)
            # filterByName matches names that start with the filter; keep exact matches only.
            arns.extend(c["arn"] for c in response.get("channels", []) if c.get("name") == name)
            if not response.get("nextToken"):
                return arns
            request["nextToken"] = response["nextToken"]

    def _stream_key_arns(self, channel_arn: str) -> list[str]:
        arns: list[str] = []
        request: dict[str, Any] = {"channelArn": channel_arn, "maxResults": 50}
        while True:
            response = self._call("list_stream_keys", **request)
            arns.extend(k["arn"] for k in response.get("streamKeys", []))
            if not response.get("nextToken"):
                return arns
            request["nextToken"] = response["nextToken"]

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        return translated_call(self.client, translate, operation, **params)
