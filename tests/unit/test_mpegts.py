"""MPEG-TS timestamps shifted in place (live-to-VOD joins a broadcast's pushes with it), on real
MPEG-TS from ffmpeg: the joined file's clock runs on, and ffmpeg decodes it end to end."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from chalicelib.vod.domain import mpegts
from chalicelib.vod.domain.recordings import Segment, part_offsets

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def encoded(path: Path, seconds: int, frequency: int) -> bytes:
    """An encoder's push as IVS records it: H.264 + AAC in MPEG-TS, timestamps from ~1.4 s."""
    subprocess.run(
        [FFMPEG, "-v", "error", "-f", "lavfi", "-i", f"testsrc=size=160x120:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency={frequency}:duration={seconds}", "-c:v", "libx264",
         "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-f", "mpegts", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


def timestamps(data: bytes) -> list[int]:
    return [value for _, value in mpegts._timestamps(data)]


def duration(path: Path) -> float:
    """The file's duration as a prober reads it (from its timestamps: what the pipeline's probe
    reports), after ffmpeg decoded it end to end without an error."""
    run = subprocess.run([FFMPEG, "-v", "info", "-i", str(path), "-f", "null", "-"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0 and " error" not in run.stderr.lower(), run.stderr
    hours, minutes, seconds = re.findall(r"Duration: (\d+):(\d+):([\d.]+)", run.stderr)[0]
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_a_later_push_shifted_to_follow_the_first_decodes_as_one(tmp_path: Path) -> None:
    first, second = encoded(tmp_path / "a.ts", 2, 440), encoded(tmp_path / "b.ts", 2, 880)
    start_a, start_b = mpegts.first_timestamp(first), mpegts.first_timestamp(second)
    assert start_a is not None and start_b is not None and abs(start_a - start_b) < mpegts.CLOCK  # both from ~0
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first + second)
    overlapping = duration(joined)

    offset = mpegts.offset_between(start_a, 2.0, start_b)
    shifted = mpegts.shift(second, offset)
    assert len(shifted) == len(second) and mpegts.first_timestamp(shifted) == start_a + 2 * mpegts.CLOCK
    assert min(timestamps(shifted)) > max(timestamps(first)) - mpegts.CLOCK // 2  # the clock runs on
    joined.write_bytes(first + shifted)
    assert overlapping < 2.5  # joined as they are, the second push plays over the first
    assert duration(joined) >= 3.9  # 4 s of media


def test_timestamps_wrap_at_33_bits_and_a_zero_shift_is_the_data_itself(tmp_path: Path) -> None:
    data = encoded(tmp_path / "a.ts", 1, 440)
    start = mpegts.first_timestamp(data)
    assert start is not None
    assert mpegts.shift(data, 0) is data
    wrapped = mpegts.shift(data, mpegts.WRAP - start)  # the first timestamp lands on 0, later ones after it
    assert mpegts.first_timestamp(wrapped) == 0
    assert mpegts.shift(wrapped, start) == data
    assert mpegts.shift(b"not a transport stream", 1234) == b"not a transport stream"


@pytest.mark.parametrize(
    ("starts", "expected"), [({0: 100, 1: 100}, {0: 0, 1: 2 * mpegts.CLOCK}), ({0: 5, 1: None}, {0: 0, 1: 0})]
)
def test_each_push_is_moved_after_the_ones_before_it(starts: dict[int, int | None], expected: dict[int, int]) -> None:
    segments = [Segment("a0", 1.0, 0), Segment("a1", 1.0, 0), Segment("b0", 1.0, 1)]
    assert part_offsets(segments, starts) == expected
