"""`python -m devstack up | reset | project create NAME | key create PROJECT --role ROLE | signing-keys rotate`."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from chalicelib.core import resources
from chalicelib.platform import wiring as platform_wiring

if TYPE_CHECKING:
    from devstack.alarmplane import AlarmPlane
    from devstack.athenaplane import AthenaPlane
    from devstack.ecsplane import EcsPlane
    from devstack.ivsplane import IvsPlane
    from devstack.liveplane import LivePlane
    from devstack.medialiveplane import MediaLivePlane
    from devstack.mediaplane import MediaPlane
    from devstack.mediaserver import MediaServer, PrivateMedia
    from devstack.stageplane import StagePlane

STATE_DIR = Path(os.environ.get("VIDEOPLANE_DEVSTACK_DIR", ".devstack"))
STATE_FILE = STATE_DIR / "state.json"
IVS_STATE_FILE = STATE_DIR / "ivs.json"
STAGES_STATE_FILE = STATE_DIR / "stages.json"
LIVE_HLS_DIR = STATE_DIR / "live"
# Event files copied from the emulated S3 for DuckDB (a cache: rebuilt from S3 when missing).
ANALYTICS_CACHE_DIR = "analytics-cache"
# Recordings being written (each push's whole HLS), until the IVS plane stores them in S3.
LIVE_RECORDINGS_DIR = STATE_DIR / "live-recordings"
API_KEY_FILE = STATE_DIR / "api-key"
MEDIALIVE_STATE_FILE = STATE_DIR / "medialive.json"
# Running MediaLive channels' media: each input's HLS and the channel's output (not kept).
MEDIALIVE_DIR = STATE_DIR / "medialive"
DEFAULT_PORT = 8000
WATCH_SECONDS = 0.2


class CliError(Exception):
    """A failure the user can act on: printed as one line, exit code 1, no traceback."""


def _prepare_aws(restored: bool) -> None:
    """The stack's resources in the emulator: all of them on a new state, what a restored one lacks."""
    import boto3

    from chalicelib.core import wiring
    from devstack.bootstrap import bootstrap, ensure_live_event_srt_secret, ensure_recording_configuration, upgrade

    if not restored:
        bootstrap()
    else:
        upgrade()
    os.environ[resources.LIVE_RECORDING_CONFIGURATION_ENV] = ensure_recording_configuration(boto3.client("ivs"))
    os.environ[resources.LIVE_EVENT_SRT_SECRET_ENV] = ensure_live_event_srt_secret(boto3.client("secretsmanager"))
    _prepare_room_recordings()
    wiring.reset()  # the recording configuration is a setting too


def _prepare_room_recordings() -> None:
    """Rooms' compositions record with the stack's storage and encoder configurations (on the stage plane)."""
    import boto3

    from devstack.bootstrap import ensure_room_recording_configurations

    storage, encoder = ensure_room_recording_configurations(boto3.client("ivs-realtime"))
    os.environ[resources.ROOM_STORAGE_CONFIGURATION_ENV] = storage
    os.environ[resources.ROOM_ENCODER_CONFIGURATION_ENV] = encoder


