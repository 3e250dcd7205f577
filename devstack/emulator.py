"""moto's server on loopback, and the environment that points boto3 at it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.core import resources
from devstack import motofixes, persistence

REGION = "us-east-1"
# moto's default account; the media services' roles are never assumed here, so their ARNs only
# need the right shape.
ACCOUNT_ID = "123456789012"
TABLE_NAME = "videoplane"
SIGNING_SECRET_ID = "videoplane/signing-keys"


def bucket_name(definition: resources.Bucket) -> str:
    return f"{resources.APP_NAME}-{definition.name}"


EVENT_BUS_NAME = f"{resources.APP_NAME}-{resources.EVENT_BUS.name}"


def role_arn(definition: resources.ServiceRole) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{resources.APP_NAME}-{definition.name}"


STOP_TIMEOUT_SECONDS = 10.0
# Python hands the GIL to another thread every 5 ms by default. Under load a thread holding the
# DynamoDB lock (motofixes 3) then waits for threads that are only parsing requests, and every
# table operation queues behind it: with 50 ms, 20 clients got ~25 % more requests through and a
# lower p99 (benchmarks/api_load, interleaved runs). Nothing in this process is timing-sensitive;
# the devstack process, which relays live media, keeps the default.
GIL_SWITCH_SECONDS = 0.05


@dataclass(frozen=True)
class Emulator:
    """moto in a process of its own: the emulator and the app would otherwise share one GIL
    (and one core) on a machine with two."""

    process: subprocess.Popen[str]
    endpoint: str
    restored: bool = False  # the state saved in the devstack's folder was loaded

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # the emulator saves its state and exits when its parent lets go
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_emulator(port: int = 0, state_dir: Path | None = None) -> Emulator:
    """The emulator, restored from `state_dir` if it holds a snapshot and saving into it."""
    command = [sys.executable, "-m", "devstack.emulator", "--port", str(port)]
    if state_dir is not None:
        command += ["--state-dir", str(state_dir)]
    process = subprocess.Popen(
        command,
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    endpoint, _, origin = process.stdout.readline().strip().partition(" ")
    if not endpoint.startswith("http://"):
        process.kill()
        raise RuntimeError(f"the AWS emulator did not start (exit code {process.wait()})")
    return Emulator(process=process, endpoint=endpoint, restored=origin == "restored")


def serve(port: int, state_dir: Path | None) -> None:
    """The emulator process: moto with the devstack's fixes, until its parent closes stdin
    (or dies). Ctrl+C reaches the whole process group; the parent decides when to stop.
    With a state folder, it starts from the last snapshot and keeps saving (devstack.persistence)."""
    from moto.server import ThreadedMotoServer

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    motofixes.apply()
    # moto's werkzeug server logs every AWS call; the app's own logs are what matter here.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    restored = persistence.restore(state_dir) if state_dir is not None else False
    snapshots = (
        persistence.Snapshotter(state_dir, lambda: motofixes.DYNAMODB_LOCK, persistence.interval())
        if state_dir is not None and persistence.interval() > 0
        else None
    )

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            from moto.server import create_backend_app
            from werkzeug.serving import make_server

            moto_app = motofixes.dispatcher(create_backend_app)

            def app(environ: dict[str, Any], start_response: Any) -> Any:
                if snapshots is not None and persistence.is_change(
                    environ.get("REQUEST_METHOD", ""), environ.get("HTTP_X_AMZ_TARGET")
                ):
                    snapshots.changed()
                return moto_app(environ, start_response)

            handler = motofixes.keep_alive_handler()
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=handler)
            self._server_ready_event.set()
            self._server.serve_forever()

    server = Server(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    if snapshots is not None:
        snapshots.start()
    host, bound_port = server.get_host_and_port()
    print(f"http://{host}:{bound_port} {'restored' if restored else 'fresh'}", flush=True)
    sys.stdin.read()
    server.stop()
    if snapshots is not None:
        snapshots.stop()
    if state_dir is not None:
        persistence.save(state_dir)  # the server is stopped: nothing changes while this runs


# A fixed local key (`kid:base64url secret`): sessions outlive a devstack restart, like on AWS.
PLAYBACK_SESSION_KEYS = "devstack1:ZGV2c3RhY2sgcGxheWJhY2sgc2Vzc2lvbiBrZXkgb25lISE"
# A fixed local ES384 key signing IVS playback JWTs of private live streams; the devstack imports
# its public half into its IVS plane (ImportPlaybackKeyPair), as a deployment does into IVS.
LIVE_PLAYBACK_KEY = """-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCQP/yR0vMIUFLmBuGz
rpPeyIVE8v5Poc447GflKSOP81AT2MMKEOLofiLj4xAdUXOhZANiAAQC/2ub1g8N
AVfDeve+jq7r+kOG1B+Eun/saF2yNPTIm/xlzmKKg+4szJXxk4Dhdfs8EJr0QhCd
GqlZWvDJ6URbOfWgrdi4Dn8xqlnzLZ1u6ZbdanXPPN0BK+OQw5kNKz0=
-----END PRIVATE KEY-----
"""


def aws_environment(endpoint: str) -> dict[str, str]:
    """Standard AWS variables only: the runtime has no idea it talks to an emulator."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "devstack",
        "AWS_SECRET_ACCESS_KEY": "devstack",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        resources.TABLE_ENV: TABLE_NAME,
        resources.SIGNING_SECRET_ENV: SIGNING_SECRET_ID,
        **{definition.env: bucket_name(definition) for definition in resources.BUCKETS},
        resources.EVENT_BUS.env: EVENT_BUS_NAME,
        resources.ANALYTICS_STREAM.env: resources.ANALYTICS_STREAM.name,
        **{definition.env: role_arn(definition) for definition in resources.SERVICE_ROLES},
        **{definition.env: f"{endpoint}/{ACCOUNT_ID}/{definition.name}" for definition in resources.QUEUES},
        # Webhook receivers in the devstack live on 127.0.0.1; cloud configuration never sets this.
        resources.ALLOW_LOOPBACK_WEBHOOKS_ENV: "1",
        # Files to ingest by URL are served from 127.0.0.1 too (tests, the e2e SDK runs).
        resources.ALLOW_LOOPBACK_INGEST_ENV: "1",
        # Signs private videos' playback sessions; the devstack's media server checks them.
        resources.PLAYBACK_SESSION_KEYS_ENV: PLAYBACK_SESSION_KEYS,
        # No CDN in front of the API: a client's CloudFront-Viewer-Country is believed (testing geo).
        resources.TRUST_VIEWER_COUNTRY_ENV: "1",
        resources.LIVE_PLAYBACK_KEY_ENV: LIVE_PLAYBACK_KEY,
        # Managed live events' encoders push from this machine only (the MediaLive plane's inputs).
        resources.LIVE_EVENT_INGEST_CIDRS_ENV: "127.0.0.1/32",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "Videoplane",
    }


def apply_environment(endpoint: str) -> None:
    os.environ.update(aws_environment(endpoint))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto's server for the devstack (started by `devstack up`)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-dir", type=Path, default=None)
    arguments = parser.parse_args()
    serve(arguments.port, arguments.state_dir)
