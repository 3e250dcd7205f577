"""`python -m devstack up | project create NAME | key create PROJECT --role ROLE | signing-keys rotate`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.core import resources
from chalicelib.platform import wiring as platform_wiring

if TYPE_CHECKING:
    from devstack.mediaplane import MediaPlane
    from devstack.mediaserver import MediaServer

STATE_DIR = Path(os.environ.get("VIDEOPLANE_DEVSTACK_DIR", ".devstack"))
STATE_FILE = STATE_DIR / "state.json"
API_KEY_FILE = STATE_DIR / "api-key"


def up(port: int, moto_port: int) -> int:
    from devstack.emulator import apply_environment, start_emulator

    emulator = start_emulator(moto_port)
    apply_environment(emulator.endpoint)

    from devstack.bootstrap import bootstrap

    bootstrap()
    plane, media_server = start_media_plane()
    plane_url = os.environ["AWS_ENDPOINT_URL_MEDIACONVERT"]

    from app import app
    from devstack.gateway import Gateway
    from devstack.pollers import EventSourcePollers
    from devstack.server import ApiServer

    issued = platform_wiring.project_service().create_project("dev")
    server = ApiServer(Gateway(app), port)
    pollers = EventSourcePollers(app)
    server.start()
    pollers.start()

    STATE_DIR.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(
        json.dumps(
            {
                "apiUrl": server.url,
                "awsEndpoint": emulator.endpoint,
                "mediaPlane": os.environ["AWS_ENDPOINT_URL_MEDIACONVERT"],
                "mediaUrl": os.environ[resources.MEDIA_BASE_URL_ENV],
                "pid": os.getpid(),
            }
        )
    )
    API_KEY_FILE.write_text(issued.value + "\n")
    print(f"Videoplane devstack is up (AWS emulator at {emulator.endpoint}, {pollers.count} event sources polled)")
    print(f"API base URL: {server.url}")
    print(f"Media:        {os.environ[resources.MEDIA_BASE_URL_ENV]} (ffmpeg MediaConvert plane at {plane_url})")
    print(f"Dev project:  {issued.key.project_id}")
    print(f"Dev API key:  {issued.value}   (also in {API_KEY_FILE})")
    print("Webhooks may target 127.0.0.1 here (VIDEOPLANE_ALLOW_LOOPBACK_WEBHOOKS=1; never set on AWS).")
    print("Press Ctrl+C to stop.", flush=True)

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    stopping.wait()
    print("Stopping...", flush=True)
    pollers.stop()
    server.stop()
    plane.stop()
    media_server.stop()
    emulator.stop()
    STATE_FILE.unlink(missing_ok=True)
    return 0


def start_media_plane() -> tuple[MediaPlane, MediaServer]:
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
    media_server = MediaServer(boto3.client("s3", config=plain), bucket_name(resources.MEDIA_BUCKET))
    media_url = media_server.start()
    os.environ["AWS_ENDPOINT_URL_MEDIACONVERT"] = plane_url
    os.environ[resources.MEDIA_BASE_URL_ENV] = media_url
    os.environ[resources.PLAYER_BASE_URL_ENV] = f"{media_url}/embed"
    return plane, media_server


def _attach() -> None:
    """Point this process at the running devstack's emulator."""
    if not STATE_FILE.exists():
        sys.exit(f"No running devstack found ({STATE_FILE} is missing): start it with `make run`.")
    from devstack.emulator import apply_environment

    apply_environment(json.loads(STATE_FILE.read_text())["awsEndpoint"])


def create_project(name: str) -> dict[str, Any]:
    _attach()

    issued = platform_wiring.project_service().create_project(name)
    return {"projectId": issued.key.project_id, "apiKey": issued.value}


def create_key(project_id: str, role: str, name: str) -> dict[str, Any]:
    _attach()
    from chalicelib.core.domain.access import Role
    from chalicelib.platform.services.projects import KeyCreation

    issued = platform_wiring.project_service().create_key(
        project_id, KeyCreation(name=name, role=Role(role)), actor=None
    )
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up_cmd = commands.add_parser("up", help="run the whole platform on 127.0.0.1 until Ctrl+C")
    up_cmd.add_argument("--port", type=int, default=8000)
    up_cmd.add_argument("--moto-port", type=int, default=0)
    project = commands.add_parser("project").add_subparsers(dest="action", required=True)
    project.add_parser("create").add_argument("name")
    key = commands.add_parser("key").add_subparsers(dest="action", required=True)
    key_create = key.add_parser("create")
    key_create.add_argument("project")
    key_create.add_argument("--role", choices=["admin", "operator", "viewer"], default="operator")
    key_create.add_argument("--name", default="API key")
    commands.add_parser("signing-keys").add_subparsers(dest="action", required=True).add_parser("rotate")
    args = parser.parse_args(argv)

    if args.command == "up":
        return up(args.port, args.moto_port)
    if args.command == "project":
        result = create_project(args.name)
    elif args.command == "key":
        result = create_key(args.project, args.role, args.name)
    else:
        result = rotate_signing_keys()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