def up(port: int, media_port: int | None, moto_port: int) -> int:
    from app import app
    from devstack.emulator import apply_environment, start_emulator
    from devstack.gateway import Gateway, aws_requests_in_one_send
    from devstack.server import ApiServer

    _refuse_second_stack()
    aws_requests_in_one_send()
    # Both public ports first: fixed, so the URLs stored in projects and printed to users outlive a
    # restart; and a port in use fails here, before anything else has started.
    server = _bind("API", port, lambda: ApiServer(Gateway(app), port))
    media_port = media_port if media_port is not None else (port + 1 if port else 0)
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    emulator = start_emulator(moto_port, STATE_DIR)
    apply_environment(emulator.endpoint)
    plane, media_server = _bind("media", media_port, lambda: start_media_plane(media_port))
    plane_url = os.environ["AWS_ENDPOINT_URL_MEDIACONVERT"]
    # The embed page is a route of the app; on AWS the media CDN forwards /embed/* to the API.
    os.environ[resources.PLAYER_BASE_URL_ENV] = f"{server.url}/embed"
    ivs_plane = start_ivs_plane(os.environ[resources.MEDIA_BASE_URL_ENV], IVS_STATE_FILE)
    ivs_url = os.environ["AWS_ENDPOINT_URL_IVS"]
    stage_plane = start_stage_plane(STAGES_STATE_FILE)
    # Fixed ingest ports with the fixed API port (encoders keep their settings across restarts).
    live_plane = _bind("ingest", port, lambda: start_live_plane(ivs_plane, media_server, fixed_ports=bool(port)))
    athena_plane = start_athena_plane(STATE_DIR / ANALYTICS_CACHE_DIR)
    athena_url = os.environ["AWS_ENDPOINT_URL_ATHENA"]
    medialive_plane = start_medialive_plane(media_server, MEDIALIVE_STATE_FILE)
    from devstack.healthpush import start_health_push

    health_push = start_health_push(app)
    # Loopback webhooks and ingest URLs are allowed here, but never to the stack's own services.
    own_ports = {
        emulator.port,
        _port_of(plane_url),
        _port_of(ivs_url),
        _port_of(stage_plane.url),
        _port_of(athena_url),
        _port_of(os.environ["AWS_ENDPOINT_URL_ECS"]),
        _port_of(os.environ[resources.MEDIA_BASE_URL_ENV]),
        server.port,
        live_plane.rtmp_port,
        live_plane.rtmps_port,
        live_plane.srt_port,
        _port_of(medialive_plane.url),
        # Its push inputs' listeners (a pool taken at start): an ingest URL must not push into an event.
        *medialive_plane.listener_ports(),
        _port_of(health_push.ws_url),
        _port_of(health_push.http_url),
    }
    os.environ[resources.LOOPBACK_DENY_PORTS_ENV] = ",".join(str(p) for p in sorted(own_ports))
    from chalicelib.core import wiring

    wiring.reset()  # nothing may have cached settings read before the line above

    from devstack.pollers import EventSourcePollers

    _prepare_aws(emulator.restored)
    project_id, api_key = _dev_project(emulator.restored)
    pollers = EventSourcePollers(app)
    server.start()
    pollers.start()
    alarm_plane = start_alarm_plane()

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    _banner(
        emulator.endpoint, emulator.restored, pollers.count, server.url, plane_url, ivs_url, stage_plane.url,
        project_id, api_key,
    )  # fmt: skip
    # Last: the file tells scripts and tests that the stack is up, so the banner is out already.
    STATE_FILE.write_text(
        json.dumps(
            {
                "apiUrl": server.url,
                "awsEndpoint": emulator.endpoint,
                "mediaPlane": plane_url,
                "ivsPlane": ivs_url,
                "stagePlane": stage_plane.url,
                "rtmpIngest": live_ingest_url("rtmp"),
                "rtmpsIngest": live_ingest_url("rtmps"),
                "srtIngest": live_ingest_url("srt"),
                "athenaPlane": athena_url,
                "ecsPlane": os.environ["AWS_ENDPOINT_URL_ECS"],
                "mediaUrl": os.environ[resources.MEDIA_BASE_URL_ENV],
                "pid": os.getpid(),
                "emulatorPid": emulator.process.pid,
                "deniedPorts": sorted(own_ports),
                "mediaLivePlane": medialive_plane.url,
                "healthPushUrl": health_push.push_url,
                "healthPushStreamUrl": health_push.stream_url,
                "mediaLiveListenerPorts": sorted(medialive_plane.listener_ports()),
            }
        )
    )

    code = _watch(emulator.process, stopping)
    print("Stopping...", flush=True)
    alarm_plane.stop()
    # In this order: nothing calls AWS once the emulator stops, which writes the last snapshot.
    for part in (
        pollers, server, plane, live_plane, ivs_plane, stage_plane, athena_plane, medialive_plane, health_push,
        media_server, emulator,
    ):  # fmt: skip
        part.stop()
    STATE_FILE.unlink(missing_ok=True)
    return code


def _watch(emulator: subprocess.Popen[str], stopping: threading.Event) -> int:
    """Until a stop is asked (0) or the emulator dies (1)."""
    while not stopping.wait(WATCH_SECONDS):
        if emulator.poll() is not None:
            # Every AWS call would now fail: say so once and stop, rather than answer 500s.
            print(
                f"The AWS emulator exited unexpectedly (exit code {emulator.returncode}); stopping. "
                "Start again with `make run`: data up to its last snapshot is kept.",
                file=sys.stderr,
                flush=True,
            )
            return 1
    return 0


