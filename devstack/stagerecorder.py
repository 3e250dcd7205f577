"""The devstack's stand-in for IVS real-time server-side composition to S3: a stage's publishers
recorded while a composition runs, then composed into one grid and written to the emulated media
bucket as IVS lays a composite recording out (`<prefix>/events/recording-started.json`,
`media/hls/<rendition>/playlist.m3u8` and its MPEG-TS segments, `events/recording-ended.json`).

Each publisher's tracks come from the WHIP ingest (`WhipIngest.subscribe_tracks`, relayed) and are
written by aiortc's MediaRecorder into a Matroska file of their own, from the moment the
composition starts or they publish, whichever is later. When the composition stops, ffmpeg lays
the files on a 1280x720 black canvas spanning the composition's whole time (a grid: one cell per
publisher, each placed at the time it started), mixes their audio, and cuts HLS. IVS writes its
segments while it records; this one writes them when it stops (a devstack simplification: nothing
reads a composite recording before its "Session End").
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)
HLS_PATH = "media/hls"
RENDITION = "720p30"
PLAYLIST = "playlist.m3u8"
WIDTH, HEIGHT, RATE = 1280, 720, 30
SEGMENT_SECONDS = 2
COMPOSE_TIMEOUT_SECONDS = 600


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Take:
    """One publisher's recording inside a composition."""

    path: Path
    offset: float  # seconds after the composition started
    kinds: frozenset[str] = frozenset()
    recorder: Any = None


@dataclass
class Composite:
    bucket: str
    prefix: str
    started_at: datetime
    folder: Path
    began: float = field(default_factory=time.monotonic)
    takes: dict[str, _Take] = field(default_factory=dict)


