"""The stage recorder composes each take by the stream kinds that hold packets: aiortc's recorder
declares a stream per subscribed track at its start, and one whose first frame never came is listed
by ffmpeg but has no packets, which made the composing ffmpeg fail (exit 183, "Cannot determine
format of input 0:1 after EOF")."""

from __future__ import annotations

import fractions
from pathlib import Path

import av

from devstack import mediatools
from devstack.stagerecorder import StageRecorder


def test_a_declared_stream_without_packets_does_not_count(tmp_path: Path) -> None:
    path = tmp_path / "take.mkv"
    with av.open(str(path), "w", format="matroska") as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        out.add_stream("libopus", rate=48000)  # declared, never fed
        for i in range(15):
            frame = av.VideoFrame(320, 240, "yuv420p")
            frame.pts, frame.time_base = i, fractions.Fraction(1, 30)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    recorder = StageRecorder(None, mediatools.ffmpeg(), None)
    assert recorder._kinds_in(path) == frozenset({"video"})
