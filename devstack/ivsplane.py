"""A stand-in for Amazon IVS's control API (low-latency channels), speaking its REST-JSON on loopback.

The app's `boto3.client("ivs")` is pointed here with AWS_ENDPOINT_URL_IVS: moto's IVS has channels
only (no stream keys, streams or recording configurations). Paths, members and error codes are
botocore's `ivs` model; requests with unknown or missing members are refused as IVS would
(ValidationException). What it keeps: channels and their stream keys, with IVS's quota of one
key per channel, in memory and (when given a file) on disk, so a devstack restart keeps them.

The media side (devstack/liveplane.py) asks it to admit a push by stream key (`admit`) and tells
it when the stream is delivered and when it ends; it keeps each channel's live stream (GetStream,
StopStream) and puts IVS's own "IVS Stream State Change" events on the account's default bus:
Session Created and Stream Start when a push is admitted and its first segment is out, Stream End
and Session Ended when it stops. Live streams are not kept across restarts (a restart drops every
connection, as an IVS outage would).

Recording configurations (Create/Get/ListRecordingConfiguration, to an S3 bucket of the emulated
account, without a reconnect window): a push to a channel that names one is recorded as IVS
records it, under `ivs/v1/<account>/<channel id>/<y>/<m>/<d>/<h>/<mm>/<recording id>/`:
`events/recording-started.json` and "IVS Recording State Change" `Recording Start` when its first
segment is out, then its HLS (`media/hls/source/playlist.m3u8` and `<n>.ts`; the devstack passes
the source through, so one rendition) and `events/recording-ended.json` when it ends, and
`Recording End` (or `Recording Start Failure` / `Recording End Failure` when S3 refuses).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import botocore.session

from chalicelib.playback.domain import ivs_tokens

logger = logging.getLogger(__name__)

ALPHANUMERIC = string.ascii_letters + string.digits
MAX_KEYS_PER_CHANNEL = 1  # IVS's quota: "Stream keys per channel"
_STATUS = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ChannelNotBroadcasting": 404,
    "ConflictException": 409,
    "ServiceQuotaExceededException": 402,
    "StreamUnavailable": 503,
}
STREAM_STATE_CHANGE = "IVS Stream State Change"
RECORDING_STATE_CHANGE = "IVS Recording State Change"
MAX_RECORDING_RECONNECT_WINDOW_SECONDS = 300
# A recording's files under its prefix. The devstack passes the source through: one rendition.
RECORDING_HLS_PATH = "media/hls"
RECORDING_PLAYLIST = "playlist.m3u8"
RECORDING_RENDITION = "source"
# IVS stream ids: "st-" and 21 alphanumerics.
STREAM_ID_LENGTH = 21


@dataclass(frozen=True)
class Recording:
    """Where a recorded push goes, as IVS lays recordings out in the configuration's bucket."""

    bucket: str
    prefix: str  # ivs/v1/<account>/<channel id>/<y>/<m>/<d>/<h>/<mm>/<recording id>
    started_at: datetime


@dataclass(frozen=True)
class Admission:
    """A push the plane let in: its channel and the new stream (IVS's session)."""

    channel_arn: str
    channel_id: str
    stream_id: str
    recording: Recording | None = None


class Refused(Exception):
    """A push the plane turns away (unknown or reset key, channel already live)."""


class WrongPassphrase(Refused):
    """An SRT push whose key material the channel's passphrase does not open."""


class IvsError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _extinf(line: str) -> float:
    if not line.startswith("#EXTINF:"):
        return 0.0
    try:
        return float(line[len("#EXTINF:") :].split(",", 1)[0])
    except ValueError:
        return 0.0


# A random SRT passphrase per channel, as IVS gives each (SRT takes 10 to 79 characters).
SRT_PASSPHRASE_LENGTH = 32


def _token(length: int) -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


