"""AWS Elemental MediaLive: one channel per managed live event, created and started when the event
is armed, stopped and deleted when it ends (docs/live.md, "Managed live events").

Arming makes, in order, each only if it is not there yet (a retried arm finds what an earlier
attempt made: inputs and channels by their deterministic names, the security group by its tags):
1. an input security group (the configured CIDRs: loopback on the devstack, 0.0.0.0/0 by default);
2. the inputs: two push inputs (RTMP_PUSH, or SRT_LISTENER with the stack's passphrase secret),
   primary and backup, or one MP4_FILE input for a premiere (the video's source);
3. a SINGLE_PIPELINE channel (the MediaLive role) attaching them, with AutomaticInputFailoverSettings
   on the primary from the profile's thresholds, the profile's ladder as one HLS output group to the
   media bucket under the event's prefix, and the profile's input loss behaviour;
then, once the service has stored the channel (`start`), StartChannel when it is IDLE. Ending stops
the channel, deletes it, then its inputs and security group; anything already gone counts as done.

ClientError codes become domain errors here: throttling, conflicts (a channel still changing state)
and MediaLive's own failures are `ChannelUnavailable` (503, retry), a missing resource
`ChannelNotFound` (a delete's work is done), a refused request (BadRequest, UnprocessableEntity)
`ChannelRefused`. Anything else (Forbidden: the role) stays a ClientError (500, logged).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.core.adapters.calls import translated_call
from chalicelib.live.domain import live_events
from chalicelib.live.domain.errors import ChannelEnded, ChannelNotFound, ChannelRefused, ChannelUnavailable
from chalicelib.live.domain.live_event_templates import LiveProfile
from chalicelib.live.domain.live_events import ChannelResources, Ingest, LiveEvent, RouteName

_RETRYABLE = {
    "TooManyRequestsException",
    "InternalServerErrorException",
    "BadGatewayException",
    "GatewayTimeoutException",
    "ConflictException",
}
_REFUSED = {"BadRequestException", "UnprocessableEntityException"}
TAG_APP, TAG_PROJECT, TAG_EVENT = "videoplane:app", "videoplane:projectId", "videoplane:liveEventId"
AUDIO_SELECTOR = "audio"
DESTINATION = "hls"
SRT_MINIMUM_LATENCY_MS = 2000
# A channel takes seconds to be created and to stop; an arm or an end waits this long for it, then
# answers 503 so the caller (a client, the schedule's timer) retries.
STATE_POLLS = 20
POLL_SECONDS = 1.0
_PAGE = 100


@dataclass(frozen=True)
class MediaLiveSettings:
    role_arn: str
    media_bucket: str
    ingest_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    srt_passphrase_secret_arn: str = ""
    media_base_url: str = ""


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate(error: ClientError) -> Exception:
    code = _code(error)
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code == "NotFoundException":
        return ChannelNotFound(str(error))
    if code in _RETRYABLE or status >= 500:
        return ChannelUnavailable()
    if code in _REFUSED:
        return ChannelRefused(detail=str(error.response.get("Error", {}).get("Message", "")) or None)
    return error


def tags(event: LiveEvent) -> dict[str, str]:
    return {TAG_APP: "videoplane", TAG_PROJECT: event.project_id, TAG_EVENT: event.live_event_id}


# -- requests (pure, so the unit tests walk them against the model) --------------------------------


def request_id(event: LiveEvent, role: str) -> str:
    """MediaLive's idempotency token (CreateInput, CreateChannel): two arms of the same event version
    racing past the lookup get one resource, not two."""
    return f"{event.live_event_id}-{role}-v{event.version}"


def security_group_request(event: LiveEvent, cidrs: Sequence[str]) -> dict[str, Any]:
    return {"WhitelistRules": [{"Cidr": cidr} for cidr in cidrs], "Tags": tags(event)}


def push_input_request(
    event: LiveEvent, route: RouteName, protocol: str, security_group_id: str, srt_secret_arn: str
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "Name": live_events.resource_name(event, route.value),
        "RequestId": request_id(event, route.value),
        "InputSecurityGroups": [security_group_id],
        "Tags": tags(event),
    }
    if protocol == "srt":
        if not srt_secret_arn:
            raise ChannelRefused(detail="SRT routes need the stack's SRT passphrase secret, which is not configured.")
        listener = {
            "MinimumLatency": SRT_MINIMUM_LATENCY_MS,
            "Decryption": {"Algorithm": "AES256", "PassphraseSecretArn": srt_secret_arn},
            "StreamId": f"{event.live_event_id}/{route.value}",
        }
        return {**request, "Type": "SRT_LISTENER", "SrtSettings": {"SrtListenerSettings": listener}}
    # One destination: a SINGLE_PIPELINE input. The encoder pushes to rtmp://<ip>:1935/<event>/<route>.
    return {**request, "Type": "RTMP_PUSH", "Destinations": [{"StreamName": f"{event.live_event_id}/{route.value}"}]}


def file_input_request(event: LiveEvent, source_url: str) -> dict[str, Any]:
    return {
        "Name": live_events.resource_name(event, "file"),
        "RequestId": request_id(event, "file"),
        "Type": "MP4_FILE",
        "Sources": [{"Url": source_url}],
        "Tags": tags(event),
    }


def _input_settings(premiere: bool) -> dict[str, Any]:
    settings: dict[str, Any] = {"AudioSelectors": [{"Name": AUDIO_SELECTOR}]}
    if premiere:
        # The file plays once; past its end the input loss behaviour fills until the event ends.
        settings["SourceEndBehavior"] = "CONTINUE"
    return settings


def failover_settings(profile: LiveProfile, secondary_input_id: str) -> dict[str, Any]:
    failover = profile.failover
    conditions: list[dict[str, Any]] = [
        {"FailoverConditionSettings": {"InputLossSettings": {"InputLossThresholdMsec": failover.input_loss_ms}}}
    ]
    if failover.black_video_ms is not None:
        black = {"BlackDetectThreshold": failover.black_threshold, "VideoBlackThresholdMsec": failover.black_video_ms}
        conditions.append({"FailoverConditionSettings": {"VideoBlackSettings": black}})
    if failover.audio_silence_ms is not None:
        silence = {"AudioSelectorName": AUDIO_SELECTOR, "AudioSilenceThresholdMsec": failover.audio_silence_ms}
        conditions.append({"FailoverConditionSettings": {"AudioSilenceSettings": silence}})
    return {
        "SecondaryInputId": secondary_input_id,
        "InputPreference": failover.input_preference,
        "ErrorClearTimeMsec": failover.error_clear_ms,
        "FailoverConditions": conditions,
    }


def input_attachments(event: LiveEvent, input_ids: dict[str, str]) -> list[dict[str, Any]]:
    if event.premiere:
        return [{"InputAttachmentName": "file", "InputId": input_ids["file"], "InputSettings": _input_settings(True)}]
    primary: dict[str, Any] = {
        "InputAttachmentName": RouteName.PRIMARY.value,
        "InputId": input_ids[RouteName.PRIMARY.value],
        "InputSettings": _input_settings(False),
    }
    attachments = [primary]
    if RouteName.BACKUP.value in input_ids:
        backup_id = input_ids[RouteName.BACKUP.value]
        primary["AutomaticInputFailoverSettings"] = failover_settings(event.profile, backup_id)
        attachments.append(
            {
                "InputAttachmentName": RouteName.BACKUP.value,
                "InputId": backup_id,
                "InputSettings": _input_settings(False),
            }
        )
    return attachments


def _width(height: int) -> int:
    """16:9, rounded to an even number of pixels."""
    return int(math.ceil(height * 16 / 9 / 2) * 2)


def encoder_settings(profile: LiveProfile) -> dict[str, Any]:
    videos, audios, outputs = [], [], []
    for rendition in profile.ladder:
        label = f"{rendition.height}p"
        videos.append(
            {
                "Name": f"video_{label}",
                "Height": rendition.height,
                "Width": _width(rendition.height),
                "ScalingBehavior": "DEFAULT",
                "RespondToAfd": "NONE",
                "CodecSettings": {
                    "H264Settings": {
                        "Bitrate": rendition.bitrate,
                        "RateControlMode": "CBR",
                        "Profile": "HIGH" if rendition.height >= 720 else "MAIN",
                        "Level": "H264_LEVEL_AUTO",
                        # One keyframe per segment, so every segment starts one.
                        "GopSize": float(profile.segment_seconds),
                        "GopSizeUnits": "SECONDS",
                        "FramerateControl": "INITIALIZE_FROM_SOURCE",
                        "AdaptiveQuantization": "AUTO",
                        "SceneChangeDetect": "ENABLED",
                    }
                },
            }
        )
        # MediaLive encodes audio per output: one description each.
        audios.append(
            {
                "Name": f"audio_{label}",
                "AudioSelectorName": AUDIO_SELECTOR,
                "CodecSettings": {
                    "AacSettings": {"Bitrate": 128000.0, "CodingMode": "CODING_MODE_2_0", "SampleRate": 48000.0}
                },
            }
        )
        outputs.append(
            {
                "OutputName": label,
                "VideoDescriptionName": f"video_{label}",
                "AudioDescriptionNames": [f"audio_{label}"],
                "OutputSettings": {
                    "HlsOutputSettings": {
                        "NameModifier": f"_{label}",
                        "HlsSettings": {"StandardHlsSettings": {"M3u8Settings": {}}},
                    }
                },
            }
        )
    return {
        "VideoDescriptions": videos,
        "AudioDescriptions": audios,
        "OutputGroups": [
            {"Name": "hls", "OutputGroupSettings": {"HlsGroupSettings": hls_group(profile)}, "Outputs": outputs}
        ],
        "TimecodeConfig": {"Source": "SYSTEMCLOCK"},
        "GlobalConfiguration": {
            "InputLossBehavior": {
                "RepeatFrameMsec": profile.input_loss.repeat_frame_ms,
                "BlackFrameMsec": profile.input_loss.black_frame_ms,
                "InputLossImageType": "COLOR",
                "InputLossImageColor": "000000",
            },
            "OutputTimingSource": "SYSTEM_CLOCK",
        },
    }


def hls_group(profile: LiveProfile) -> dict[str, Any]:
    """A short manifest window for low latency; a recorded event keeps every segment (Mode VOD: an
    EVENT playlist while live, a VOD one once stopped)."""
    window = 3 if profile.latency_mode == "low" else 6
    group: dict[str, Any] = {
        "Destination": {"DestinationRefId": DESTINATION},
        "HlsCdnSettings": {"HlsS3Settings": {}},
        "SegmentLength": profile.segment_seconds,
        "IndexNSegments": window,
        "InputLossAction": profile.input_loss.action,
        "ProgramDateTime": "INCLUDE",
        "DiscontinuityTags": "INSERT",
        "IncompleteSegmentBehavior": "AUTO",
        "ManifestDurationFormat": "FLOATING_POINT",
        "Mode": "VOD" if profile.record else "LIVE",
    }
    if not profile.record:
        # MediaLive's advice: keep 2 x window + 1, so players never fetch a deleted segment.
        group["KeepSegments"] = 2 * window + 1
    return group


def output_url(event: LiveEvent, bucket: str) -> str:
    return f"s3ssl://{bucket}/{live_events.output_prefix(event)}index"


def create_channel_request(event: LiveEvent, input_ids: dict[str, str], settings: MediaLiveSettings) -> dict[str, Any]:
    return {
        "Name": live_events.resource_name(event, "channel"),
        "RequestId": request_id(event, "channel"),
        "ChannelClass": "SINGLE_PIPELINE",
        "RoleArn": settings.role_arn,
        "InputSpecification": {"Codec": "AVC", "Resolution": "HD", "MaximumBitrate": "MAX_20_MBPS"},
        "InputAttachments": input_attachments(event, input_ids),
        "Destinations": [{"Id": DESTINATION, "Settings": [{"Url": output_url(event, settings.media_bucket)}]}],
        "EncoderSettings": encoder_settings(event.profile),
        "LogLevel": "ERROR",
        "Tags": tags(event),
    }


def input_switch_request(channel_id: str, route: RouteName, action_name: str) -> dict[str, Any]:
    """An immediate input switch to the route's attachment (MediaLive takes it within the failover
    pair only with EQUAL_INPUT_PREFERENCE; domain/live_events.require_manual_switch)."""
    return {
        "ChannelId": channel_id,
        "Creates": {
            "ScheduleActions": [
                {
                    "ActionName": action_name,
                    "ScheduleActionStartSettings": {"ImmediateModeScheduleActionStartSettings": {}},
                    "ScheduleActionSettings": {"InputSwitchSettings": {"InputAttachmentNameReference": route.value}},
                }
            ]
        },
    }


# -- the adapter ------------------------------------------------------------------------------------


class MediaLiveChannels:
    def __init__(
        self,
        client: Any,
        settings: MediaLiveSettings,
        source_url: Callable[[LiveEvent], str | None] = lambda event: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.settings = settings
        self.source_url = source_url
        self.sleep = sleep

    def create(self, event: LiveEvent) -> ChannelResources:
        """Makes what is missing, up to the channel, and starts nothing: the caller stores the channel
        before starting it, so none of its MediaLive events finds no event."""
        group_id: str | None = None
        if event.premiere:
            url = self.source_url(event)
            if url is None:
                raise ChannelRefused(detail="The video has no uploaded source to premiere.")
            input_ids = {"file": self._ensure_input(file_input_request(event, url))}
        else:
            group_id = self._ensure_security_group(event)
            input_ids = {}
            for route, request in ((RouteName.PRIMARY, event.routes.primary), (RouteName.BACKUP, event.routes.backup)):
                if request is not None:
                    input_ids[route.value] = self._ensure_input(
                        push_input_request(
                            event, route, request.protocol, group_id, self.settings.srt_passphrase_secret_arn
                        )
                    )
        channel = self._find("list_channels", "Channels", live_events.resource_name(event, "channel"))
        if channel is None:
            channel = self._call("create_channel", **create_channel_request(event, input_ids, self.settings))["Channel"]
        ingest = tuple(self._ingest(event, input_ids))
        return ChannelResources(
            channel_id=channel["Id"],
            channel_arn=channel["Arn"],
            input_security_group_id=group_id,
            input_ids=tuple(input_ids.values()),
            ingest=ingest,
            playback_url=f"{self.settings.media_base_url.rstrip('/')}/{live_events.output_prefix(event)}index.m3u8",
        )

    def start(self, event: LiveEvent) -> None:
        """Starts the stored channel once it is IDLE; one starting or running already is left alone."""
        if event.channel is None:
            raise ChannelNotFound(event.live_event_id)
        self._start(event.channel.channel_id)

    def release(self, event: LiveEvent) -> None:
        channel = self._find("list_channels", "Channels", live_events.resource_name(event, "channel"))
        if channel is not None:
            self._stop_and_delete(channel["Id"])
        for role in ("primary", "backup", "file"):
            found = self._find("list_inputs", "Inputs", live_events.resource_name(event, role))
            if found is not None:
                self._forget("delete_input", InputId=found["Id"])
        group = self._security_group(event)
        if group is not None:
            self._forget("delete_input_security_group", InputSecurityGroupId=group["Id"])

    def switch_input(self, event: LiveEvent, route: RouteName) -> None:
        if event.channel is None:
            raise ChannelNotFound(event.live_event_id)
        action = f"videoplane-{route.value}-{event.version}"
        self._call("batch_update_schedule", **input_switch_request(event.channel.channel_id, route, action))

    # -- steps --

    def _ensure_security_group(self, event: LiveEvent) -> str:
        found = self._security_group(event)
        if found is not None:
            return str(found["Id"])
        created = self._call("create_input_security_group", **security_group_request(event, self.settings.ingest_cidrs))
        return str(created["SecurityGroup"]["Id"])

    def _security_group(self, event: LiveEvent) -> dict[str, Any] | None:
        for group in self._pages("list_input_security_groups", "InputSecurityGroups"):
            if group.get("Tags", {}).get(TAG_EVENT) == event.live_event_id and group.get("State") != "DELETED":
                return group
        return None

    def _ensure_input(self, request: dict[str, Any]) -> str:
        found = self._find("list_inputs", "Inputs", request["Name"])
        if found is not None:
            return str(found["Id"])
        return str(self._call("create_input", **request)["Input"]["Id"])

    def _ingest(self, event: LiveEvent, input_ids: dict[str, str]) -> Iterator[Ingest]:
        for role, input_id in input_ids.items():
            if role == "file":
                continue
            described = self._call("describe_input", InputId=input_id)
            urls = [d["Url"] for d in described.get("Destinations", []) if d.get("Url")]
            route = RouteName(role)
            request = event.routes.primary if route is RouteName.PRIMARY else event.routes.backup
            protocol = request.protocol if request is not None else "rtmp"
            yield Ingest(route=route, protocol=protocol, input_id=input_id, url=urls[0] if urls else "")

    def _start(self, channel_id: str) -> None:
        gone = {"DELETING", "DELETED"}
        state = self._await_state(channel_id, until={"IDLE", "STARTING", "RUNNING", *gone})
        if state in gone:
            # Only an end deletes the channel: waiting on would end in a 503 "still DELETED".
            raise ChannelEnded(detail=f"The MediaLive channel is {state}.")
        if state == "IDLE":
            self._call("start_channel", ChannelId=channel_id)

    def _stop_and_delete(self, channel_id: str) -> None:
        try:
            gone = {"DELETING", "DELETED"}
            state = self._await_state(channel_id, until={"IDLE", "RUNNING", "CREATE_FAILED", *gone})
            if state == "RUNNING":
                self._call("stop_channel", ChannelId=channel_id)
                state = self._await_state(channel_id, until={"IDLE", *gone})
            if state == "DELETING":
                # Another release got there first (the API's end and the consumer's, after IDLE).
                state = self._await_state(channel_id, until={"DELETED"})
            if state != "DELETED":
                self._call("delete_channel", ChannelId=channel_id)
                # Inputs can be deleted once no channel holds them.
                self._await_state(channel_id, until={"DELETED"})
        except ChannelNotFound:
            return

    def _await_state(self, channel_id: str, until: set[str]) -> str:
        for attempt in range(STATE_POLLS):
            state = str(self._call("describe_channel", ChannelId=channel_id).get("State", ""))
            if state in until:
                return state
            if attempt < STATE_POLLS - 1:
                self.sleep(POLL_SECONDS)
        raise ChannelUnavailable(detail=f"The MediaLive channel is still {state}; retry the request.")

    def _forget(self, operation: str, **params: Any) -> None:
        try:
            self._call(operation, **params)
        except ChannelNotFound:
            return

    def _find(self, operation: str, key: str, name: str) -> dict[str, Any] | None:
        for item in self._pages(operation, key):
            if item.get("Name") == name and item.get("State") not in ("DELETING", "DELETED"):
                return item
        return None

    def _pages(self, operation: str, key: str) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {"MaxResults": _PAGE}
        while True:
            response = self._call(operation, **request)
            yield from response.get(key, [])
            if not response.get("NextToken"):
                return
            request["NextToken"] = response["NextToken"]

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        return translated_call(self.client, translate, operation, **params)