class StageRecorder:
    def __init__(self, s3: Any, ffmpeg: str, whip: Any) -> None:
        self.s3 = s3
        self.ffmpeg = ffmpeg
        # devstack.whip.WhipIngest: subscribe_tracks(participant_id) and run(coroutine).
        self.whip = whip
        self.composites: dict[str, Composite] = {}

    def start(self, composition_id: str, bucket: str, prefix: str, stage_arn: str) -> None:
        now = datetime.now(UTC)
        folder = Path(tempfile.mkdtemp(prefix=f"composite-{composition_id}-"))
        self.composites[composition_id] = Composite(bucket, prefix, now, folder)
        started = {
            "version": "v1",
            "stage_arn": stage_arn,
            "recording_started_at": _iso(now),
            "recording_status": "RECORDING_STARTED",
            "media": {"hls": {"path": HLS_PATH, "playlist": PLAYLIST, "renditions": [self._rendition()]}},
        }
        self._put_json(bucket, f"{prefix}/events/recording-started.json", started)

    def add(self, composition_id: str, participant_id: str) -> None:
        """A publisher of the stage: recorded from now until the composition stops."""
        composite = self.composites.get(composition_id)
        if composite is None or participant_id in composite.takes:
            return
        tracks = self.whip.subscribe_tracks(participant_id)
        if not tracks:
            return  # a peer without media (tests' connect())
        kinds = frozenset(str(track.kind) for track in tracks)
        take = _Take(composite.folder / f"{participant_id}.mkv", time.monotonic() - composite.began, kinds)
        take.recorder = self.whip.run(self._record(take.path, tracks))
        composite.takes[participant_id] = take

    def stop(self, composition_id: str, stage_arn: str) -> int | None:
        """Ends the recording and writes it to S3: its duration in ms, None when it failed."""
        composite = self.composites.pop(composition_id, None)
        if composite is None:
            return None
        total = time.monotonic() - composite.began
        for take in composite.takes.values():
            self.whip.run(take.recorder.stop())
        try:
            out = composite.folder / "hls"
            out.mkdir()
            self._compose(list(composite.takes.values()), total, out)
            duration_ms = self._upload(composite, out, stage_arn)
        except Exception:
            logger.exception("could not write the composite recording %s", composite.prefix)
            return None
        finally:
            shutil.rmtree(composite.folder, ignore_errors=True)
        return duration_ms

    @staticmethod
    async def _record(path: Path, tracks: list[Any]) -> Any:
        from aiortc.contrib.media import MediaRecorder

        recorder = MediaRecorder(str(path), format="matroska")
        for track in tracks:
            recorder.addTrack(track)
        await recorder.start()
        return recorder

    def _compose(self, takes: list[_Take], total: float, out: Path) -> None:
        """The takes on a black canvas of the composition's length, in a grid, as HLS."""
        # The kinds the file holds, not the kinds subscribed to: a track whose first frame had not
        # arrived when the recorder stopped has no stream in the file (seen on a loaded CI machine).
        recorded = [(t, self._kinds_in(t.path)) for t in takes if t.path.exists() and t.path.stat().st_size > 0]
        recorded = [(t, kinds) for t, kinds in recorded if kinds]
        command = [self.ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
        for take, _ in recorded:
            command += ["-i", str(take.path)]
        command += ["-filter_complex", grid_filter([(t.offset, kinds) for t, kinds in recorded], total)]
        command += ["-map", "[v]", "-map", "[a]", "-t", f"{total:.3f}"]
        command += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-r", str(RATE)]
        command += ["-g", str(RATE * SEGMENT_SECONDS), "-keyint_min", str(RATE * SEGMENT_SECONDS)]
        command += ["-sc_threshold", "0", "-c:a", "aac", "-ar", "48000", "-ac", "2"]
        command += ["-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod"]
        command += ["-hls_segment_filename", str(out / "%d.ts"), str(out / PLAYLIST)]
        done = subprocess.run(command, timeout=COMPOSE_TIMEOUT_SECONDS, capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"ffmpeg exited {done.returncode}: {done.stderr.decode(errors='replace')[-2000:]}")

    def _kinds_in(self, path: Path) -> frozenset[str]:
        """The stream kinds of a recorded file that hold packets (no ffprobe here). ffmpeg's listing
        of its input names the streams; a stream the recorder declared but never got a frame for is
        listed too, and makes the composing ffmpeg fail ("Cannot determine format of input 0:1 after
        EOF"), so only the streams with packets in a copy of the file (framemd5: one line per
        packet, its stream index first) count."""
        listing = subprocess.run(
            [self.ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, timeout=30, check=False
        ).stderr.decode(errors="replace")
        streams = dict(re.findall(r"Stream #0:(\d+).*?: (Video|Audio):", listing))
        copy = ["-map", "0", "-c", "copy", "-f", "framemd5", "-"]
        packets = subprocess.run(
            [self.ffmpeg, "-hide_banner", "-v", "error", "-i", str(path), *copy],
            capture_output=True, timeout=60, check=False,
        ).stdout.decode(errors="replace")  # fmt: skip
        filled = {line.split(",", 1)[0].strip() for line in packets.splitlines() if line and not line.startswith("#")}
        return frozenset(kind.lower() for index, kind in streams.items() if index in filled)

    def _upload(self, composite: Composite, out: Path, stage_arn: str) -> int:
        base = f"{composite.prefix}/{HLS_PATH}/{RENDITION}"
        for segment in sorted(out.glob("*.ts")):
            self.s3.put_object(
                Bucket=composite.bucket, Key=f"{base}/{segment.name}", Body=segment.read_bytes(),
                ContentType="video/MP2T",
            )  # fmt: skip
        text = (out / PLAYLIST).read_text()
        self.s3.put_object(
            Bucket=composite.bucket, Key=f"{base}/{PLAYLIST}", Body=text.encode(), ContentType="application/x-mpegURL"
        )
        duration_ms = round(1000 * sum(_extinf(line) for line in text.splitlines()))
        ended = {
            "version": "v1",
            "stage_arn": stage_arn,
            "recording_started_at": _iso(composite.started_at),
            "recording_ended_at": _iso(datetime.now(UTC)),
            "recording_status": "RECORDING_ENDED",
            "media": {
                "hls": {
                    "duration_ms": duration_ms,
                    "path": HLS_PATH,
                    "playlist": PLAYLIST,
                    "renditions": [self._rendition()],
                }
            },
        }
        self._put_json(composite.bucket, f"{composite.prefix}/events/recording-ended.json", ended)
        return duration_ms

    @staticmethod
    def _rendition() -> dict[str, Any]:
        return {"path": RENDITION, "playlist": PLAYLIST, "resolution_width": WIDTH, "resolution_height": HEIGHT}

    def _put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(body).encode(), ContentType="application/json")


def grid_filter(takes: list[tuple[float, frozenset[str]]], total: float) -> str:
    """ffmpeg's filter graph: input i (started `offset` s in, with these track kinds) in its cell of
    a grid on a black 1280x720 canvas of `total` seconds → [v]; the audio, placed in time, mixed → [a]."""
    count = len(takes)
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / columns))
    cell_w, cell_h = WIDTH // columns // 2 * 2, HEIGHT // rows // 2 * 2
    parts = [f"color=black:s={WIDTH}x{HEIGHT}:r={RATE}:d={total:.3f}[base0]"]
    parts.append(f"anullsrc=r=48000:cl=stereo,atrim=duration={total:.3f}[silence]")
    voices = ""
    for i, (offset, kinds) in enumerate(takes):
        if "video" not in kinds:
            parts.append(f"[base{i}]null[base{i + 1}]")
        else:
            parts.append(
                f"[{i}:v]setpts=PTS-STARTPTS+{offset:.3f}/TB,"
                f"scale={cell_w}:{cell_h}:force_original_aspect_ratio=decrease,"
                f"pad={cell_w}:{cell_h}:(ow-iw)/2:(oh-ih)/2[cell{i}]"
            )
            x, y = (i % columns) * cell_w + (WIDTH - columns * cell_w) // 2, (i // columns) * cell_h
            parts.append(f"[base{i}][cell{i}]overlay=x={x}:y={y}:eof_action=pass[base{i + 1}]")
        if "audio" in kinds:
            delay = round(offset * 1000)
            parts.append(f"[{i}:a]aresample=async=1,asetpts=PTS-STARTPTS,adelay={delay}:all=1[voice{i}]")
            voices += f"[voice{i}]"
    parts.append(f"[base{count}]null[v]")
    inputs = 1 + voices.count("[voice")
    parts.append(f"[silence]{voices}amix=inputs={inputs}:duration=first:normalize=0[a]")
    return ";".join(parts)


def _extinf(line: str) -> float:
    if not line.startswith("#EXTINF:"):
        return 0.0
    return float(line[len("#EXTINF:") :].split(",", 1)[0])
