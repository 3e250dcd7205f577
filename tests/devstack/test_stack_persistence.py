"""The devstack keeps its data across restarts (SIGTERM and kill -9), `reset` wipes it, the
emulator's death stops the stack with one clear line, and CLI errors are one line."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import requests

from tests.e2e.receivers import Receiver
from tests.e2e.support import REPO_ROOT, Api, Devstack

MEDIA_BUCKET = "videoplane-media"
EXIT_TIMEOUT_SECONDS = 20
SNAPSHOT_WAIT_SECONDS = 3.0  # the emulator snapshots at most every second after a change


def stable_port() -> int:
    """A free API port whose neighbour (the media port) is free too, both below the kernel's
    ephemeral range: a port the OS handed out could be taken by any outgoing connection between
    a stop and the restart, and the restart must find both ports again."""
    lowest_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        candidate = random.randrange(20_000, lowest_ephemeral - 2)
        if all(_bindable(candidate + offset) for offset in (0, 1)):
            return candidate
    raise RuntimeError("no two free neighbouring ports below the ephemeral range")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def s3(stack: Devstack) -> object:
    return boto3.client(
        "s3",
        endpoint_url=stack.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="devstack",
        aws_secret_access_key="devstack",
    )


def cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIDEOPLANE_DEVSTACK_DIR": str(state_dir)}
    return subprocess.run(
        [sys.executable, "-m", "devstack", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_restart_keeps_projects_keys_videos_media_and_webhooks(tmp_path: Path) -> None:
    port = stable_port()
    stack = Devstack.start(tmp_path, port=port)
    receiver = Receiver().start()
    try:
        first = stack.state()
        tenant = stack.create_project("kept tenant")
        api = Api(stack.api_url)
        # The webhook comes first, and its delivery is awaited before the stop: whether an event
        # created before the subscription reaches it depends on how fast the stream consumer runs.
        webhook = api.ok(
            "POST", "/webhooks", tenant.api_key, expected=201, json={"events": ["video.created"], "url": receiver.url}
        )
        video = api.create_video(tenant.api_key, title="kept video")
        receiver.wait_for(1)
        media = b"\x00media" * 20_000  # above the size that goes to a blob file
        s3(stack).put_object(Bucket=MEDIA_BUCKET, Key="vod/kept/clip.mp4", Body=media)  # type: ignore[attr-defined]
        assert stack.stop() == 0

        stack = Devstack.start(tmp_path, port=port)
        second = stack.state()
        # Stable URLs: the API and the media server come back on the same ports.
        assert (second["apiUrl"], second["mediaUrl"]) == (first["apiUrl"], first["mediaUrl"])
        assert stack.dev_api_key == (tmp_path / "api-key").read_text().strip()
        assert "data kept from the last run" in stack.log_tail()
        api = Api(stack.api_url)
        assert api.ok("GET", f"/videos/{video['videoId']}", tenant.api_key)["title"] == "kept video"
        assert api.ok("GET", f"/webhooks/{webhook['webhookId']}", tenant.api_key)["url"] == receiver.url
        assert requests.get(f"{second['mediaUrl']}/vod/kept/clip.mp4", timeout=10).content == media
        api.ok("GET", "/videos", stack.dev_api_key)  # the dev key of the first run still works
        # Stream records are not replayed: the restart published no second video.created.
        time.sleep(1.0)
        assert len(receiver.requests) == 1, [r.body for r in receiver.requests]

        # kill -9: the last snapshot (at most a second old) stands, and the stack starts again.
        later = api.create_video(tenant.api_key, title="written before the kill")
        time.sleep(SNAPSHOT_WAIT_SECONDS)
        stack.process.send_signal(signal.SIGKILL)
        stack.process.wait(EXIT_TIMEOUT_SECONDS)
        stack = Devstack.start(tmp_path, port=port)
        api = Api(stack.api_url)
        assert api.ok("GET", f"/videos/{later['videoId']}", tenant.api_key)["title"] == "written before the kill"
        assert stack.stop() == 0

        wiped = cli(tmp_path, "reset")
        assert wiped.returncode == 0, wiped.stderr
        stack = Devstack.start(tmp_path, port=port)
        assert "new, empty" in stack.log_tail()
        refused = Api(stack.api_url).raw("POST", "/auth/api-key", json={"apiKey": tenant.api_key})
        assert refused.status_code == 401, refused.text
    finally:
        receiver.stop()
        stack.kill()


def test_reset_refuses_while_the_stack_runs_and_cli_errors_are_one_line(tmp_path: Path) -> None:
    stack = Devstack.start(tmp_path)
    try:
        for args, words in (
            (("reset",), "already runs"),
            (("key", "create", "prNoSuchProject00000000000", "--role", "viewer"), "No project"),
            (("up", "--port", "0"), "already runs"),  # two stacks on one folder would overwrite each other
        ):
            done = cli(tmp_path, *args)
            assert done.returncode == 1, (args, done.stdout, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and words in lines[0], (args, done.stderr)
            assert "Traceback" not in done.stderr
    finally:
        stack.stop()
    done = cli(tmp_path, "project", "create", "late")
    assert done.returncode == 1 and "No devstack runs" in done.stderr and "Traceback" not in done.stderr


def test_a_port_in_use_is_one_line_suggesting_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = cli(tmp_path, "up", "--port", str(taken.getsockname()[1]))
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "--port" in done.stderr, done.stderr


def test_the_stack_stops_with_one_line_when_the_emulator_dies(tmp_path: Path) -> None:
    stack = Devstack.start(tmp_path)
    try:
        api = Api(stack.api_url)
        api.ok("GET", "/videos", stack.dev_api_key)
        os.kill(int(stack.state()["emulatorPid"]), signal.SIGKILL)
        code = stack.process.wait(EXIT_TIMEOUT_SECONDS)
    finally:
        stack.kill()
    log = stack.log_path.read_text(errors="replace")
    assert code == 1, log[-2000:]
    assert "The AWS emulator exited unexpectedly" in log
    assert log.count("Traceback") <= 5, log[-4000:]  # at most a poller or two caught mid-call
