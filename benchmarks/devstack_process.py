"""A devstack in a subprocess for the benchmarks: started on a free port with rate limits
lifted, stopped with SIGTERM (and its exit reported)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 60.0
NO_RATE_LIMITS = {f"VIDEOPLANE_RATE_LIMIT_{name}": str(10**9) for name in ("READS", "WRITES", "UPLOADS", "BEACONS")}


@dataclass
class Devstack:
    workdir: Path
    api_url: str = ""
    aws_endpoint: str = ""
    api_key: str = ""
    stop_outcome: str = "not started"
    process: subprocess.Popen[bytes] | None = None

    @property
    def command_log(self) -> Path:
        return self.workdir / "mediaplane-commands.jsonl"

    @property
    def log_file(self) -> Path:
        return self.workdir / "devstack.log"

    def start(self) -> None:
        # The devstack sets every AWS variable it needs; a caller's profile or endpoint must not leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(NO_RATE_LIMITS)
        env["VIDEOPLANE_DEVSTACK_DIR"] = str(self.workdir)
        env["PYTHONUNBUFFERED"] = "1"
        # Only written if a benchmark turns moto's recorder on (api_latency does).
        env["MOTO_RECORDER_FILEPATH"] = str(self.workdir / "moto-recording.jsonl")
        # Every ffmpeg run of the media plane (time_to_playable replays them as its baseline).
        env["VIDEOPLANE_MEDIAPLANE_COMMAND_LOG"] = str(self.command_log)
        with self.log_file.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devstack", "up", "--port", "0"],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.stop_outcome = "running"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        state_file, key_file = self.workdir / "state.json", self.workdir / "api-key"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"devstack exited with {self.process.returncode}:\n{self.log_tail()}")
            if state_file.exists() and key_file.exists() and key_file.read_text().strip():
                try:
                    state = json.loads(state_file.read_text())
                except ValueError:
                    state = None  # caught mid-write
                if state:
                    self.api_url = str(state["apiUrl"]).rstrip("/")
                    self.aws_endpoint = str(state["awsEndpoint"])
                    self.api_key = key_file.read_text().strip()
                    return
            time.sleep(0.05)
        raise RuntimeError(f"devstack did not come up in {START_TIMEOUT_SECONDS:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            self.stop_outcome = f"stopped by SIGTERM (exit code {self.process.returncode})"
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self.stop_outcome = f"did not stop within {STOP_TIMEOUT_SECONDS:.0f} s of SIGTERM; killed"

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """user + system CPU time of the devstack process so far (Linux /proc)."""
        return float("nan") if self.process is None else _cpu_seconds(self.process.pid)

    def emulator_cpu_seconds(self, snapshots: bool = False) -> float:
        """The same for the AWS emulator, the devstack's child process running moto; with
        `snapshots`, that of the children it forked to write its snapshots (devstack.persistence)."""
        if self.process is None:
            return float("nan")
        for child in _children(self.process.pid):
            if b"devstack.emulator" in _read(f"/proc/{child}/cmdline"):
                return _cpu_seconds(child, children=snapshots)
        return float("nan")

    def log_errors(self) -> int:
        text = self.log_file.read_text(errors="replace")
        return sum(1 for line in text.splitlines() if "Traceback" in line or '"level": "ERROR"' in line)


@contextmanager
def running_devstack(prefix: str) -> Iterator[Devstack]:
    with tempfile.TemporaryDirectory(prefix=prefix) as workdir:
        stack = Devstack(Path(workdir))
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _children(pid: int) -> list[int]:
    return [int(child) for child in _read(f"/proc/{pid}/task/{pid}/children").split()]


def _cpu_seconds(pid: int, children: bool = False) -> float:
    """utime + stime, or with `children` those of its children it has waited for (cutime + cstime)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return float("nan")
    fields = stat.rsplit(b")", 1)[1].split()
    first = 13 if children else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")