def _banner(
    aws_endpoint: str,
    restored: bool,
    sources: int,
    api_url: str,
    plane_url: str,
    ivs_url: str,
    stage_url: str,
    project_id: str,
    api_key: str,
) -> None:
    kept = "data kept from the last run" if restored else "new, empty"
    print(f"Videoplane devstack is up (AWS emulator at {aws_endpoint}, {sources} event sources polled)")
    print(f"State:        {STATE_DIR} ({kept}; `python -m devstack reset` wipes it)")
    print(f"API base URL: {api_url}")
    print(f"Media:        {os.environ[resources.MEDIA_BASE_URL_ENV]} (ffmpeg MediaConvert plane at {plane_url})")
    print(f"Rooms:        IVS real-time control plane at {stage_url}; WHIP publishers join its stages")
    print(f"Live (IVS):   control plane at {ivs_url}; ingest {live_ingest_banner()} (stream key checked)")
    print(f"Restreams:    one relay per target, run by the ECS plane at {os.environ.get('AWS_ENDPOINT_URL_ECS')}")
    medialive = os.environ.get("AWS_ENDPOINT_URL_MEDIALIVE")
    print(f"MediaLive:    control plane at {medialive}; a channel plays at <media>/<destination key>.m3u8")
    push = os.environ.get(resources.LIVE_EVENT_HEALTH_PUSH_URL_ENV)
    print(f"Event health: WebSocket {push}, event stream {os.environ.get(resources.LIVE_EVENT_HEALTH_STREAM_URL_ENV)}")
    athena = os.environ["AWS_ENDPOINT_URL_ATHENA"]
    print(f"Analytics:    beacons to {api_url}/embed/beacons; /data in DuckDB (Athena plane at {athena})")
    print(f"Dev project:  {project_id}")
    print(f"Dev API key:  {api_key}   (also in {API_KEY_FILE})")
    print("Webhooks may target 127.0.0.1 here (VIDEOPLANE_ALLOW_LOOPBACK_WEBHOOKS=1; never set on AWS).")
    print("Press Ctrl+C to stop.", flush=True)


T = TypeVar("T")


def _bind(what: str, port: int, start: Callable[[], T]) -> T:
    try:
        return start()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            if what == "ingest":
                raise CliError(
                    f"The live ingest ports ({DEFAULT_RTMP_PORT} RTMP, {DEFAULT_SRT_PORT} SRT) are in use, perhaps "
                    "by another devstack or media server: stop it, or start with --port 0 (free ports throughout)."
                ) from error
            flag = "--port" if what == "API" else "--media-port"
            raise CliError(
                f"Port {port} (the {what} port) is in use, perhaps by another devstack: choose another with {flag}."
            ) from error
        raise


def _port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url
    return port


