"""A restream relay: the live stream's HLS pushed unchanged to one restream target, supervised.

Runs as the container of the relay ECS task (infra/relay/Dockerfile) and, unchanged, as the
process the devstack's ECS plane starts for a RunTask. Its settings come from the environment
(the task's container overrides, chalicelib/live/adapters/relays.py):

- `RELAY_SOURCE_URL`: the channel's live HLS (IVS playback URL); `RELAY_TARGET_URL`: where to push
  (`rtmp[s]://host/app/key` as FLV, `srt://host:port?streamid=key` as MPEG-TS);
- `RELAY_ID`, `RELAY_PROJECT_ID`, `RELAY_LIVE_STREAM_ID`, `RELAY_REPORT_QUEUE_URL`, `RELAY_REPORT_KIND`:
  who it is and where it reports its state (the live-events queue; the live context applies it).

States: `connecting` at start, `live` once ffmpeg has written media to the target, `retrying`
(with ffmpeg's last error line) after a failure, `failed` after MAX_ATTEMPTS failures in a row
without going live, `stopped` on SIGTERM (ECS StopTask) or when the source ends (the broadcast's
playlist got its ENDLIST). Each report carries a sequence number, so the live context ignores
late and repeated ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0, 15.0)
PROGRESS_SECONDS = "0.5"
# Stalled source or target reads/writes fail after this (microseconds), and are retried.
IO_TIMEOUT_MICROSECONDS = "15000000"


def relay_command(ffmpeg: str, source: str, target: str) -> list[str]:
    """ffmpeg from the newest segment of the live HLS (least delay), the first video and audio
    (IVS's best rendition comes first), copied, with its progress on stdout."""
    container = "mpegts" if urlsplit(target).scheme == "srt" else "flv"
    return [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
        "-rw_timeout", IO_TIMEOUT_MICROSECONDS, "-live_start_index", "-1", "-i", source,
        "-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy",
        "-progress", "pipe:1", "-stats_period", PROGRESS_SECONDS,
        "-f", container, target,
    ]  # fmt: skip


def bytes_written(lines: Iterable[str]) -> Iterable[int]:
    """ffmpeg's `-progress` output -> the output's size at each report."""
    for line in lines:
        key, _, value = line.strip().partition("=")
        if key == "total_size" and value.isdigit():
            yield int(value)


@dataclass(frozen=True)
class Run:
    """One ffmpeg run: whether it reached the target with media, its exit code, its last error."""

    went_live: bool
    code: int
    reason: str


class Reporter:
    def __init__(self, send: Callable[[str], object], env: Mapping[str, str], clock: Callable[[], datetime]) -> None:
        self.send = send
        self.identity = {
            "kind": env["RELAY_REPORT_KIND"],
            "projectId": env["RELAY_PROJECT_ID"],
            "liveStreamId": env["RELAY_LIVE_STREAM_ID"],
            "relayId": env["RELAY_ID"],
        }
        self.clock = clock
        self.sequence = 0
        self.lock = threading.Lock()

    def __call__(self, state: str, reason: str | None = None) -> None:
        with self.lock:
            self.sequence += 1
            body: dict[str, Any] = {
                **self.identity, "state": state, "reason": reason, "sequence": self.sequence,
                "time": self.clock().isoformat(),
            }  # fmt: skip
        print(f"relay {self.identity['relayId']}: {state} {reason or ''}", file=sys.stderr, flush=True)
        try:
            self.send(json.dumps(body))
        except Exception as error:  # noqa: BLE001 - a lost report must not stop the media
            print(f"relay: report not sent: {error}", file=sys.stderr, flush=True)


def supervise(
    run_once: Callable[[Callable[[], None]], Run],
    report: Callable[..., None],
    stopping: threading.Event,
    max_attempts: int = MAX_ATTEMPTS,
    backoff: tuple[float, ...] = BACKOFF_SECONDS,
) -> int:
    """Runs ffmpeg until stopped, the source ends, or it failed max_attempts times in a row
    without going live. Returns the process's exit code."""
    report("connecting")
    failures = 0
    while not stopping.is_set():
        run = run_once(lambda: report("live"))
        if stopping.is_set():
            break
        if run.code == 0:
            report("stopped", "The source ended.")
            return 0
        failures = 1 if run.went_live else failures + 1
        if failures >= max_attempts:
            report("failed", run.reason)
            return 1
        report("retrying", run.reason)
        if stopping.wait(backoff[min(failures, len(backoff)) - 1]):
            break
    report("stopped")
    return 0


class Ffmpeg:
    """Runs the relay's ffmpeg once; `stop` (from the SIGTERM handler) ends the current run."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen[str] | None = None

    def __call__(self, went_live: Callable[[], None]) -> Run:
        self.process = process = subprocess.Popen(
            self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.extend(_lines(process.stderr)), daemon=True)
        reader.start()
        live = False
        assert process.stdout is not None
        for size in bytes_written(process.stdout):
            if size > 0 and not live:
                live = True
                went_live()
        code = process.wait()
        reader.join(5)
        reason = next((line for line in reversed(errors) if line), f"ffmpeg exited with code {code}.")
        return Run(live, code, reason)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()


def _lines(stream: Any) -> Iterable[str]:
    for line in stream:
        yield line.strip()


def main() -> int:
    import boto3  # in the container image and the devstack's venv

    env = os.environ
    queue = env["RELAY_REPORT_QUEUE_URL"]
    sqs = boto3.client("sqs")
    report = Reporter(lambda body: sqs.send_message(QueueUrl=queue, MessageBody=body), env, lambda: datetime.now(UTC))
    ffmpeg = Ffmpeg(relay_command(env.get("RELAY_FFMPEG", "ffmpeg"), env["RELAY_SOURCE_URL"], env["RELAY_TARGET_URL"]))
    stopping = threading.Event()

    def stop(*_: Any) -> None:
        stopping.set()
        ffmpeg.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return supervise(ffmpeg, report, stopping)


if __name__ == "__main__":
    sys.exit(main())
