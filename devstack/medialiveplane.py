"""A stand-in for AWS Elemental MediaLive, speaking its REST-JSON API on loopback, with live media.

moto's MediaLive stores channels and inputs but never attaches inputs, runs nothing and emits no
events (research B8, aws-media 3.1). The app's `boto3.client("medialive")` is pointed here with
AWS_ENDPOINT_URL_MEDIALIVE. Paths, members and error codes are botocore's `medialive` model: the
request body is read member by member against the model at every depth (its camelCase wire
names), so an unknown or missing member, a wrong type or a value outside an enum is MediaLive's
`BadRequestException` (400); an unknown id is `NotFoundException` (404); deleting a running channel
or an attached input, or updating a channel that is not IDLE, is `ConflictException` (409); a
channel whose attachments or destinations do not hold together is `UnprocessableEntityException`
(422). Operations: Create/Describe/List/DeleteInputSecurityGroup, Create/Describe/List/DeleteInput
(RTMP_PUSH, SRT_LISTENER, MP4_FILE), Create/Describe/List/Update/Start/Stop/DeleteChannel,
ListAlerts, BatchUpdateSchedule and DescribeSchedule (input switches). Channels, inputs, security
groups and schedules are kept in memory and (when given a file) on disk; running media and alerts
are not (a restart leaves every channel IDLE, as after a StopChannel). Deleted channels and inputs
stay describable as DELETED (botocore's ChannelDeleted and InputDeleted waiters wait for that) and
leave the lists.

Inputs
- RTMP_PUSH: `Destinations=[{StreamName: "app/key"}]`; DescribeInput answers
  `rtmp://127.0.0.1:<port>/app/key`, one port per input (from a pool of INPUT_PORTS taken at start,
  `listener_ports()`, which the devstack denies to loopback URLs) kept across restarts. The encoder must push
  while the channel runs (as on MediaLive); ffmpeg listens on that port (`-listen 1`, research B2)
  and is started again whenever a publisher leaves.
- SRT_LISTENER: `SrtSettings.SrtListenerSettings {MinimumLatency, Decryption {Algorithm,
  PassphraseSecretArn}}`; the destination is `srt://127.0.0.1:<port>`. The passphrase is read from
  the emulated Secrets Manager when the plane has a client for it (else the listener is open).
- MP4_FILE: `Sources=[{Url: "s3ssl://bucket/key"}]` (or `s3://`). When its attachment is active
  the object is played in real time (`-re`) into the channel's output; at its end (attachment
  `InputSettings.SourceEndBehavior` CONTINUE, the default) the output playlist ends
  (`#EXT-X-ENDLIST`) and the channel raises "Video Not Detected"; LOOP plays it again.

Channels (SINGLE_PIPELINE, pipeline "0"): CreateChannel attaches its inputs (State ATTACHED,
AttachedChannels); StartChannel answers STARTING and the channel is RUNNING once its listeners are
up and `start_seconds` (2 s; tens of seconds on MediaLive) have passed. Each input writes its own
HLS (1 s segments, stream copy: the ladder in EncoderSettings is echoed but the source is passed
through, one rendition). A playlist switcher in Python (research
B7) writes the channel's output from the active input:
- the primary is the attachment with `AutomaticInputFailoverSettings` (both inputs of the pair are
  push inputs, as MediaLive requires; an RTMP and an SRT input may pair here, which MediaLive's
  documentation neither states nor excludes); it fails over to
  `SecondaryInputId`'s attachment when the active input's newest segment is older than
  `InputLossThresholdMsec` (MediaLive's default 1000 ms when the condition is absent) and the other
  input is healthy, or when a `VideoBlackSettings` condition holds for `VideoBlackThresholdMsec`
  (black is only ever injected, see faults);
- with PRIMARY_INPUT_PREFERRED it switches back once the primary has been healthy for
  `ErrorClearTimeMsec` (default 30 000 ms, as MediaLive marks an input healthy after 30 s); with
  EQUAL_INPUT_PREFERENCE it stays on the healthy input;
- at a switch the backup's segments that start after the last one written are taken at once
  (both inputs carry program date-times), and `#EXT-X-DISCONTINUITY` precedes them;
  MEDIA-SEQUENCE only grows and DISCONTINUITY-SEQUENCE counts the discontinuities that left the
  window.
An operator's InputSwitch (schedule action, immediate or fixed start) makes its attachment active
and names itself in PipelineDetails and the Input Change event. As on MediaLive ("Switching within
the input failover pair", MediaLive user guide): a switch between the two inputs of a failover pair
is allowed only with EQUAL_INPUT_PREFERENCE, else BatchUpdateSchedule refuses it
(BadRequestException); automatic failover stays armed after a manual switch. Unlike MediaLive, a
fixed start may be less than 15 s ahead (tests need not wait), and follow starts are refused.

Output and playback: the HLS output group's destination `s3ssl://<bucket>/<path>/<base>` gets, as
MediaLive writes HLS to S3, `<base>.m3u8` (the multivariant playlist), `<base><NameModifier>.m3u8`
and `<base><NameModifier>_<n>.ts` (the first output's NameModifier; `IndexNSegments`, default 10,
segments in the window). Every file is put to that bucket of the emulated account, and written to
a folder that the media server mounts at `<path>/`, so a player reads
`{media}/<path>/<base>.m3u8` (the destination's key plus `.m3u8`) while the channel runs. Keys
under `live/<id>/` and `vod/` belong to the media server's IVS and VOD checks: use another prefix.

Events on the account's default bus (source aws.medialive, research B9), best effort as AWS's:
"MediaLive Channel State Change" {channel_arn, state, message, pipelines_running_count} with the
API's states (IDLE "Created channel", STARTING, RUNNING, STOPPING, IDLE "Stopped channel",
DELETED "Deleted channel"); "MediaLive Channel Alert" {alarm_state SET|CLEARED, alarm_id,
alert_type, pipeline, channel_arn, message} with the wordings "RTMP Has No Audio/Video" (an RTMP
input's publisher is gone), "Video Not Detected" (an SRT or file input stopped), "Black Video
Detected" and "Input Failed Over" (set while the backup is active); "MediaLive Channel Input
Change" {active_input_attachment_name, active_input_switch_action_name, channel_arn, message,
pipeline} at each switch.

Metrics: every `metrics_seconds` (5) per running channel, to the emulated CloudWatch in namespace
AWS/MediaLive with dimensions ChannelId and Pipeline ("0"): ActiveAlerts, InputLossSeconds (the
seconds of the period without content from the active input), DroppedFrames, NetworkIn (Mb/s
read from the active input) and InputVideoFrameRate.

Faults (devstack only): `POST /_devstack/channels/{channelId}/faults` with
`{"input": <attachment name>, "kind": "loss"|"packet-loss"|"black", "seconds": n}`. `loss` hides that
input's new segments for n s (its input alert is set, the switcher fails over as for a dead
publisher); `black` raises "Black Video Detected" and fails over after VideoBlackThresholdMsec when
the pair has that condition; `packet-loss` makes the channel report DroppedFrames (5 % of the
frames, counted while that input is the active one) for n s without failing over: the metric an
incident alarm watches (devstack/alarmplane.py), back to 0 once the fault ends. The answer is 202
with the fault; unknown channels or inputs get 404.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.model import Shape, StructureShape

from devstack.loopback import JsonApiPlane, PlaneError, RawReply

logger = logging.getLogger(__name__)

REGION = "us-east-1"
ACCOUNT = "000000000000"
PIPELINE = "0"
SOURCE = "aws.medialive"
STATE_CHANGE = "MediaLive Channel State Change"
ALERT = "MediaLive Channel Alert"
INPUT_CHANGE = "MediaLive Channel Input Change"
NAMESPACE = "AWS/MediaLive"
RTMP_NO_MEDIA = "RTMP Has No Audio/Video"
VIDEO_NOT_DETECTED = "Video Not Detected"
BLACK_VIDEO = "Black Video Detected"
FAILED_OVER = "Input Failed Over"
PUSH_TYPES = ("RTMP_PUSH", "SRT_LISTENER")
MAX_PUSH_INPUTS = 2  # MediaLive's limit per channel (a failover pair uses it up)
INPUT_TYPES = (*PUSH_TYPES, "MP4_FILE")
SEGMENT_SECONDS = 1
INPUT_PLAYLIST = "index.m3u8"
INPUT_LIST_SIZE = 10
DEFAULT_INPUT_LOSS_MSEC = 1000
DEFAULT_ERROR_CLEAR_MSEC = 30_000
DEFAULT_BLACK_MSEC = 2000
DEFAULT_INDEX_SEGMENTS = 10
DEFAULT_KEEP_SEGMENTS = 21
TICK_SECONDS = 0.1
START_SECONDS = 2.0
# Push inputs at once (two per managed live event): the size of the listener port pool.
INPUT_PORTS = 64
RESTART_PAUSE_SECONDS = 0.2
STOP_TIMEOUT_SECONDS = 5.0
PACKET_LOSS_SHARE = 0.05
FRAME_RATE = 30.0
# A backup segment joins the output at a switch if it starts no earlier than this before the
# last written one ended (program date-times of two encoders differ by their clocks' skew).
JOIN_SLACK_SECONDS = 0.5
SRT_LATENCY_MSEC_DEFAULT = 120
PROBE_MICROSECONDS = 500_000
FAULT_PATH = re.compile(r"^/_devstack/channels/([^/]+)/faults$")
FAULT_KINDS = ("loss", "packet-loss", "black")
STATUSES = {
    "BadRequestException": 400,
    "ForbiddenException": 403,
    "NotFoundException": 404,
    "ConflictException": 409,
    "UnprocessableEntityException": 422,
    "TooManyRequestsException": 429,
}


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def bindable(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# Where the pool is looked for: just below the ephemeral range (Linux's default 32768-60999).
POOL_SPAN = 8192


def ephemeral_range() -> tuple[int, int]:
    """The ports the kernel hands out to `bind(port 0)`: the range the pool must stay out of."""
    try:
        low, high = (int(n) for n in EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


def reserve_ports(count: int) -> tuple[int, ...]:
    """`count` distinct loopback ports free now for TCP (RTMP) and UDP (SRT), from below the
    ephemeral range: the pool is left unbound until an input listens on it, so a port the kernel
    could give to any `bind(port 0)` (a test's webhook receiver) would then be refused as one of the
    stack's own. A random start keeps two stacks on one machine apart."""
    low, _ = ephemeral_range()
    first = max(1024, low - POOL_SPAN)
    candidates = list(range(first, low))
    start = random.randrange(len(candidates))
    ports: list[int] = []
    for port in candidates[start:] + candidates[:start]:
        if bindable(port, socket.SOCK_STREAM) and bindable(port, socket.SOCK_DGRAM):
            ports.append(port)
            if len(ports) == count:
                break
    return tuple(ports)


def s3_location(url: str) -> tuple[str, str]:
    """(bucket, key) of an `s3ssl://` or `s3://` URL, as MediaLive names S3 objects."""
    parts = urlsplit(url)
    if parts.scheme not in ("s3", "s3ssl") or not parts.netloc or not parts.path.strip("/"):
        raise PlaneError("UnprocessableEntityException", f"{url} is not an s3ssl://bucket/key URL.")
    if "." in parts.netloc:
        raise PlaneError("UnprocessableEntityException", f"Bucket names with dots are not supported: {url}.")
    return parts.netloc, parts.path.lstrip("/")


# -- the REST-JSON wire, both ways, by botocore's model --------------------------------------------


def _bad(where: str, why: str) -> PlaneError:
    return PlaneError("BadRequestException", f"{where}: {why}")


def from_wire(shape: Shape, value: Any, where: str) -> Any:
    """A request member from its JSON (camelCase wire names) to the model's names, refusing what
    MediaLive's own validation refuses: unknown or missing members, wrong types, enum values."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return structure_from_wire(dict(shape.members), shape.required_members, value, where)
    if kind == "list":
        if not isinstance(value, list):
            raise _bad(where, "expected a list")
        return [from_wire(shape.member, item, f"{where}[{i}]") for i, item in enumerate(value)]  # type: ignore[attr-defined]
    if kind == "map":
        if not isinstance(value, dict):
            raise _bad(where, "expected a map")
        return {k: from_wire(shape.value, v, f"{where}.{k}") for k, v in value.items()}  # type: ignore[attr-defined]
    return _scalar(shape, value, where)


def structure_from_wire(members: dict[str, Shape], required: list[str], value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(where, "expected an object")
    names = {m.serialization.get("name", n): n for n, m in members.items()}
    parsed: dict[str, Any] = {}
    for key, item in value.items():
        name = names.get(key)
        if name is None:
            raise _bad(where, f"unknown member {key}")
        parsed[name] = from_wire(members[name], item, f"{where}.{key}")
    missing = [n for n in required if n in members and n not in parsed]
    if missing:
        raise _bad(where, f"missing {', '.join(missing)}")
    return parsed


def _scalar(shape: Shape, value: Any, where: str) -> Any:
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            raise _bad(where, "expected a string")
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            raise _bad(where, f"{value} is not one of {', '.join(enum)}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(where, "expected an integer")
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise _bad(where, f"{value} is outside {low}..{high}")
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(where, "expected a number")
    elif kind == "boolean" and not isinstance(value, bool):
        raise _bad(where, "expected a boolean")
    return value


def to_wire(shape: Shape, value: Any) -> Any:
    """A response member from the model's names to its JSON; members the shape lacks are dropped
    (the plane's own bookkeeping)."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        assert isinstance(shape, StructureShape)
        return {
            shape.members[n].serialization.get("name", n): to_wire(shape.members[n], v)
            for n, v in value.items()
            if n in shape.members and v is not None
        }
    if kind == "list" and isinstance(value, list):
        return [to_wire(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, dict):
        return {k: to_wire(shape.value, v) for k, v in value.items()}  # type: ignore[attr-defined]
    return value


def _template(uri: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(uri))
    return re.compile(f"^{pattern}$")


# -- media: one input's listener, one channel's switcher ------------------------------------------


@dataclass
class Segment:
    name: str  # in the input's folder
    duration: float
    started: float  # program date-time (epoch s); 0 when the input gave none
    seen: float  # monotonic time the switcher first saw it


@dataclass
class Fault:
    kind: str
    begun: float  # monotonic
    until: float


class Feed:
    """One attached input: a supervised ffmpeg writing that input's HLS into its own folder."""

    def __init__(self, run: ChannelRun, attachment: dict[str, Any], source: dict[str, Any], folder: Path) -> None:
        self.run = run
        self.name: str = attachment["InputAttachmentName"]
        self.settings: dict[str, Any] = attachment.get("InputSettings") or {}
        self.source = source  # the Input
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.segments: list[Segment] = []
        self.known: set[str] = set()
        self.last_new: float | None = None
        self.healthy_since: float | None = None
        self.unhealthy_since: float | None = time.monotonic()
        self.bytes_read = 0
        self.ended = False  # a file input played to its end
        self.faults: list[Fault] = []
        self.runs = 0
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.local_file: Path | None = None

    @property
    def kind(self) -> str:
        return str(self.source["Type"])

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.thread = threading.Thread(target=self._supervise, name=f"medialive-{self.name}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()

    def fault(self, kind: str, now: float) -> bool:
        return any(f.kind == kind and f.until > now for f in self.faults)

    def _supervise(self) -> None:
        while not self.stopping.is_set():
            command = self._command()
            if command is None:
                return
            self.runs += 1
            try:
                self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.PIPE)  # fmt: skip
            except OSError:
                logger.exception("medialive: could not start the listener of %s", self.name)
                return
            _, stderr = self.process.communicate()
            if self.stopping.is_set():
                return
            if self.kind == "MP4_FILE":
                if self.settings.get("SourceEndBehavior") != "LOOP":
                    self.ended = True
                    return
            elif self.process.returncode not in (0, None):
                logger.debug("medialive: %s listener exited %s: %s", self.name, self.process.returncode, stderr[-300:])
            self.stopping.wait(RESTART_PAUSE_SECONDS)

    def _command(self) -> list[str] | None:
        ffmpeg = self.run.plane.ffmpeg
        output = [
            "-c", "copy", "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_list_size", str(INPUT_LIST_SIZE),
            "-hls_flags", "delete_segments+independent_segments+program_date_time+temp_file+omit_endlist",
            "-hls_segment_filename", str(self.folder / f"r{self.runs:03d}_%05d.ts"), str(self.folder / INPUT_PLAYLIST),
        ]  # fmt: skip
        head = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin"]
        if self.kind == "RTMP_PUSH":
            url = self.source["Destinations"][0]["Url"]
            return [*head, "-listen", "1", "-i", url, *output]
        if self.kind == "SRT_LISTENER":
            url = self.run.plane.srt_listener_url(self.source)
            probe = ["-analyzeduration", str(PROBE_MICROSECONDS), "-fpsprobesize", "0"]
            return [*head, *probe, "-i", url, *output]
        if self.local_file is None:
            self.local_file = self.run.plane.fetch_file(self.source, self.folder)
            if self.local_file is None:
                self.ended = True
                return None
        return [*head, "-re", "-i", str(self.local_file), *output]

    def poll(self, now: float) -> list[Segment]:
        """The segments its playlist lists that the switcher had not seen (hidden under a `loss` fault)."""
        try:
            text = (self.folder / INPUT_PLAYLIST).read_text()
        except FileNotFoundError:
            return []
        fresh: list[Segment] = []
        duration, started = 0.0, 0.0
        for line in text.splitlines():
            if line.startswith("#EXTINF:"):
                duration = float(line[len("#EXTINF:") :].split(",", 1)[0] or 0)
            elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
                with contextlib.suppress(ValueError):
                    started = datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00")).timestamp()
            elif line and not line.startswith("#"):
                if line not in self.known:
                    self.known.add(line)
                    fresh.append(Segment(line, duration, started, now))
                duration, started = 0.0, 0.0
        if self.fault("loss", now):
            return []
        for segment in fresh:
            with contextlib.suppress(OSError):
                self.bytes_read += (self.folder / segment.name).stat().st_size
        self.segments = (self.segments + fresh)[-INPUT_LIST_SIZE:]
        if fresh:
            self.last_new = now
        return fresh


@dataclass
class Published:
    sequence: int
    name: str
    origin: str  # <attachment>/<segment>: what it copies
    duration: float
    started: float
    discontinuity: bool


@dataclass
class Alert:
    alert_type: str
    alarm_id: str
    message: str


@dataclass
class Failover:
    primary: str
    secondary: str
    preference: str
    loss_msec: int
    clear_msec: int
    black_msec: int | None


class ChannelRun:
    """A started channel: its feeds, the playlist switcher and the metrics, on one thread."""

    def __init__(self, plane: MediaLivePlane, channel: dict[str, Any], folder: Path) -> None:
        self.plane = plane
        self.channel = channel
        self.arn: str = channel["Arn"]
        self.folder = folder
        self.feeds: dict[str, Feed] = {}
        attachments = channel.get("InputAttachments", [])
        for attachment in attachments:
            source = plane.inputs[attachment["InputId"]]
            self.feeds[attachment["InputAttachmentName"]] = Feed(
                self, attachment, source, folder / "inputs" / attachment["InputAttachmentName"]
            )
        self.failover = _failover_of(attachments)
        self.active: str = attachments[0]["InputAttachmentName"]
        self.action_name = ""
        self.output = _output_of(channel, folder / "output")
        self.published: list[Published] = []
        self.sequence = 0
        self.discontinuity_sequence = 0
        self.pending_discontinuity = False
        self.ended = False
        self.alerts: dict[tuple[str, str], Alert] = {}  # (alert type, attachment) -> set alert
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.started_at = time.monotonic()
        self.metrics_at = time.monotonic()
        self.loss_seconds = 0.0
        self.dropped_frames = 0.0
        self.switches: list[tuple[float, str, str]] = []  # (monotonic, attachment, action name): for tests
        self.manual: list[tuple[str, str]] = []  # (attachment, action name) switches to apply

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.output.folder.mkdir(parents=True, exist_ok=True)
        for feed in self.feeds.values():
            if feed.kind in PUSH_TYPES or feed.name == self.active:
                feed.start()
        self.thread = threading.Thread(target=self._loop, name=f"medialive-{self.channel['Id']}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(STOP_TIMEOUT_SECONDS)
        for feed in self.feeds.values():
            feed.stop()
        if not self.ended and self.published:
            self._write_output(end=True)

    def _loop(self) -> None:
        while not self.stopping.wait(TICK_SECONDS):
            try:
                with self.plane.lock:
                    self.tick(time.monotonic())
            except Exception:
                logger.exception("medialive: the switcher of %s failed a tick", self.arn)

    # -- the switcher -----------------------------------------------------------------------

    def tick(self, now: float) -> None:
        fresh = {name: feed.poll(now) for name, feed in self.feeds.items()}
        for feed in self.feeds.values():
            self._health(feed, now)
        self.plane.schedule_due(self.channel["Id"])
        self._apply_manual()
        self._failover(now)
        if self.ended:
            return
        feed = self.feeds[self.active]
        self._append(fresh[self.active], feed)
        if (
            feed.kind == "MP4_FILE"
            and feed.ended
            and not any(f.name != feed.name and self._healthy(f, now) for f in self.feeds.values())
        ):
            self._end_of_file(feed)
        self._report(now, feed)

    def _healthy(self, feed: Feed, now: float) -> bool:
        if feed.last_new is None or feed.ended:
            return False
        loss = self.failover.loss_msec if self.failover else DEFAULT_INPUT_LOSS_MSEC
        if now - feed.last_new > loss / 1000:
            return False
        return not feed.fault("black", now)

    def _health(self, feed: Feed, now: float) -> None:
        healthy = self._healthy(feed, now)
        if healthy and feed.healthy_since is None:
            feed.healthy_since, feed.unhealthy_since = now, None
        elif not healthy and feed.unhealthy_since is None:
            feed.healthy_since, feed.unhealthy_since = None, now
        # Input alerts follow the input's own health, active or not (MediaLive watches both).
        # A file's end is its own alert (_end_of_file); a push's loss is set and cleared here.
        if feed.kind in PUSH_TYPES:
            lost = feed.last_new is not None and not self._healthy(feed, now) and not feed.fault("black", now)
            wording = RTMP_NO_MEDIA if feed.kind == "RTMP_PUSH" else VIDEO_NOT_DETECTED
            self._alert(wording, feed.name, lost, f"Input [{feed.name}] has no audio or video for the loss threshold.")
        self._alert(BLACK_VIDEO, feed.name, feed.fault("black", now), f"Black video detected on input [{feed.name}].")

    def _failover(self, now: float) -> None:
        pair = self.failover
        if pair is None or self.active not in (pair.primary, pair.secondary):
            return
        active = self.feeds[self.active]
        other = self.feeds[pair.secondary if self.active == pair.primary else pair.primary]
        lost = active.ended or active.last_new is None or now - active.last_new > pair.loss_msec / 1000
        black = next((f for f in active.faults if f.kind == "black" and f.until > now), None)
        blacked = black is not None and pair.black_msec is not None and now - black.begun >= pair.black_msec / 1000
        if (lost or blacked) and self._healthy(other, now):
            reason = "black video" if active.fault("black", now) else "input loss"
            self._switch(other.name, "", f"Failed over from [{active.name}] to [{other.name}] on {reason}.")
            return
        back = (
            pair.preference == "PRIMARY_INPUT_PREFERRED"
            and self.active == pair.secondary
            and not self.action_name
            and self.feeds[pair.primary].healthy_since is not None
            and now - (self.feeds[pair.primary].healthy_since or now) >= pair.clear_msec / 1000
        )
        if back:
            self._switch(pair.primary, "", f"Switched back to the primary input [{pair.primary}].")

    def _apply_manual(self) -> None:
        while self.manual:
            name, action = self.manual.pop(0)
            if name != self.active:
                self._switch(name, action, f"Switched to [{name}] by schedule action [{action}].")
            self.action_name = action

    def _switch(self, name: str, action: str, message: str) -> None:
        self.active, self.action_name = name, action
        self.pending_discontinuity = True
        self.switches.append((time.monotonic(), name, action))
        feed = self.feeds[name]
        if feed.thread is None:
            feed.start()
        if self.published:
            # The new input's segments that follow the last one written join at once.
            end = self.published[-1].started + self.published[-1].duration
            backlog = [s for s in feed.segments if s.started and s.started + JOIN_SLACK_SECONDS >= end]
            self._append(backlog, feed)
        logger.info("medialive: %s %s", self.channel["Id"], message)
        self.plane.emit(INPUT_CHANGE, self.arn, {
            "active_input_attachment_name": name,
            "active_input_switch_action_name": action,
            "channel_arn": self.arn,
            "message": message,
            "pipeline": PIPELINE,
        })  # fmt: skip
        pair = self.failover
        if pair is not None:
            on_backup = name == pair.secondary
            self._alert(FAILED_OVER, pair.primary, on_backup, f"Input failed over from [{pair.primary}] to [{name}].")

    def _append(self, segments: list[Segment], feed: Feed) -> bool:
        written = False
        for segment in segments:
            if any(p.origin == f"{feed.name}/{segment.name}" for p in self.published[-INPUT_LIST_SIZE:]):
                continue
            try:
                data = (feed.folder / segment.name).read_bytes()
            except FileNotFoundError:
                continue
            self.sequence += 1
            name = f"{self.output.media_name}_{self.sequence:05d}.ts"
            (self.output.folder / name).write_bytes(data)
            self.plane.put_object(self.output.bucket, f"{self.output.prefix}{name}", data, "video/MP2T")
            discontinuity = self.pending_discontinuity and bool(self.published)
            origin = f"{feed.name}/{segment.name}"
            self.published.append(
                Published(self.sequence, name, origin, segment.duration, segment.started, discontinuity)
            )
            self.pending_discontinuity = False
            written = True
        if written:
            self._write_output(end=False)
        return written

    def _write_output(self, end: bool) -> None:
        out = self.output
        window = self.published[-out.index_segments :]
        dropped = self.published[: -out.index_segments] if len(self.published) > out.index_segments else []
        self.discontinuity_sequence = sum(1 for p in dropped if p.discontinuity)
        target = max([1, *(round(p.duration + 0.5) for p in window)])
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{target}",
            f"#EXT-X-MEDIA-SEQUENCE:{window[0].sequence if window else 0}",
            f"#EXT-X-DISCONTINUITY-SEQUENCE:{self.discontinuity_sequence}",
        ]
        for item in window:
            if item.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            if item.started:
                stamp = datetime.fromtimestamp(item.started, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{stamp}")
            lines += [f"#EXTINF:{item.duration:.6f},", item.name]
        if end:
            lines.append("#EXT-X-ENDLIST")
        text = ("\n".join(lines) + "\n").encode()
        _atomic_write(out.folder / f"{out.media_name}.m3u8", text)
        self.plane.put_object(out.bucket, f"{out.prefix}{out.media_name}.m3u8", text, "application/x-mpegURL")
        master = out.folder / f"{out.base}.m3u8"
        if not master.exists():
            body = (
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
                f"#EXT-X-STREAM-INF:BANDWIDTH={out.bandwidth}\n{out.media_name}.m3u8\n"
            ).encode()
            _atomic_write(master, body)
            self.plane.put_object(out.bucket, f"{out.prefix}{out.base}.m3u8", body, "application/x-mpegURL")
        for old in self.published[: -out.keep_segments]:
            (out.folder / old.name).unlink(missing_ok=True)

    def _end_of_file(self, feed: Feed) -> None:
        self.ended = True
        self._write_output(end=True)
        self._alert(VIDEO_NOT_DETECTED, feed.name, True, f"Input [{feed.name}] reached the end of its file.")

    def _alert(self, wording: str, attachment: str, on: bool, message: str) -> None:
        key = (wording, attachment)
        current = self.alerts.get(key)
        if on == (current is not None):
            return
        if on:
            seed = f"{self.arn}{wording}{attachment}{time.time()}".encode()
            current = Alert(wording, hashlib.sha1(seed).hexdigest(), message)
            self.alerts[key] = current
        else:
            assert current is not None
            del self.alerts[key]
        self.plane.log_alert(self.channel["Id"], current, on)
        self.plane.emit(ALERT, self.arn, {
            "alarm_state": "SET" if on else "CLEARED",
            "alarm_id": current.alarm_id,
            "alert_type": wording,
            "pipeline": PIPELINE,
            "channel_arn": self.arn,
            "message": current.message,
        })  # fmt: skip

    # -- metrics ----------------------------------------------------------------------------

    def _report(self, now: float, feed: Feed) -> None:
        if not self._healthy(feed, now) and now - self.started_at > 1:
            self.loss_seconds += TICK_SECONDS
        # Counted per tick while the active input's fault lasts, so the period's sum is the frames
        # really lost in it (a fault that ended mid-period counts its part; one on the other input none).
        if self._healthy(feed, now) and feed.fault("packet-loss", now):
            self.dropped_frames += FRAME_RATE * TICK_SECONDS * PACKET_LOSS_SHARE
        period = now - self.metrics_at
        if period < self.plane.metrics_seconds:
            return
        frames = FRAME_RATE if self._healthy(feed, now) else 0.0
        dropped, self.dropped_frames = self.dropped_frames, 0.0
        values = {
            "ActiveAlerts": (float(len(self.alerts)), "Count"),
            "InputLossSeconds": (round(self.loss_seconds, 1), "Seconds"),
            "DroppedFrames": (round(dropped), "Count"),
            "NetworkIn": (feed.bytes_read * 8 / 1_000_000 / period, "Megabits/Second"),
            "InputVideoFrameRate": (frames, "Count/Second"),
        }
        for each in self.feeds.values():
            each.bytes_read = 0
        self.loss_seconds, self.metrics_at = 0.0, now
        self.plane.put_metrics(self.channel["Id"], values)


@dataclass
class Output:
    bucket: str
    prefix: str  # the destination key's folder, with its slash ("" at the bucket's root)
    base: str  # the destination key's last part (MediaLive's base filename)
    name_modifier: str
    folder: Path
    index_segments: int
    keep_segments: int
    bandwidth: int

    @property
    def media_name(self) -> str:
        return f"{self.base}{self.name_modifier}"


def _output_of(channel: dict[str, Any], folder: Path) -> Output:
    group = channel["EncoderSettings"]["OutputGroups"][0]
    hls = group["OutputGroupSettings"]["HlsGroupSettings"]
    destination = next(d for d in channel["Destinations"] if d["Id"] == hls["Destination"]["DestinationRefId"])
    bucket, key = s3_location(destination["Settings"][0]["Url"])
    prefix, _, base = key.rpartition("/")
    first = group["Outputs"][0]
    modifier = first["OutputSettings"].get("HlsOutputSettings", {}).get("NameModifier", "")
    video: dict[str, Any] = next(
        (v for v in channel["EncoderSettings"]["VideoDescriptions"] if v["Name"] == first.get("VideoDescriptionName")),
        {},
    )
    bitrate = video.get("CodecSettings", {}).get("H264Settings", {}).get("Bitrate", 1_000_000)
    index = hls.get("IndexNSegments", DEFAULT_INDEX_SEGMENTS)
    return Output(
        bucket=bucket,
        prefix=f"{prefix}/" if prefix else "",
        base=base,
        name_modifier=modifier,
        folder=folder,
        index_segments=index,
        keep_segments=max(hls.get("KeepSegments", DEFAULT_KEEP_SEGMENTS), index + 1),
        bandwidth=int(bitrate),
    )


def _failover_of(attachments: list[dict[str, Any]]) -> Failover | None:
    for attachment in attachments:
        settings = attachment.get("AutomaticInputFailoverSettings")
        if not settings:
            continue
        secondary = next(a for a in attachments if a["InputId"] == settings["SecondaryInputId"])
        loss, black = DEFAULT_INPUT_LOSS_MSEC, None
        for condition in settings.get("FailoverConditions", []):
            found = condition.get("FailoverConditionSettings", {})
            if "InputLossSettings" in found:
                loss = found["InputLossSettings"].get("InputLossThresholdMsec", DEFAULT_INPUT_LOSS_MSEC)
            if "VideoBlackSettings" in found:
                black = found["VideoBlackSettings"].get("VideoBlackThresholdMsec", DEFAULT_BLACK_MSEC)
        return Failover(
            primary=attachment["InputAttachmentName"],
            secondary=secondary["InputAttachmentName"],
            preference=settings.get("InputPreference", "EQUAL_INPUT_PREFERENCE"),
            loss_msec=loss,
            clear_msec=settings.get("ErrorClearTimeMsec", DEFAULT_ERROR_CLEAR_MSEC),
            black_msec=black,
        )
    return None


def _atomic_write(path: Path, data: bytes) -> None:
    partial = path.with_suffix(path.suffix + ".tmp")
    partial.write_bytes(data)
    partial.replace(path)


# -- the plane --------------------------------------------------------------------------------------


class MediaLivePlane(JsonApiPlane):
    service = "medialive"
    statuses = STATUSES

    def __init__(
        self,
        ffmpeg: str,
        media_dir: Path,
        state_file: Path | None = None,
        events: Any = None,
        s3: Any = None,
        cloudwatch: Any = None,
        secrets: Any = None,
        mount: Callable[[str, Path], None] | None = None,
        metrics_seconds: float = 5.0,
        start_seconds: float = START_SECONDS,
        input_ports: int = INPUT_PORTS,
        region: str = REGION,
        account: str = ACCOUNT,
    ) -> None:
        self.security_groups: dict[str, dict[str, Any]] = {}
        self.inputs: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.schedules: dict[str, list[dict[str, Any]]] = {}
        self.request_ids: dict[str, str] = {}
        self.region, self.account = region, account
        super().__init__(state_file)
        self.ffmpeg = ffmpeg
        self.media_dir = media_dir
        self.events = events  # EventBridge of the emulated account: MediaLive reports on its default bus
        self.s3 = s3
        self.cloudwatch = cloudwatch
        self.secrets = secrets
        self.mount = mount  # the media server's: serves a channel's output folder at its destination
        self.metrics_seconds = metrics_seconds
        self.start_seconds = start_seconds
        self.runs: dict[str, ChannelRun] = {}
        # ListAlerts: each channel's alerts by id, set and cleared (in memory, as MediaLive keeps them briefly).
        self.alert_log: dict[str, dict[str, dict[str, Any]]] = {}
        # Push inputs listen on ports of a pool taken now, so the devstack can deny them all to the
        # loopback allowance of ingest and webhook URLs before any input exists (listener_ports).
        self.input_ports = reserve_ports(input_ports)
        http = {name: self._model.operation_model(name).http for name in self._model.operation_names}
        self._templates = [(h["method"], _template(h["requestUri"]), name) for name, h in http.items()]

    # -- state ------------------------------------------------------------------------------

    def load(self, state: dict[str, Any]) -> None:
        self.security_groups = state.get("securityGroups", {})
        self.inputs = state.get("inputs", {})
        self.channels = state.get("channels", {})
        self.schedules = state.get("schedules", {})
        self.request_ids = state.get("requestIds", {})
        # Running media is not kept: a restart stops every channel.
        for channel in self.channels.values():
            if channel["State"] not in ("IDLE", "DELETED"):
                channel["State"] = "IDLE"
            channel["PipelinesRunningCount"] = 0
            channel["PipelineDetails"] = []

    def dump(self) -> dict[str, Any]:
        return {
            "securityGroups": self.security_groups,
            "inputs": self.inputs,
            "channels": self.channels,
            "schedules": self.schedules,
            "requestIds": self.request_ids,
        }

    def listener_ports(self) -> frozenset[int]:
        """Every port a push input listens on or may: the pool, and restored inputs' own."""
        return frozenset(self.input_ports) | {int(port) for port in self._ports_in_use()}

    def _ports_in_use(self) -> set[int]:
        return {int(i["_port"]) for i in self.inputs.values() if "_port" in i and i.get("State") != "DELETED"}

    def _input_port(self, kind: int) -> int:
        in_use = self._ports_in_use()
        for port in self.input_ports:
            if port not in in_use and bindable(port, kind):
                return port
        raise PlaneError(
            "UnprocessableEntityException",
            f"The devstack's MediaLive plane has no free input port ({len(self.input_ports)} push inputs at most).",
        )

    def stop(self) -> None:
        for run in list(self.runs.values()):
            run.stop()
        self.runs.clear()
        super().stop()

    # -- HTTP -------------------------------------------------------------------------------

    def handle_other(self, method: str, path: str, headers: Message, body: bytes) -> RawReply | None:
        url = urlsplit(path)
        fault = FAULT_PATH.match(url.path)
        if fault is not None and method == "POST":
            return self._fault(fault.group(1), body)
        if not url.path.startswith("/prod/"):
            return None
        try:
            operation, params = self.parse(method, url.path, url.query, body)
            status, result = self.invoke(operation, params)
        except PlaneError as error:
            code = "BadRequestException" if error.code == "ValidationException" else error.code
            reply = json.dumps({"message": error.message}).encode()
            return RawReply(
                self.statuses.get(code, 400), reply, {"Content-Type": "application/json", "x-amzn-ErrorType": code}
            )
        shape = self._model.operation_model(operation).output_shape
        wire = to_wire(shape, result) if shape is not None else {}
        return RawReply(status, json.dumps(wire).encode(), {"Content-Type": "application/json"})

    def parse(self, method: str, path: str, query: str, body: bytes) -> tuple[str, dict[str, Any]]:
        found = next(
            (
                (name, match)
                for verb, pattern, name in self._templates
                if verb == method and (match := pattern.match(path))
            ),
            None,
        )
        if found is None:
            raise PlaneError("NotFoundException", f"No route for {method} {path}.")
        name, match = found
        operation = self._model.operation_model(name)
        shape = operation.input_shape
        params: dict[str, Any] = {}
        if shape is None:
            return name, params
        try:
            document = json.loads(body or b"{}")
        except json.JSONDecodeError as error:
            raise PlaneError("BadRequestException", "The request body is not JSON.") from error
        body_members = {n: m for n, m in shape.members.items() if "location" not in m.serialization}
        if body_members:
            params.update(structure_from_wire(body_members, shape.required_members, document, name))
        elif document:
            raise PlaneError("BadRequestException", f"{name} takes no body.")
        queries = parse_qs(query)
        for member, item in shape.members.items():
            location, wire = item.serialization.get("location"), item.serialization.get("name", member)
            if location == "uri":
                params[member] = unquote(match.group(wire))
            elif location == "querystring" and wire in queries:
                value = queries[wire][0]
                params[member] = int(value) if item.type_name == "integer" else value
        return name, params

    def _fault(self, channel_id: str, body: bytes) -> RawReply:
        try:
            request = json.loads(body or b"{}")
            name, kind, seconds = request["input"], request["kind"], float(request["seconds"])
        except (ValueError, KeyError, TypeError):
            return _plain(400, {"message": "Send {input, kind, seconds}."})
        if kind not in FAULT_KINDS:
            return _plain(400, {"message": f"kind is one of {', '.join(FAULT_KINDS)}."})
        with self.lock:
            run = self.runs.get(channel_id)
            feed = run.feeds.get(name) if run is not None else None
            if feed is None:
                return _plain(404, {"message": f"No running channel {channel_id} with an input attachment {name}."})
            now = time.monotonic()
            feed.faults.append(Fault(kind, now, now + seconds))
        return _plain(202, {"channelId": channel_id, "input": name, "kind": kind, "seconds": seconds})

    # -- side effects -----------------------------------------------------------------------

    def emit(self, detail_type: str, arn: str, detail: dict[str, Any]) -> None:
        if self.events is None:
            return
        entry = {"Source": SOURCE, "DetailType": detail_type, "Resources": [arn], "Detail": json.dumps(detail)}
        try:
            self.events.put_events(Entries=[entry])
        except Exception:  # best effort, as MediaLive's
            logger.exception("medialive: could not put %s for %s", detail_type, arn)

    def log_alert(self, channel_id: str, alert: Alert, on: bool) -> None:
        log = self.alert_log.setdefault(channel_id, {})
        if on:
            log[alert.alarm_id] = {
                "Id": alert.alarm_id,
                "AlertType": alert.alert_type,
                "Message": alert.message,
                "PipelineId": PIPELINE,
                "SetTimestamp": _now_iso(),
                "State": "SET",
            }
        elif alert.alarm_id in log:
            log[alert.alarm_id].update(State="CLEARED", ClearedTimestamp=_now_iso())

    def put_object(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        if self.s3 is None:
            return
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
        except Exception:
            logger.exception("medialive: could not write s3://%s/%s", bucket, key)

    def put_metrics(self, channel_id: str, values: dict[str, tuple[float, str]]) -> None:
        if self.cloudwatch is None:
            return
        dimensions = [{"Name": "ChannelId", "Value": channel_id}, {"Name": "Pipeline", "Value": PIPELINE}]
        stamp = datetime.now(UTC)
        data = [
            {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": unit, "Timestamp": stamp}
            for name, (value, unit) in values.items()
        ]
        try:
            self.cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data)
        except Exception:
            logger.exception("medialive: could not put metrics of %s", channel_id)

    def fetch_file(self, source: dict[str, Any], folder: Path) -> Path | None:
        """A file input's S3 object, copied next to its HLS (ffmpeg reads it with -re)."""
        try:
            bucket, key = s3_location(source["Sources"][0]["Url"])
            path = folder / f"source{Path(key).suffix or '.mp4'}"
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            path.write_bytes(body)
            return path
        except Exception:
            logger.exception("medialive: could not read the file input %s", source["Id"])
            return None

    def srt_listener_url(self, source: dict[str, Any]) -> str:
        settings = source.get("SrtSettings", {}).get("SrtListenerSettings", {})
        latency = settings.get("MinimumLatency", SRT_LATENCY_MSEC_DEFAULT) * 1000
        url = f"srt://127.0.0.1:{source['_port']}?mode=listener&latency={latency}"
        secret = settings.get("Decryption", {}).get("PassphraseSecretArn")
        if secret and self.secrets is not None:
            passphrase = self.secrets.get_secret_value(SecretId=secret)["SecretString"]
            length = {"AES128": 16, "AES192": 24, "AES256": 32}[settings["Decryption"]["Algorithm"]]
            url += f"&passphrase={passphrase}&pbkeylen={length}"
        return url

    # -- input security groups ----------------------------------------------------------------

    def _new_id(self) -> str:
        while True:
            candidate = str(random.randint(1_000_000, 9_999_999))  # MediaLive's ids are numbers
            if (
                candidate not in self.inputs
                and candidate not in self.channels
                and candidate not in self.security_groups
            ):
                return candidate

    def _arn(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:medialive:{self.region}:{self.account}:{kind}:{resource_id}"

    def _CreateInputSecurityGroup(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - MediaLive's names
        group_id = self._new_id()
        group = {
            "Id": group_id,
            "Arn": self._arn("inputSecurityGroup", group_id),
            "State": "IDLE",
            "Inputs": [],
            "Channels": [],
            "WhitelistRules": params.get("WhitelistRules", []),
            "Tags": params.get("Tags", {}),
        }
        self.security_groups[group_id] = group
        return {"SecurityGroup": group}

    def _group(self, group_id: str) -> dict[str, Any]:
        group = self.security_groups.get(group_id)
        if group is None:
            raise PlaneError("NotFoundException", f"Input security group {group_id} does not exist.")
        return group

    def _DescribeInputSecurityGroup(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return self._group(params["InputSecurityGroupId"])

    def _ListInputSecurityGroups(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"InputSecurityGroups": list(self.security_groups.values())}

    def _DeleteInputSecurityGroup(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        group = self._group(params["InputSecurityGroupId"])
        if group["Inputs"]:
            raise PlaneError("BadRequestException", f"Input security group {group['Id']} is in use by inputs.")
        del self.security_groups[group["Id"]]
        return {}

    # -- inputs -----------------------------------------------------------------------------

    def _CreateInput(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        known = self.request_ids.get(params.get("RequestId", ""))
        if known in self.inputs:
            return {"Input": self.inputs[known]}
        kind = params.get("Type")
        if kind not in INPUT_TYPES:
            raise PlaneError(
                "BadRequestException", f"The devstack's MediaLive plane takes inputs of {', '.join(INPUT_TYPES)}."
            )
        input_id = self._new_id()
        source: dict[str, Any] = {
            "Id": input_id,
            "Arn": self._arn("input", input_id),
            "Name": params.get("Name", ""),
            "Type": kind,
            "State": "DETACHED",
            "AttachedChannels": [],
            "SecurityGroups": params.get("InputSecurityGroups", []),
            "Sources": [],
            "Destinations": [],
            "InputClass": "SINGLE_PIPELINE",
            "InputSourceType": "STATIC",
            "Tags": params.get("Tags", {}),
            "RoleArn": params.get("RoleArn"),
        }
        self._endpoints(kind, params, source)
        for group_id in source["SecurityGroups"]:
            self.security_groups[group_id]["Inputs"].append(input_id)
            self.security_groups[group_id]["State"] = "IN_USE"
        self.inputs[input_id] = source
        if params.get("RequestId"):
            self.request_ids[params["RequestId"]] = input_id
        return {"Input": {**source, "State": "CREATING"}}

    def _endpoints(self, kind: str, params: dict[str, Any], source: dict[str, Any]) -> None:
        """A push input's listening URL (a port of its own) or a file input's source."""
        if kind in PUSH_TYPES:
            groups = params.get("InputSecurityGroups", [])
            if not groups:
                raise PlaneError("BadRequestException", f"A {kind} input needs InputSecurityGroups.")
            for group_id in groups:
                self._group(group_id)
        if kind == "RTMP_PUSH":
            destinations = params.get("Destinations", [])
            if len(destinations) not in (1, 2) or not all(
                re.fullmatch(r"[^/\s]+/[^/\s]+", d.get("StreamName", "")) for d in destinations
            ):
                raise PlaneError(
                    "BadRequestException", "RTMP_PUSH takes 1 or 2 Destinations of StreamName app/instance."
                )
            port = self._input_port(socket.SOCK_STREAM)
            source["_port"] = port
            source["InputClass"] = "STANDARD" if len(destinations) == 2 else "SINGLE_PIPELINE"
            source["Destinations"] = [
                {
                    "Ip": "127.0.0.1",
                    "Port": str(port),
                    "Url": f"rtmp://127.0.0.1:{port}/{destinations[0]['StreamName']}",
                }
            ]
        elif kind == "SRT_LISTENER":
            settings = params.get("SrtSettings", {}).get("SrtListenerSettings")
            if settings is None:
                raise PlaneError("BadRequestException", "SRT_LISTENER takes SrtSettings.SrtListenerSettings.")
            port = self._input_port(socket.SOCK_DGRAM)
            source["_port"] = port
            source["SrtSettings"] = {"SrtListenerSettings": settings}
            source["Destinations"] = [{"Ip": "127.0.0.1", "Port": str(port), "Url": f"srt://127.0.0.1:{port}"}]
        else:
            sources = params.get("Sources", [])
            if len(sources) != 1 or "Url" not in sources[0]:
                raise PlaneError("BadRequestException", "MP4_FILE takes one of Sources [{Url}].")
            s3_location(sources[0]["Url"])
            source["Sources"] = [{"Url": sources[0]["Url"]}]

    def _input(self, input_id: str, deleted: bool = False) -> dict[str, Any]:
        source = self.inputs.get(input_id)
        if source is None or (source["State"] == "DELETED" and not deleted):
            raise PlaneError("NotFoundException", f"Input {input_id} does not exist.")
        return source

    def _DescribeInput(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        # Deleted inputs stay describable (DELETED), as botocore's InputDeleted waiter expects.
        return self._input(params["InputId"], deleted=True)

    def _ListInputs(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"Inputs": [i for i in self.inputs.values() if i["State"] != "DELETED"]}

    def _DeleteInput(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        source = self._input(params["InputId"])
        if source["AttachedChannels"]:
            raise PlaneError(
                "ConflictException", f"Input {source['Id']} is attached to channel {source['AttachedChannels'][0]}."
            )
        for group_id in source["SecurityGroups"]:
            group = self.security_groups.get(group_id)
            if group is not None and source["Id"] in group["Inputs"]:
                group["Inputs"].remove(source["Id"])
                group["State"] = "IN_USE" if group["Inputs"] else "IDLE"
        source["State"] = "DELETED"
        return {}

    # -- channels ---------------------------------------------------------------------------

    def _check_channel(self, params: dict[str, Any], channel_id: str) -> None:
        """What MediaLive's channel validation refuses (422) among what this plane can run."""
        attachments = params.get("InputAttachments", [])
        if not attachments:
            raise PlaneError("UnprocessableEntityException", "A channel needs InputAttachments.")
        names = [a.get("InputAttachmentName") for a in attachments]
        if None in names or len(set(names)) != len(names):
            raise PlaneError("UnprocessableEntityException", "Each input attachment needs its own InputAttachmentName.")
        for attachment in attachments:
            self._check_attachment(attachment, attachments, channel_id)
        if sum(self.inputs[a["InputId"]]["Type"] in PUSH_TYPES for a in attachments) > MAX_PUSH_INPUTS:
            raise PlaneError("UnprocessableEntityException", "A channel takes at most two push inputs.")
        if params.get("ChannelClass", "STANDARD") != "SINGLE_PIPELINE":
            raise PlaneError(
                "UnprocessableEntityException", "The devstack's MediaLive plane runs SINGLE_PIPELINE channels."
            )
        encoder = params.get("EncoderSettings")
        if not encoder:
            raise PlaneError("UnprocessableEntityException", "A channel needs EncoderSettings.")
        hls = [g for g in encoder["OutputGroups"] if "HlsGroupSettings" in g["OutputGroupSettings"]]
        if len(hls) != 1 or len(encoder["OutputGroups"]) != 1:
            raise PlaneError("UnprocessableEntityException", "The devstack runs exactly one HLS output group.")
        reference = hls[0]["OutputGroupSettings"]["HlsGroupSettings"]["Destination"].get("DestinationRefId")
        destination = next((d for d in params.get("Destinations", []) if d.get("Id") == reference), None)
        if destination is None or not destination.get("Settings"):
            raise PlaneError("UnprocessableEntityException", f"No destination {reference} with Settings [{{Url}}].")
        s3_location(destination["Settings"][0].get("Url", ""))

    def _check_attachment(self, attachment: dict[str, Any], attachments: list[dict[str, Any]], channel_id: str) -> None:
        source = self.inputs.get(attachment.get("InputId", ""))
        if source is None or source["State"] == "DELETED":
            raise PlaneError("UnprocessableEntityException", f"Input {attachment.get('InputId')} does not exist.")
        owner = [c for c in source["AttachedChannels"] if c != channel_id]
        if source["Type"] in PUSH_TYPES and owner:
            raise PlaneError("UnprocessableEntityException", f"Input {source['Id']} is attached to channel {owner[0]}.")
        failover = attachment.get("AutomaticInputFailoverSettings")
        if failover:
            secondary = self.inputs.get(failover["SecondaryInputId"])
            ids = [a.get("InputId") for a in attachments]
            if secondary is None or failover["SecondaryInputId"] not in ids:
                raise PlaneError("UnprocessableEntityException", "SecondaryInputId must be attached to the channel.")
            if secondary["Type"] not in PUSH_TYPES or source["Type"] not in PUSH_TYPES:
                # MediaLive: "You can implement automatic input failover in push inputs, but not in pull inputs."
                raise PlaneError("UnprocessableEntityException", "A failover pair is two push inputs.")

    def _CreateChannel(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        known = self.request_ids.get(params.get("RequestId", ""))
        if known in self.channels:
            return {"Channel": self.channels[known]}
        channel_id = self._new_id()
        self._check_channel(params, channel_id)
        channel = {
            "Id": channel_id,
            "Arn": self._arn("channel", channel_id),
            "Name": params.get("Name", ""),
            "ChannelClass": params["ChannelClass"],
            "Destinations": params.get("Destinations", []),
            "EncoderSettings": params["EncoderSettings"],
            "InputAttachments": params["InputAttachments"],
            "InputSpecification": params.get("InputSpecification", {}),
            "LogLevel": params.get("LogLevel", "DISABLED"),
            "RoleArn": params.get("RoleArn"),
            "Tags": params.get("Tags", {}),
            "EgressEndpoints": [{"SourceIp": "127.0.0.1"}],
            "PipelinesRunningCount": 0,
            "PipelineDetails": [],
            "State": "IDLE",
        }
        self.channels[channel_id] = channel
        self._attach(channel)
        if params.get("RequestId"):
            self.request_ids[params["RequestId"]] = channel_id
        self.emit(STATE_CHANGE, channel["Arn"], _state_detail(channel, "Created channel"))
        return {"Channel": {**channel, "State": "CREATING"}}

    def _attach(self, channel: dict[str, Any]) -> None:
        for attachment in channel["InputAttachments"]:
            source = self.inputs[attachment["InputId"]]
            if channel["Id"] not in source["AttachedChannels"]:
                source["AttachedChannels"].append(channel["Id"])
            source["State"] = "ATTACHED"
            for group_id in source["SecurityGroups"]:
                group = self.security_groups.get(group_id)
                if group is not None and channel["Id"] not in group["Channels"]:
                    group["Channels"].append(channel["Id"])

    def _detach(self, channel: dict[str, Any]) -> None:
        for attachment in channel["InputAttachments"]:
            source = self.inputs.get(attachment["InputId"])
            if source is None:
                continue
            with contextlib.suppress(ValueError):
                source["AttachedChannels"].remove(channel["Id"])
            source["State"] = "ATTACHED" if source["AttachedChannels"] else "DETACHED"
            for group_id in source["SecurityGroups"]:
                group = self.security_groups.get(group_id)
                if group is not None and channel["Id"] in group["Channels"]:
                    group["Channels"].remove(channel["Id"])

    def _channel(self, channel_id: str, deleted: bool = False) -> dict[str, Any]:
        channel = self.channels.get(channel_id)
        if channel is None or (channel["State"] == "DELETED" and not deleted):
            raise PlaneError("NotFoundException", f"Channel {channel_id} does not exist.")
        return channel

    def _DescribeChannel(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        # Deleted channels stay describable (DELETED), as botocore's ChannelDeleted waiter expects.
        channel = self._channel(params["ChannelId"], deleted=True)
        run = self.runs.get(channel["Id"])
        if run is not None and channel["State"] == "RUNNING":
            channel["PipelineDetails"] = [{
                "PipelineId": PIPELINE,
                "ActiveInputAttachmentName": run.active,
                "ActiveInputSwitchActionName": run.action_name,
            }]  # fmt: skip
        return channel

    def _ListChannels(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"Channels": [c for c in self.channels.values() if c["State"] != "DELETED"]}

    def _UpdateChannel(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(params["ChannelId"])
        if channel["State"] != "IDLE":
            raise PlaneError(
                "ConflictException", f"Channel {channel['Id']} is {channel['State']}: only IDLE channels update."
            )
        merged = {**channel, **{k: v for k, v in params.items() if k != "ChannelId"}}
        self._check_channel(merged, channel["Id"])
        self._detach(channel)
        for name in (
            "Destinations",
            "EncoderSettings",
            "InputAttachments",
            "InputSpecification",
            "LogLevel",
            "Name",
            "RoleArn",
        ):
            if name in params:
                channel[name] = params[name]
        self._attach(channel)
        return {"Channel": channel}

    def _StartChannel(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(params["ChannelId"])
        if channel["State"] != "IDLE":
            raise PlaneError("ConflictException", f"Channel {channel['Id']} is {channel['State']}.")
        channel["State"] = "STARTING"
        self.emit(STATE_CHANGE, channel["Arn"], _state_detail(channel, "Starting channel"))
        run = ChannelRun(self, channel, self.media_dir / channel["Id"])
        self.runs[channel["Id"]] = run
        threading.Thread(target=self._run, args=(channel, run), daemon=True).start()
        return channel

    def _run(self, channel: dict[str, Any], run: ChannelRun) -> None:
        begun = time.monotonic()
        run.start()
        # STARTING lasts a little, as on MediaLive (where it lasts tens of seconds): the caller
        # of StartChannel has time to record the channel before its RUNNING event arrives.
        time.sleep(max(0.0, begun + self.start_seconds - time.monotonic()))
        if self.mount is not None and run.output.prefix:
            self.mount(run.output.prefix, run.output.folder)
        with self.lock:
            if channel["State"] != "STARTING":
                return
            channel["State"], channel["PipelinesRunningCount"] = "RUNNING", 1
            self._DescribeChannel({"ChannelId": channel["Id"]})
            self.save()
        self.emit(STATE_CHANGE, channel["Arn"], _state_detail(channel, "Running channel"))

    def _StopChannel(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(params["ChannelId"])
        if channel["State"] not in ("RUNNING", "STARTING"):
            raise PlaneError("ConflictException", f"Channel {channel['Id']} is {channel['State']}.")
        channel["State"] = "STOPPING"
        self.emit(STATE_CHANGE, channel["Arn"], _state_detail(channel, "Stopping channel"))
        run = self.runs.pop(channel["Id"], None)
        threading.Thread(target=self._halt, args=(channel, run), daemon=True).start()
        return channel

    def _halt(self, channel: dict[str, Any], run: ChannelRun | None) -> None:
        if run is not None:
            run.stop()
        with self.lock:
            channel["State"], channel["PipelinesRunningCount"], channel["PipelineDetails"] = "IDLE", 0, []
            self.save()
        self.emit(STATE_CHANGE, channel["Arn"], _state_detail(channel, "Stopped channel"))

    def _DeleteChannel(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(params["ChannelId"])
        if channel["State"] != "IDLE":
            raise PlaneError("ConflictException", f"Channel {channel['Id']} is {channel['State']}: stop it first.")
        self._detach(channel)
        channel["State"] = "DELETED"
        self.schedules.pop(channel["Id"], None)
        self.emit(STATE_CHANGE, channel["Arn"], _state_detail(channel, "Deleted channel"))
        return {**channel, "State": "DELETING"}

    # -- schedule ---------------------------------------------------------------------------

    def _BatchUpdateSchedule(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(params["ChannelId"])
        actions = self.schedules.setdefault(channel["Id"], [])
        deleted: list[dict[str, Any]] = []
        for name in params.get("Deletes", {}).get("ActionNames", []):
            found = next((a for a in actions if a["ActionName"] == name), None)
            if found is None:
                raise PlaneError("NotFoundException", f"No schedule action {name}.")
            actions.remove(found)
            deleted.append(found)
        created = params.get("Creates", {}).get("ScheduleActions", [])
        for action in created:
            self._check_action(channel, action, actions)
        for action in created:
            actions.append({**action, "_done": False})
        result: dict[str, Any] = {"Creates": {"ScheduleActions": created}}
        if deleted:
            result["Deletes"] = {"ScheduleActions": deleted}
        return result

    def _check_action(self, channel: dict[str, Any], action: dict[str, Any], actions: list[dict[str, Any]]) -> None:
        if any(a["ActionName"] == action["ActionName"] for a in actions):
            raise PlaneError("BadRequestException", f"Schedule action {action['ActionName']} exists.")
        switch = action["ScheduleActionSettings"].get("InputSwitchSettings")
        if switch is None:
            raise PlaneError("BadRequestException", "The devstack's MediaLive plane schedules input switches only.")
        start = action["ScheduleActionStartSettings"]
        if "FollowModeScheduleActionStartSettings" in start:
            raise PlaneError("BadRequestException", "The devstack's MediaLive plane takes immediate or fixed starts.")
        target = switch["InputAttachmentNameReference"]
        names = [a["InputAttachmentName"] for a in channel["InputAttachments"]]
        if target not in names:
            raise PlaneError("BadRequestException", f"No input attachment {target} on channel {channel['Id']}.")
        pair = _failover_of(channel["InputAttachments"])
        if pair is not None and target == pair.secondary and pair.preference != "EQUAL_INPUT_PREFERENCE":
            # MediaLive: switching within a failover pair needs EQUAL_INPUT_PREFERENCE.
            raise PlaneError(
                "BadRequestException",
                f"{target} is the secondary of a failover pair with {pair.preference}: "
                "switching within the pair needs EQUAL_INPUT_PREFERENCE.",
            )

    def schedule_due(self, channel_id: str) -> None:
        """Hands a running channel its due input switches (its switcher asks at every tick)."""
        run = self.runs.get(channel_id)
        if run is None:
            return
        now = datetime.now(UTC)
        for action in self.schedules.get(channel_id, []):
            fixed = action["ScheduleActionStartSettings"].get("FixedModeScheduleActionStartSettings")
            if action.get("_done") or (fixed and datetime.fromisoformat(fixed["Time"].replace("Z", "+00:00")) > now):
                continue
            action["_done"] = True
            target = action["ScheduleActionSettings"]["InputSwitchSettings"]["InputAttachmentNameReference"]
            run.manual.append((target, action["ActionName"]))

    def _ListAlerts(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(params["ChannelId"])
        alerts = self.alert_log.get(channel["Id"], {}).values()
        wanted = params.get("StateFilter")
        return {"Alerts": [a for a in alerts if wanted is None or a["State"] == wanted]}

    def _DescribeSchedule(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(params["ChannelId"])
        return {"ScheduleActions": self.schedules.get(channel["Id"], [])}


def _state_detail(channel: dict[str, Any], message: str) -> dict[str, Any]:
    return {
        "channel_arn": channel["Arn"],
        "state": channel["State"],
        "message": message,
        "pipelines_running_count": channel.get("PipelinesRunningCount", 0),
    }


def _plain(status: int, body: dict[str, Any]) -> RawReply:
    return RawReply(status, json.dumps(body).encode(), {"Content-Type": "application/json"})