class IvsPlane:
    def __init__(
        self,
        playback_base_url: str,
        ingest_host: str = "127.0.0.1",
        region: str = "us-east-1",
        account: str = "123456789012",
        state_file: Path | None = None,
        events: Any = None,
        s3: Any = None,
    ) -> None:
        self.playback_base_url = playback_base_url.rstrip("/")
        self.ingest_host = ingest_host
        self.region = region
        self.account = account
        self.state_file = state_file
        self._model = botocore.session.get_session().get_service_model("ivs")
        self._routes = {
            self._model.operation_model(name).http["requestUri"]: name for name in self._model.operation_names
        }
        self._lock = threading.Lock()
        self.channels: dict[str, dict[str, Any]] = {}
        self.stream_keys: dict[str, dict[str, Any]] = {}
        self.recording_configurations: dict[str, dict[str, Any]] = {}
        self.playback_key_pairs: dict[str, dict[str, Any]] = {}
        if state_file is not None and state_file.exists():
            state = json.loads(state_file.read_text())
            self.channels, self.stream_keys = state["channels"], state["streamKeys"]
            self.recording_configurations = state.get("recordingConfigurations", {})
            self.playback_key_pairs = state.get("playbackKeyPairs", {})
            for channel in self.channels.values():
                # A channel saved before channels had passphrases gets one, as IVS gives every channel.
                srt = channel.setdefault("srt", {"endpoint": channel.get("ingestEndpoint", "")})
                srt.setdefault("passphrase", _token(SRT_PASSPHRASE_LENGTH))
        self._server: _Server | None = None
        # EventBridge client of the emulated account: IVS reports on its default bus.
        self.events = events
        # S3 client of the emulated account: recordings go to their configuration's bucket.
        self.s3 = s3
        self.live: dict[str, dict[str, Any]] = {}  # channel ARN -> its stream (GetStream's shape)
        # Set by the live plane: ends the push on a channel (StopStream).
        self.disconnect: Callable[[str], None] = lambda channel_arn: None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> str:
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, name="ivsplane-http", daemon=True).start()
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- dispatch ------------------------------------------------------------------------------

    def call(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        operation = self._routes.get(path)
        handler = getattr(self, f"_{operation}", None) if operation else None
        if operation is None or handler is None:
            raise IvsError("ValidationException", f"The devstack's IVS plane does not implement {path}.")
        shape = self._model.operation_model(operation).input_shape
        assert shape is not None, operation
        unknown = set(params) - set(shape.members)
        missing = set(shape.required_members) - set(params)
        if unknown or missing:
            raise IvsError("ValidationException", f"Unknown members {sorted(unknown)}, missing {sorted(missing)}.")
        with self._lock:
            result: dict[str, Any] = handler(params)
            self._save()
        return int(self._model.operation_model(operation).http.get("responseCode", 200)), result

    def _save(self) -> None:
        if self.state_file is not None:
            state = {
                "channels": self.channels,
                "streamKeys": self.stream_keys,
                "recordingConfigurations": self.recording_configurations,
                "playbackKeyPairs": self.playback_key_pairs,
            }
            self.state_file.write_text(json.dumps(state))

    # -- operations ----------------------------------------------------------------------------

    def _CreateChannel(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - IVS's operation names
        channel_id = _token(12)
        arn = f"arn:aws:ivs:{self.region}:{self.account}:channel/{channel_id}"
        channel = {
            "arn": arn,
            "name": params.get("name", ""),
            "latencyMode": params.get("latencyMode", "LOW"),
            "type": params.get("type", "STANDARD"),
            "recordingConfigurationArn": params.get("recordingConfigurationArn", ""),
            "ingestEndpoint": self.ingest_host,
            "playbackUrl": f"{self.playback_base_url}/live/{channel_id}/index.m3u8",
            "authorized": params.get("authorized", False),
            "insecureIngest": params.get("insecureIngest", False),
            "tags": params.get("tags", {}),
            # As IVS's: an SRT push needs the channel's passphrase (the front door checks it).
            "srt": {"endpoint": self.ingest_host, "passphrase": _token(SRT_PASSPHRASE_LENGTH)},
        }
        self.channels[arn] = channel
        return {"channel": channel, "streamKey": self._new_key(arn)}

    def _UpdateChannel(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(params["arn"])
        changeable = ("name", "latencyMode", "type", "authorized", "insecureIngest", "recordingConfigurationArn")
        channel.update({k: v for k, v in params.items() if k in changeable})
        return {"channel": channel}

    def _ImportPlaybackKeyPair(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        material = params["publicKeyMaterial"]
        if any(pair["material"] == material for pair in self.playback_key_pairs.values()):
            raise IvsError("ConflictException", "This public key is already imported.")
        arn = f"arn:aws:ivs:{self.region}:{self.account}:playback-key/{_token(12)}"
        fingerprint = hashlib.sha256(material.encode()).hexdigest()
        pair = {"arn": arn, "name": params.get("name", ""), "fingerprint": fingerprint, "tags": params.get("tags", {})}
        self.playback_key_pairs[arn] = {**pair, "material": material}
        return {"keyPair": pair}

    def _ListPlaybackKeyPairs(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"keyPairs": [{k: p[k] for k in ("arn", "name", "tags")} for p in self.playback_key_pairs.values()]}

    def _DeletePlaybackKeyPair(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if self.playback_key_pairs.pop(params["arn"], None) is None:
            raise IvsError("ResourceNotFoundException", "The playback key pair does not exist.")
        return {}

    def playback_denial(self, channel_id: str, token: str | None) -> str | None:
        """IVS's check on a channel's playback: None when the channel is not `authorized`, or when
        `token` is an ES384 JWT for it signed by an imported key pair; else why not."""
        with self._lock:
            channel = next((c for a, c in self.channels.items() if a.rsplit("/", 1)[1] == channel_id), None)
            keys = [pair["material"] for pair in self.playback_key_pairs.values()]
        if channel is None or not channel.get("authorized"):
            return None
        if not token:
            return "no-token"
        return ivs_tokens.token_denial(token, channel["arn"], keys, datetime.now(UTC))

    def _GetChannel(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"channel": self._channel(params["arn"])}

    def _ListChannels(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        prefix = params.get("filterByName", "")
        summaries = [
            {k: c[k] for k in ("arn", "name", "latencyMode", "type", "authorized", "insecureIngest", "tags")}
            for c in self.channels.values()
            if c["name"].startswith(prefix)
        ]
        return {"channels": summaries}

    def _DeleteChannel(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._channel(params["arn"])
        if params["arn"] in self.live:
            raise IvsError("ConflictException", "The channel is live: stop its stream first.")
        del self.channels[params["arn"]]
        for arn in [a for a, k in self.stream_keys.items() if k["channelArn"] == params["arn"]]:
            del self.stream_keys[arn]
        return {}

    def _CreateStreamKey(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._channel(params["channelArn"])
        if len(self._keys_of(params["channelArn"])) >= MAX_KEYS_PER_CHANNEL:
            raise IvsError("ServiceQuotaExceededException", "The channel already has its stream key.")
        return {"streamKey": self._new_key(params["channelArn"], params.get("tags", {}))}

    def _ListStreamKeys(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._channel(params["channelArn"])
        keys = self._keys_of(params["channelArn"])
        return {"streamKeys": [{k: key[k] for k in ("arn", "channelArn", "tags")} for key in keys]}

    def _GetStreamKey(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        key = self.stream_keys.get(params["arn"])
        if key is None:
            raise IvsError("ResourceNotFoundException", "The stream key does not exist.")
        return {"streamKey": key}

    def _DeleteStreamKey(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if self.stream_keys.pop(params["arn"], None) is None:
            raise IvsError("ResourceNotFoundException", "The stream key does not exist.")
        return {}

    def _GetStream(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._channel(params["channelArn"])
        stream = self.live.get(params["channelArn"])
        if stream is None:
            raise IvsError("ChannelNotBroadcasting", "The channel is not broadcasting.")
        return {"stream": stream}

    def _StopStream(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._GetStream(params)
        # As IVS: the call returns at once and the stream ends shortly after (Stream End follows).
        self.disconnect(params["channelArn"])
        return {}

    def _CreateRecordingConfiguration(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        destination = params["destinationConfiguration"].get("s3") or {}
        if not destination.get("bucketName"):
            raise IvsError("ValidationException", "destinationConfiguration.s3.bucketName is required.")
        window = params.get("recordingReconnectWindowSeconds", 0)
        if not 0 <= window <= MAX_RECORDING_RECONNECT_WINDOW_SECONDS:
            raise IvsError("ValidationException", "recordingReconnectWindowSeconds is 0 to 300.")
        if window:
            # Every push is recorded alone here: joining them is the app's (its streams' own windows).
            raise IvsError("ValidationException", "The devstack's IVS plane records without a reconnect window.")
        arn = f"arn:aws:ivs:{self.region}:{self.account}:recording-configuration/{_token(12)}"
        configuration = {
            "arn": arn,
            "name": params.get("name", ""),
            "destinationConfiguration": params["destinationConfiguration"],
            "state": "ACTIVE",
            "tags": params.get("tags", {}),
            "thumbnailConfiguration": params.get("thumbnailConfiguration", {"recordingMode": "INTERVAL"}),
            "recordingReconnectWindowSeconds": window,
            "renditionConfiguration": params.get("renditionConfiguration", {"renditionSelection": "ALL"}),
        }
        self.recording_configurations[arn] = configuration
        return {"recordingConfiguration": configuration}

    def _GetRecordingConfiguration(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        configuration = self.recording_configurations.get(params["arn"])
        if configuration is None:
            raise IvsError("ResourceNotFoundException", f"The recording configuration {params['arn']} does not exist.")
        return {"recordingConfiguration": configuration}

    def _ListRecordingConfigurations(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        keys = ("arn", "name", "destinationConfiguration", "state", "tags")
        summaries = [{k: c[k] for k in keys} for c in self.recording_configurations.values()]
        return {"recordingConfigurations": summaries}

    # -- the media side ------------------------------------------------------------------------

    def admit(self, stream_key: str, srt_passphrase: Callable[[str], bool] | None = None) -> Admission:
        """A new stream on the channel of this key; Refused for an unknown (or reset) key, a
        channel that already has a publisher, or an SRT push whose `srt_passphrase` check refuses
        the channel's passphrase. Emits Session Created."""
        with self._lock:
            key = next((k for k in self.stream_keys.values() if k["value"] == stream_key), None)
            if key is None or key["channelArn"] not in self.channels:
                raise Refused("unknown stream key")
            channel = self.channels[key["channelArn"]]
            if srt_passphrase is not None and not srt_passphrase(channel["srt"].get("passphrase", "")):
                raise WrongPassphrase("wrong SRT passphrase")
            if channel["arn"] in self.live:
                raise Refused("the channel already has a publisher")
            stream_id = f"st-{_token(STREAM_ID_LENGTH)}"
            recording = self._recording_of(channel)
            self.live[channel["arn"]] = {
                "channelArn": channel["arn"],
                "streamId": stream_id,
                "playbackUrl": channel["playbackUrl"],
                "startTime": datetime.now(UTC).isoformat(),
                "state": "LIVE",
                "health": "STARTING",
                "viewerCount": 0,
            }
        self._emit(channel, stream_id, "Session Created")
        return Admission(channel["arn"], channel["arn"].rsplit("/", 1)[1], stream_id, recording)

    def _recording_of(self, channel: dict[str, Any]) -> Recording | None:
        """Where a push to this channel is recorded (None: the channel does not record)."""
        configuration = self.recording_configurations.get(channel.get("recordingConfigurationArn") or "")
        if configuration is None:
            return None
        now = datetime.now(UTC)
        channel_id = channel["arn"].rsplit("/", 1)[1]
        when = f"{now.year}/{now.month}/{now.day}/{now.hour}/{now.minute}"
        prefix = f"ivs/v1/{self.account}/{channel_id}/{when}/{_token(12)}"
        return Recording(configuration["destinationConfiguration"]["s3"]["bucketName"], prefix, now)

    def recording_started(self, admission: Admission) -> None:
        """The push's recording began: events/recording-started.json, then Recording Start."""
        recording = admission.recording
        if recording is None or self.s3 is None:
            return
        started = {
            "version": "v1",
            "recording_started_at": _iso(recording.started_at),
            "channel_arn": admission.channel_arn,
            "recording_status": "RECORDING_STARTED",
            "media": {"hls": {"path": RECORDING_HLS_PATH, "playlist": RECORDING_PLAYLIST, "renditions": []}},
        }
        try:
            self._put_json(recording, "events/recording-started.json", started)
        except Exception:
            logger.exception("could not start the recording %s", recording.prefix)
            self._emit_recording(admission, "Recording Start Failure", reason="S3 write failed")
            return
        self._emit_recording(admission, "Recording Start")

    def recording_ended(self, admission: Admission, folder: Path) -> None:
        """The push is over: its HLS recording (ffmpeg wrote it into `folder`) goes to S3 as IVS
        writes it (media/hls/<rendition>/, events/recording-ended.json), then Recording End."""
        recording = admission.recording
        if recording is None or self.s3 is None:
            return
        playlist = folder / RECORDING_PLAYLIST
        try:
            if not playlist.exists():
                raise FileNotFoundError(playlist)
            text = playlist.read_text()
            base = f"{recording.prefix}/{RECORDING_HLS_PATH}/{RECORDING_RENDITION}"
            for segment in sorted(folder.glob("*.ts")):
                self.s3.put_object(
                    Bucket=recording.bucket, Key=f"{base}/{segment.name}", Body=segment.read_bytes(),
                    ContentType="video/MP2T",
                )  # fmt: skip
            self.s3.put_object(
                Bucket=recording.bucket, Key=f"{base}/{RECORDING_PLAYLIST}", Body=text.encode(),
                ContentType="application/x-mpegURL",
            )  # fmt: skip
            duration_ms = round(1000 * sum(_extinf(line) for line in text.splitlines()))
            rendition = {"path": RECORDING_RENDITION, "playlist": RECORDING_PLAYLIST}
            ended = {
                "version": "v1",
                "recording_started_at": _iso(recording.started_at),
                "recording_ended_at": _iso(datetime.now(UTC)),
                "channel_arn": admission.channel_arn,
                "recording_status": "RECORDING_ENDED",
                "media": {
                    "hls": {
                        "duration_ms": duration_ms,
                        "path": RECORDING_HLS_PATH,
                        "playlist": RECORDING_PLAYLIST,
                        "renditions": [rendition],
                    }
                },
            }
            self._put_json(recording, "events/recording-ended.json", ended)
        except Exception:
            logger.exception("could not end the recording %s", recording.prefix)
            self._emit_recording(admission, "Recording End Failure", reason="S3 write failed")
            return
        self._emit_recording(admission, "Recording End", duration_ms=duration_ms)

    def _put_json(self, recording: Recording, name: str, body: dict[str, Any]) -> None:
        self.s3.put_object(
            Bucket=recording.bucket, Key=f"{recording.prefix}/{name}", Body=json.dumps(body).encode(),
            ContentType="application/json",
        )  # fmt: skip

    def _emit_recording(self, admission: Admission, status: str, reason: str = "", duration_ms: int = 0) -> None:
        recording = admission.recording
        channel = self.channels.get(admission.channel_arn, {"arn": admission.channel_arn, "name": ""})
        if recording is None or self.events is None:
            return
        detail: dict[str, Any] = {
            "channel_name": channel["name"],
            "stream_id": admission.stream_id,
            "recording_status": status,
            "recording_status_reason": reason,
            "recording_s3_bucket_name": recording.bucket,
            "recording_s3_key_prefix": recording.prefix,
            "recording_duration_ms": duration_ms,
            "recording_session_id": recording.prefix.rsplit("/", 1)[1],
            "recording_session_stream_ids": [admission.stream_id],
        }
        entry = {
            "Source": "aws.ivs",
            "DetailType": RECORDING_STATE_CHANGE,
            "Resources": [admission.channel_arn],
            "Detail": json.dumps(detail),
        }
        try:
            self.events.put_events(Entries=[entry])
        except Exception:  # best effort, as IVS's
            logger.exception("could not put %s of %s", status, recording.prefix)

    def stream_started(self, admission: Admission) -> None:
        """The stream's first segment is out: viewers can watch (Stream Start)."""
        with self._lock:
            stream = self.live.get(admission.channel_arn)
            if stream is None or stream["streamId"] != admission.stream_id:
                return
            stream["health"] = "HEALTHY"
            channel = self.channels.get(admission.channel_arn)
        if channel is not None:
            self._emit(channel, admission.stream_id, "Stream Start")

    def stream_ended(self, admission: Admission) -> None:
        """The publisher is gone: Stream End, then Session Ended."""
        with self._lock:
            stream = self.live.get(admission.channel_arn)
            if stream is None or stream["streamId"] != admission.stream_id:
                return
            del self.live[admission.channel_arn]
            channel = self.channels.get(admission.channel_arn, {"arn": admission.channel_arn, "name": ""})
        self._emit(channel, admission.stream_id, "Stream End")
        self._emit(channel, admission.stream_id, "Session Ended")

    def _emit(self, channel: dict[str, Any], stream_id: str, event_name: str) -> None:
        if self.events is None:
            return
        detail = {"event_name": event_name, "channel_name": channel["name"], "stream_id": stream_id}
        entry = {
            "Source": "aws.ivs",
            "DetailType": STREAM_STATE_CHANGE,
            "Resources": [channel["arn"]],
            "Detail": json.dumps(detail),
        }
        try:
            self.events.put_events(Entries=[entry])
        except Exception:  # IVS's events are best effort too
            logger.exception("could not put %s of %s", event_name, channel["arn"])

    # -- state ---------------------------------------------------------------------------------

    def _channel(self, arn: str) -> dict[str, Any]:
        channel = self.channels.get(arn)
        if channel is None:
            raise IvsError("ResourceNotFoundException", f"The channel {arn} does not exist.")
        return channel

    def _keys_of(self, channel_arn: str) -> list[dict[str, Any]]:
        return [k for k in self.stream_keys.values() if k["channelArn"] == channel_arn]

    def _new_key(self, channel_arn: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
        arn = f"arn:aws:ivs:{self.region}:{self.account}:stream-key/{_token(12)}"
        key = {"arn": arn, "value": f"sk_{self.region}_{_token(36)}", "channelArn": channel_arn, "tags": tags or {}}
        self.stream_keys[arn] = key
        return key


# -- HTTP ------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, plane: IvsPlane) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.plane = plane


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        logger.debug("ivsplane: " + format, *args)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            params = json.loads(self.rfile.read(length) or b"{}")
            status, result = self.server.plane.call(self.path.split("?")[0], params)
        except json.JSONDecodeError:
            self._error(IvsError("ValidationException", "The request body is not JSON."))
            return
        except IvsError as error:
            self._error(error)
            return
        self._json(status, result)

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode() if status != 204 else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, error: IvsError) -> None:
        # botocore's rest-json parser takes the error code from this header.
        self._json(_STATUS.get(error.code, 400), {"message": error.message}, {"x-amzn-ErrorType": error.code})
