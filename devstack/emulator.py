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

from chalicelib.core import resources
from devstack import motofixes

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
TABLE_NAME = "videoplane"
SIGNING_SECRET_ID = "videoplane/signing-keys"
# moto's default account; the media services' roles are never assumed here, so their ARNs only
# need the right shape.
ACCOUNT_ID = "123456789012"


def bucket_name(definition: resources.Bucket) -> str:
    return f"{resources.APP_NAME}-{definition.name}"


EVENT_BUS_NAME = f"{resources.APP_NAME}-{resources.EVENT_BUS.name}"


def role_arn(definition: resources.ServiceRole) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{resources.APP_NAME}-{definition.name}"


STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Emulator:
    """moto in a process of its own: the emulator and the app would otherwise share one GIL
    (and one core) on a machine with two."""

    process: subprocess.Popen[str]
    endpoint: str

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # the emulator exits when its parent lets go of it
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_emulator(port: int = 0) -> Emulator:
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.emulator", "--port", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    endpoint = process.stdout.readline().strip()
    if not endpoint.startswith("http://"):
        process.kill()
        raise RuntimeError(f"the AWS emulator did not start (exit code {process.wait()})")
    return Emulator(process=process, endpoint=endpoint)


def serve(port: int) -> None:
    """The emulator process: moto with the devstack's fixes, until its parent closes stdin
    (or dies). Ctrl+C reaches the whole process group; the parent decides when to stop."""
    from moto.server import ThreadedMotoServer

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    motofixes.apply()
    # moto's werkzeug server logs every AWS call; the app's own logs are what matter here.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    print(f"http://{host}:{bound_port}", flush=True)
    sys.stdin.read()
    server.stop()


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
        **{definition.env: role_arn(definition) for definition in resources.SERVICE_ROLES},
        **{definition.env: f"{endpoint}/{ACCOUNT_ID}/{definition.name}" for definition in resources.QUEUES},
        # Webhook receivers in the devstack live on 127.0.0.1; cloud configuration never sets this.
        resources.ALLOW_LOOPBACK_WEBHOOKS_ENV: "1",
        # Files to ingest by URL are served from 127.0.0.1 too (tests, the e2e SDK runs).
        resources.ALLOW_LOOPBACK_INGEST_ENV: "1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "Videoplane",
    }


def apply_environment(endpoint: str) -> None:
    os.environ.update(aws_environment(endpoint))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto's server for the devstack (started by `devstack up`)")
    parser.add_argument("--port", type=int, default=0)
    serve(parser.parse_args().port)