def _running_pid() -> int | None:
    """The pid of the devstack that wrote STATE_FILE, if it still runs."""
    try:
        pid = int(json.loads(STATE_FILE.read_text())["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid


def _refuse_second_stack() -> None:
    pid = _running_pid()
    if pid is not None and pid != os.getpid():
        raise CliError(f"A devstack (pid {pid}) already runs on {STATE_DIR}; stop it first.")


def _dev_project(restored: bool) -> tuple[str, str]:
    """The dev project and its admin key: the saved ones when the data was kept, else new ones."""
    if restored and API_KEY_FILE.exists():
        import base64

        from chalicelib.core.domain.errors import DomainError

        api_key = API_KEY_FILE.read_text().strip()
        basic = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()
        try:
            principal = platform_wiring.auth_service().authenticate(basic, "devstack-up")
        except DomainError:
            pass  # revoked, or not from this state: a new dev project below
        else:
            return principal.project_id, api_key
    issued = platform_wiring.project_service().create_project("dev")
    API_KEY_FILE.write_text(issued.value + "\n")
    return issued.key.project_id, issued.value


def reset() -> dict[str, Any]:
    """Wipes the saved state: projects, keys, videos, media, webhooks, pending deliveries."""
    from devstack import persistence

    _refuse_second_stack()
    removed = []
    for path in (
        STATE_DIR / persistence.SNAPSHOT_FILE,
        STATE_DIR / persistence.BLOB_DIR,
        API_KEY_FILE,
        STATE_FILE,
        IVS_STATE_FILE,
        STAGES_STATE_FILE,
        LIVE_HLS_DIR,
        STATE_DIR / ANALYTICS_CACHE_DIR,
        LIVE_RECORDINGS_DIR,
        MEDIALIVE_STATE_FILE,
        MEDIALIVE_DIR,
    ):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(path.name)
    return {"reset": str(STATE_DIR), "removed": removed}


def private_media() -> PrivateMedia:
    """The media server's private video and geo check, over the app's table and session keys."""
    import boto3

    from chalicelib.core.adapters.dynamodb import Table
    from chalicelib.playback.domain.access import session_keys
    from devstack.mediaserver import table_private_media

    keys = {key.kid: key.secret for key in session_keys(os.environ.get(resources.PLAYBACK_SESSION_KEYS_ENV, ""))}
    return table_private_media(keys, Table(boto3.client("dynamodb"), os.environ[resources.TABLE_ENV]))


def start_media_plane(media_port: int = 0) -> tuple[MediaPlane, MediaServer]:
    """The ffmpeg plane answers the MediaConvert API; the media server plays CloudFront."""
    import boto3
    from botocore.config import Config

    from devstack.emulator import bucket_name
    from devstack.mediaplane import MediaPlane
    from devstack.mediaserver import MediaServer

    command_log = os.environ.get("VIDEOPLANE_MEDIAPLANE_COMMAND_LOG")
    # Checksums of every segment would only slow the emulator down: its S3 stores what it gets.
    plain = Config(request_checksum_calculation="when_required", response_checksum_validation="when_required")
    plane = MediaPlane(
        boto3.client("s3", config=plain),
        boto3.client("events"),
        command_log=Path(command_log) if command_log else None,
    )
    plane_url = plane.start()
    media_server = MediaServer(
        boto3.client("s3", config=plain), bucket_name(resources.MEDIA_BUCKET), media_port, private_media()
    )
    media_url = media_server.start()
    os.environ["AWS_ENDPOINT_URL_MEDIACONVERT"] = plane_url
    os.environ[resources.MEDIA_BASE_URL_ENV] = media_url
    return plane, media_server


# The live ingest front door's ports: IVS's RTMP port, and api.video's SRT port; RTMPS beside RTMP
# with a self-signed certificate kept in the state folder (devstack/tls.py).
DEFAULT_RTMP_PORT = 1935
DEFAULT_RTMPS_PORT = 1936
DEFAULT_SRT_PORT = 6200


def start_ivs_plane(media_url: str, state_file: Path | None = None) -> IvsPlane:
    """The IVS control plane (channels, stream keys, streams); the app's IVS client is pointed at
    it, and it reports streams on the emulated account's default bus."""
    import boto3

    from devstack.ivsplane import IvsPlane

    ivs_plane = IvsPlane(media_url, state_file=state_file, events=boto3.client("events"), s3=boto3.client("s3"))
    os.environ["AWS_ENDPOINT_URL_IVS"] = ivs_plane.start()
    return ivs_plane


def start_stage_plane(state_file: Path | None = None) -> StagePlane:
    """The IVS real-time control plane (stages, participant tokens); the app's client is pointed at it,
    and it reports publishers on the emulated account's default bus."""
    import boto3

    from devstack.stageplane import StagePlane

    stage_plane = StagePlane(state_file=state_file, events=boto3.client("events"), s3=boto3.client("s3"))
    os.environ["AWS_ENDPOINT_URL_IVS_REALTIME"] = stage_plane.start()
    os.environ[resources.ROOMS_WHEP_URL_ENV] = stage_plane.url + "/whep/{stageId}"
    return stage_plane


def start_relay_plane(ffmpeg: str) -> EcsPlane:
    """Restream relays: the ECS API the app's relay adapter calls, running each relay task as a
    local process (devstack/ecsplane.py)."""
    from devstack.ecsplane import EcsPlane

    relay_plane = EcsPlane(ffmpeg)
    os.environ["AWS_ENDPOINT_URL_ECS"] = relay_plane.start()
    os.environ[resources.LIVE_RELAYS_ENV] = relay_plane.settings()
    return relay_plane


def start_live_plane(ivs_plane: IvsPlane, media_server: MediaServer, fixed_ports: bool = True) -> LivePlane:
    """The ingest front doors (RTMP, SRT) and live HLS, served by the media server under live/."""
    import imageio_ffmpeg

    from devstack.liveplane import LivePlane
    from devstack.tls import server_context

    # Each push's start, step by step (benchmarks/live_latency.py sets it).
    timeline_log = os.environ.get("VIDEOPLANE_LIVE_TIMELINE_LOG")
    live_plane = LivePlane(
        ivs_plane,
        LIVE_HLS_DIR,
        imageio_ffmpeg.get_ffmpeg_exe(),
        rtmp_port=DEFAULT_RTMP_PORT if fixed_ports else 0,
        srt_port=DEFAULT_SRT_PORT if fixed_ports else 0,
        recordings_root=LIVE_RECORDINGS_DIR,
        rtmps_port=DEFAULT_RTMPS_PORT if fixed_ports else 0,
        tls=server_context(STATE_DIR / "tls"),
        timeline_log=Path(timeline_log) if timeline_log else None,
    )
    live_plane.start()
    live_plane.relays = start_relay_plane(live_plane.ffmpeg)
    media_server.mount("live/", LIVE_HLS_DIR)
    enforce_private_live(ivs_plane, media_server)
    templates = {
        "rtmps": f"rtmps://{{endpoint}}:{live_plane.rtmps_port}/app/",
        "rtmp": f"rtmp://{{endpoint}}:{live_plane.rtmp_port}/app/",
        "srt": f"srt://{{endpoint}}:{live_plane.srt_port}",
    }
    for protocol, template in templates.items():
        os.environ[resources.LIVE_INGEST_ENVS[protocol]] = template
    return live_plane


def enforce_private_live(ivs_plane: IvsPlane, media_server: MediaServer) -> None:
    """As on AWS: the stack's playback public key is imported into IVS, and private channels' live
    HLS plays only with a JWT signed by its private half (the app's VIDEOPLANE_LIVE_PLAYBACK_KEY)."""
    from cryptography.hazmat.primitives import serialization

    from devstack.ivsplane import IvsError
    from devstack.mediaserver import PrivateLive

    key = serialization.load_pem_private_key(os.environ[resources.LIVE_PLAYBACK_KEY_ENV].encode(), password=None)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with contextlib.suppress(IvsError):  # imported before this restart (its state is kept)
        ivs_plane.call("/ImportPlaybackKeyPair", {"publicKeyMaterial": public, "name": "videoplane-devstack"})
    media_server.private_live = PrivateLive(ivs_plane.playback_denial)


def start_medialive_plane(media_server: MediaServer, state_file: Path | None = None) -> MediaLivePlane:
    """MediaLive's API with live media (devstack/medialiveplane.py): its channels' outputs go to the
    emulated S3 and are served by the media server at their destination's key."""
    import boto3
    import imageio_ffmpeg

    from devstack.medialiveplane import MediaLivePlane

    plane = MediaLivePlane(
        imageio_ffmpeg.get_ffmpeg_exe(),
        MEDIALIVE_DIR,
        state_file=state_file,
        events=boto3.client("events"),
        s3=boto3.client("s3"),
        cloudwatch=boto3.client("cloudwatch"),
        secrets=boto3.client("secretsmanager"),
        mount=media_server.mount,
    )
    os.environ["AWS_ENDPOINT_URL_MEDIALIVE"] = plane.start()
    return plane


def start_alarm_plane() -> AlarmPlane:
    """CloudWatch's alarm evaluation, which moto lacks (devstack/alarmplane.py): incident automation's
    alarms on the MediaLive plane's metrics change state and say so on the default bus."""
    import boto3

    from devstack.alarmplane import AlarmPlane

    plane = AlarmPlane(boto3.client("cloudwatch"), boto3.client("events"))
    plane.start()
    return plane


def live_ingest_url(protocol: str) -> str:
    return os.environ[resources.LIVE_INGEST_ENVS[protocol]].format(endpoint="127.0.0.1")


def start_athena_plane(cache_dir: Path | None = None) -> AthenaPlane:
    """Athena's query API over DuckDB and the analytics bucket; the app's Athena client is pointed at
    it (the beacons' Firehose stream is made by bootstrap.upgrade, on every start)."""
    import boto3

    from devstack.athenaplane import start_athena_plane as start
    from devstack.emulator import bucket_name

    plane, url = start(boto3.client("s3"), bucket_name(resources.ANALYTICS_BUCKET), cache_dir)
    os.environ["AWS_ENDPOINT_URL_ATHENA"] = url
    os.environ[resources.ANALYTICS_ROLLUP_ENV] = "1"  # the plane rolls every file it reads
    return plane


def live_ingest_banner() -> str:
    rtmp, rtmps, srt = (live_ingest_url(p) for p in ("rtmp", "rtmps", "srt"))
    return f"{rtmp}{{key}}, {rtmps}{{key}} (self-signed), {srt}?streamid={{key}}&passphrase={{passphrase}}"


def _attach() -> None:
    """Point this process at the running devstack's emulator."""
    if _running_pid() is None:
        raise CliError(f"No devstack runs on {STATE_DIR}: start it with `make run`.")
    from devstack.emulator import apply_environment

    apply_environment(json.loads(STATE_FILE.read_text())["awsEndpoint"])


def create_project(name: str) -> dict[str, Any]:
    _attach()

    issued = platform_wiring.project_service().create_project(name)
    return {"projectId": issued.key.project_id, "apiKey": issued.value}


def create_key(project_id: str, role: str, name: str) -> dict[str, Any]:
    _attach()
    from chalicelib.core.domain.access import Role
    from chalicelib.core.domain.errors import NotFound
    from chalicelib.platform.services.projects import KeyCreation

    try:
        issued = platform_wiring.project_service().create_key(
            project_id, KeyCreation(name=name, role=Role(role)), actor=None
        )
    except NotFound as error:
        raise CliError(f"No project {project_id} in this devstack (`project create NAME` makes one).") from error
    return {"projectId": project_id, "keyId": issued.key.key_id, "role": role, "apiKey": issued.value}


def rotate_signing_keys() -> dict[str, Any]:
    _attach()
    from datetime import timedelta

    from chalicelib.core import config
    from chalicelib.core.clock import utc_now
    from chalicelib.platform.services.auth import rotate_signing_keys as rotate

    ttl = timedelta(seconds=config.get_settings().access_token_ttl_seconds)
    keyset = rotate(platform_wiring.signing_keys(), utc_now(), ttl)
    return {"activeKid": keyset.active_kid, "kids": [k.kid for k in keyset.keys]}


def report_usage(day: str | None) -> dict[str, Any]:
    """What the daily schedule does on AWS (report_daily_usage): the usage event of `day`
    (default: yesterday) for every project, through the running devstack's outbox."""
    _attach()
    from chalicelib.analytics import wiring as analytics_wiring
    from chalicelib.analytics.domain.usage import yesterday
    from chalicelib.core.clock import utc_now

    os.environ["AWS_ENDPOINT_URL_ATHENA"] = json.loads(STATE_FILE.read_text())["athenaPlane"]
    chosen = day or yesterday(utc_now())
    return {"day": chosen, "reported": analytics_wiring.usage_service().report(chosen)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up_cmd = commands.add_parser("up", help="run the whole platform on 127.0.0.1 until Ctrl+C")
    up_cmd.add_argument("--port", type=int, default=DEFAULT_PORT, help="API port (0: any free one)")
    up_cmd.add_argument("--media-port", type=int, default=None, help="media server port (default: --port + 1)")
    up_cmd.add_argument("--moto-port", type=int, default=0)
    commands.add_parser("reset", help="wipe the saved state (the devstack must be stopped)")
    project = commands.add_parser("project").add_subparsers(dest="action", required=True)
    project.add_parser("create").add_argument("name")
    key = commands.add_parser("key").add_subparsers(dest="action", required=True)
    key_create = key.add_parser("create")
    key_create.add_argument("project")
    key_create.add_argument("--role", choices=["admin", "operator", "viewer"], default="operator")
    key_create.add_argument("--name", default="API key")
    commands.add_parser("signing-keys").add_subparsers(dest="action", required=True).add_parser("rotate")
    usage = commands.add_parser("usage").add_subparsers(dest="action", required=True).add_parser("report")
    usage.add_argument("--day", default=None, help="UTC day YYYY-MM-DD (default: yesterday)")
    args = parser.parse_args(argv)

    try:
        return _run(args)
    except CliError as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - one line for the user; the details are for a bug report
        print(f"devstack: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "up":
        return up(args.port, args.media_port, args.moto_port)
    if args.command == "reset":
        result = reset()
    elif args.command == "project":
        result = create_project(args.name)
    elif args.command == "key":
        result = create_key(args.project, args.role, args.name)
    elif args.command == "usage":
        result = report_usage(args.day)
    else:
        result = rotate_signing_keys()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
