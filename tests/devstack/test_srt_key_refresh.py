"""SRT's in-stream key refresh through the devstack's SRT front door (devstack/liveplane.py,
devstack/srt.py), with a real ffmpeg SRT publisher: its stream key is replaced every
`kmrefreshrate` packets (a KMREQ control packet, the new key announced `kmpreannounce` packets
before), and the front door rewraps each for its listener's passphrase, so the live HLS keeps
its media for the whole push. Without the bridge the listener cannot decrypt past the first
refresh, and the HLS stops there."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import imageio_ffmpeg
import pytest

from devstack import srt
from devstack.ivsplane import IvsPlane
from devstack.liveplane import LivePlane

pytestmark = pytest.mark.integration

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
PUSH_SECONDS = 16
# At 800 kb/s, about 75 SRT packets a second: a new stream key every 5 s or so.
REFRESH = "&kmrefreshrate=400&kmpreannounce=100"


@pytest.fixture
def ingest(tmp_path: Path) -> Iterator[tuple[LivePlane, Any, Path]]:
    ivs_plane = IvsPlane("http://127.0.0.1:9/media")
    client = boto3.client(
        "ivs", region_name="us-east-1", endpoint_url=ivs_plane.start(), aws_access_key_id="t", aws_secret_access_key="t"
    )
    plane = LivePlane(ivs_plane, tmp_path / "live", FFMPEG, rtmp_port=0, srt_port=0)
    plane.start()
    try:
        yield plane, client, tmp_path / "live"
    finally:
        plane.stop()
        ivs_plane.stop()


def push(url: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
         "-t", str(PUSH_SECONDS), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25",
         "-b:v", "800k", "-pix_fmt", "yuv420p", "-f", "mpegts", url],
        capture_output=True, timeout=PUSH_SECONDS + 60, check=False,
    )  # fmt: skip


def segments_written(playlist: Path) -> int:
    """How many segments the push's HLS had (the list keeps the last few: its media sequence
    number counts the ones before)."""
    text = playlist.read_text()
    sequence = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
    return (int(sequence[1]) if sequence else 0) + text.count("#EXTINF:")


def test_an_srt_push_keeps_its_media_across_key_refreshes(
    ingest: tuple[LivePlane, Any, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    plane, client, root = ingest
    rewrapped: list[int] = []
    original = srt.rewrap_refresh

    def counted(datagram: bytes, passphrase: str, new_passphrase: str) -> bytes:
        out = original(datagram, passphrase, new_passphrase)
        if out != datagram:
            rewrapped.append(srt.key_refresh(datagram) or 0)
        return out

    monkeypatch.setattr(srt, "rewrap_refresh", counted)
    created = client.create_channel(name="refresh", latencyMode="LOW", type="STANDARD")
    channel = client.get_channel(arn=created["channel"]["arn"])["channel"]
    url = (
        f"srt://127.0.0.1:{plane.srt_port}?streamid={created['streamKey']['value']}"
        f"&passphrase={channel['srt']['passphrase']}{REFRESH}"
    )
    encoder = push(url)
    assert encoder.returncode == 0, encoder.stderr.decode()[-2000:]

    folder = root / channel["arn"].rsplit("/", 1)[1]
    # 1 s segments over the whole push (the listener's probe and the last partial one aside).
    written = segments_written(folder / "index.m3u8")
    assert written >= PUSH_SECONDS - 3, written
    # Several refreshes went through, each request and its echo rewrapped.
    assert rewrapped.count(srt.KMREQ_EXTENSION) >= 2 and rewrapped.count(srt.KMRSP_EXTENSION) >= 2, rewrapped
    last = sorted(folder.glob("*.ts"))[-1]
    decoded = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(last), "-f", "null", "-"], capture_output=True, check=False
    )
    assert decoded.returncode == 0 and decoded.stderr == b"", decoded.stderr.decode()[-2000:]
