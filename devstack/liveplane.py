"""The devstack's live ingest: RTMP and SRT front doors on loopback that check stream keys against
the IVS plane, and ffmpeg turning each admitted push into live HLS (1 s segments) that the media
server serves at the channel's playback URL (`{media}/live/{channelId}/index.m3u8`).

- RTMP (`rtmp://127.0.0.1:1935/app/{key}`): the front door speaks RTMP itself (devstack/rtmp.py)
  up to `publish`, asks the IVS plane to admit the key, answers `NetStream.Publish.Start` or
  `NetStream.Publish.BadName` (the encoder fails), and pipes the publisher's media as FLV into
  `ffmpeg -f flv -i pipe:0 ... -f hls`.
- SRT (`srt://127.0.0.1:6200?streamid={key}`): a UDP relay. A caller's first handshake gets an
  ffmpeg SRT listener of its own on a free port (the warm spare, started in advance, and a new
  spare is started for the next caller), whose output (FLV on stdout) is held back;
  the conclusion request's stream id (devstack/srt.py) is checked before it reaches the
  listener, a refused caller gets a rejection handshake, an admitted one is relayed and its
  media piped into the same HLS ffmpeg.

Media is passed through (`-c copy`), so segments are cut at the publisher's keyframes: a 1 s GOP
gives 1 s segments. IVS STANDARD channels transcode a ladder; the devstack does not. The IVS plane
puts Session Created at admission and Stream Start once the first segment is listed (IVS's "segments
are available to viewers"). A push that stops ends its IVS stream at once (Stream End, Session
Ended; the live stream's reconnect window is the app's); one that comes back within REJOIN_SECONDS
continues the playlist after an `#EXT-X-DISCONTINUITY`, and the playlist gets `#EXT-X-ENDLIST` at
StopStream or once no push has come back for that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from devstack import rtmp, srt
from devstack.ivsplane import RECORDING_PLAYLIST, Admission, IvsPlane, Refused, WrongPassphrase

if TYPE_CHECKING:
    from devstack.ecsplane import EcsPlane

logger = logging.getLogger(__name__)

SEGMENT_SECONDS = 1
PLAYLIST_SEGMENTS = 6
PLAYLIST = "index.m3u8"
# IVS's recordings have segments of a few seconds; ffmpeg cuts at keyframes at or after this.
RECORDING_SEGMENT_SECONDS = 2
# How long a first segment may take before the stream is reported started anyway.
FIRST_SEGMENT_TIMEOUT_SECONDS = 15.0
PLAYLIST_POLL_SECONDS = 0.05
READ_SIZE = 64 * 1024
# An RTMP client must reach `publish` within this, or it is dropped.
HANDSHAKE_TIMEOUT_SECONDS = 10.0
SRT_LATENCY_MICROSECONDS = 120_000
STOP_TIMEOUT_SECONDS = 5.0
# A push that comes back within this (IVS's and api.video's longest reconnect window) continues the
# playlist of the one that dropped; after it, or at StopStream, the playlist gets its ENDLIST.
REJOIN_SECONDS = 300.0
ENDLIST = "#EXT-X-ENDLIST\n"
# How much of an SRT push (MPEG-TS: no header names its codecs) ffmpeg reads to learn its codecs;
# its default, 5 s, delayed the first segment as much. ffmpeg reads this much of each push even
# once it knows every codec (MPEG-TS never says it has named all its streams), but the first
# segment waits for the push's second keyframe, a GOP later, so a shorter probe would not bring it
# forward; this one leaves room for a video that starts well after its audio.
PROBE_MICROSECONDS = 500_000


def hls_command(
    ffmpeg: str, input_format: str, folder: Path, append: bool = False, recording: Path | None = None
) -> list[str]:
    """ffmpeg reading a push on stdin and writing live HLS into `folder` (research B2, B5). The
    playlist never ends by itself (the plane ends it); `append` continues the last push's
    playlist, with `#EXT-X-DISCONTINUITY` (research B4). With `recording`, the same ffmpeg also
    writes the push's whole HLS there (every segment kept, `<n>.ts` as IVS names them), which the
    IVS plane stores as the push's recording when it ends."""
    flags = "delete_segments+independent_segments+program_date_time+temp_file+omit_endlist"
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
        # Its input is FLV, whose sequence headers give the codecs; estimating the frame rate too
        # held the first segment back (0.6 s on SRT pushes, whose video starts after their audio).
        "-fpsprobesize", "0", "-fflags", "+genpts", "-f", input_format, "-i", "pipe:0",
        "-c", "copy", "-f", "hls",
        "-hls_time", str(SEGMENT_SECONDS), "-hls_list_size", str(PLAYLIST_SEGMENTS),
        "-hls_flags", flags + ("+append_list" if append else ""),
        "-hls_segment_filename", str(folder / "seg_%05d.ts"),
        str(folder / PLAYLIST),
    ]  # fmt: skip
    if recording is not None:
        command += [
            "-c", "copy", "-f", "hls", "-hls_time", str(RECORDING_SEGMENT_SECONDS), "-hls_list_size", "0",
            "-hls_flags", "independent_segments", "-hls_segment_filename", str(recording / "%d.ts"),
            str(recording / RECORDING_PLAYLIST),
        ]  # fmt: skip
    return command


def srt_listener_command(ffmpeg: str, port: int, passphrase: str) -> list[str]:
    """An SRT listener for one caller, passing its media to stdout as FLV (which opens with its
    codecs' headers, so the HLS ffmpeg need not probe again). Its passphrase is its own: the front
    door wraps the caller's stream key for it (devstack/srt.py). It waits for its caller as long
    as it takes (a warm spare may wait for hours): the front door stops one whose caller does not
    get through within HANDSHAKE_TIMEOUT_SECONDS."""
    url = f"srt://127.0.0.1:{port}?mode=listener&latency={SRT_LATENCY_MICROSECONDS}&passphrase={passphrase}"
    return [
        ffmpeg, "-hide_banner", "-loglevel", "fatal", "-nostdin",
        # MPEG-TS carries no header to read codecs from: probe briefly, not ffmpeg's default 5 s.
        # Not `-fflags nobuffer`: it drops what the probe read, the push's first keyframe with it,
        # and the first segment then waited a GOP more for the next one.
        "-analyzeduration", str(PROBE_MICROSECONDS), "-fpsprobesize", "0",
        "-i", url, "-c", "copy", "-f", "flv", "-flush_packets", "1", "pipe:1",
    ]  # fmt: skip


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Broadcast:
    """One admitted push: its HLS ffmpeg, and the IVS plane told when it is out and when it ends."""

    def __init__(
        self,
        plane: LivePlane,
        admission: Admission,
        input_format: str,
        abort: Callable[[], None],
        marks: dict[str, float] | None = None,
    ) -> None:
        self.plane = plane
        self.admission = admission
        self.input_format = input_format
        self.abort = abort  # drops the publisher's connection (StopStream)
        self.folder = plane.hls_root / admission.channel_id
        # The push's recording, written locally, then stored by the IVS plane when it ends.
        self.recording = plane.recordings_root / admission.stream_id if admission.recording else None
        self.process: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self.final = False  # StopStream: the playlist ends with this push
        self.started = time.time()
        # When each step of the push's start happened (wall clock), for the latency benchmark.
        self.marks = marks if marks is not None else {}
        self.mark("admitted")

    def mark(self, step: str) -> None:
        self.marks.setdefault(step, time.time())

    async def start(self) -> None:
        playlist = self.folder / PLAYLIST
        rejoins = (
            playlist.exists()
            and ENDLIST not in playlist.read_text()
            and self.started - playlist.stat().st_mtime < REJOIN_SECONDS
        )
        if not rejoins:
            # A new broadcast starts a new playlist: the last one's segments are gone.
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
        if self.recording is not None:
            shutil.rmtree(self.recording, ignore_errors=True)
            self.recording.mkdir(parents=True)
        command = hls_command(self.plane.ffmpeg, self.input_format, self.folder, rejoins, self.recording)
        self.process = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.PIPE)
        self._watch = asyncio.create_task(self._report_start())

    async def feed(self, data: bytes) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.mark("media relayed")
        self.process.stdin.write(data)
        await self.process.stdin.drain()

    async def finish(self) -> None:
        """The publisher is gone: ffmpeg writes the last segment; the playlist ends now after
        StopStream, else once no push has come back for REJOIN_SECONDS."""
        if self.process is not None and self.process.stdin is not None:
            with contextlib.suppress(ConnectionError):
                self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                self.process.kill()
        if self._watch is not None:
            self._watch.cancel()
        if self.final:
            self.end_playlist()
        else:
            asyncio.get_running_loop().call_later(REJOIN_SECONDS, self._end_if_not_rejoined)
        await asyncio.to_thread(self.plane.ivs.stream_ended, self.admission)
        if self.recording is not None:
            await asyncio.to_thread(self.plane.ivs.recording_ended, self.admission, self.recording)
            shutil.rmtree(self.recording, ignore_errors=True)

    def _end_if_not_rejoined(self) -> None:
        current = self.plane.broadcasts.get(self.admission.channel_arn)
        if current is None and self.plane.last_push.get(self.admission.channel_arn) is self:
            self.end_playlist()

    def end_playlist(self) -> None:
        playlist = self.folder / PLAYLIST
        if playlist.exists() and ENDLIST not in playlist.read_text():
            with playlist.open("a") as text:
                text.write(ENDLIST)

    async def _report_start(self) -> None:
        playlist = self.folder / PLAYLIST
        deadline = time.monotonic() + FIRST_SEGMENT_TIMEOUT_SECONDS
        while time.monotonic() < deadline and not (playlist.exists() and playlist.stat().st_mtime > self.started):
            await asyncio.sleep(PLAYLIST_POLL_SECONDS)
        self.mark("first segment listed")
        await asyncio.to_thread(self.plane.ivs.stream_started, self.admission)
        self.mark("Stream Start put")
        self.plane.record_timeline(self)
        await asyncio.to_thread(self.plane.ivs.recording_started, self.admission)


class LivePlane:
    def __init__(
        self,
        ivs: IvsPlane,
        hls_root: Path,
        ffmpeg: str,
        rtmp_port: int = 1935,
        srt_port: int = 6200,
        recordings_root: Path | None = None,
        rtmps_port: int = 0,
        tls: ssl.SSLContext | None = None,
        timeline_log: Path | None = None,
    ) -> None:
        self.ivs = ivs
        # Each push's start, step by step, as a JSON line (benchmarks/live_latency.py reads it).
        self.timeline_log = timeline_log
        self.hls_root = hls_root
        # Not under hls_root, which the media server serves.
        self.recordings_root = recordings_root or hls_root.with_name(hls_root.name + "-recordings")
        self.ffmpeg = ffmpeg
        self.rtmp_port = rtmp_port
        self.srt_port = srt_port
        # RTMPS: the RTMP front door behind TLS (a self-signed certificate; devstack/tls.py).
        self.rtmps_port = rtmps_port
        self.tls = tls
        self._rtmps: asyncio.Server | None = None
        self.broadcasts: dict[str, Broadcast] = {}  # channel ARN -> its push
        self.last_push: dict[str, Broadcast] = {}  # channel ARN -> its latest push, live or not
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="liveplane", daemon=True)
        self._rtmp: asyncio.Server | None = None
        self._srt: asyncio.DatagramTransport | None = None
        self._srt_door: SrtFrontDoor | None = None
        # Restream relays (the devstack's ECS plane), stopped with the ingest.
        self.relays: EcsPlane | None = None
        ivs.disconnect = self.disconnect

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> tuple[int, int]:
        """Listens on loopback; returns the RTMP and SRT ports (the given ones, or free ones for 0)."""
        self.hls_root.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self._run(self._listen())

    async def _listen(self) -> tuple[int, int]:
        self._rtmp = await asyncio.start_server(self._rtmp_client, "127.0.0.1", self.rtmp_port)
        self.rtmp_port = int(self._rtmp.sockets[0].getsockname()[1])
        if self.tls is not None:
            self._rtmps = await asyncio.start_server(self._rtmp_client, "127.0.0.1", self.rtmps_port, ssl=self.tls)
            self.rtmps_port = int(self._rtmps.sockets[0].getsockname()[1])
        transport, door = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: SrtFrontDoor(self), local_addr=("127.0.0.1", self.srt_port)
        )
        self._srt, self._srt_door = transport, door
        self.srt_port = int(transport.get_extra_info("sockname")[1])
        return self.rtmp_port, self.srt_port

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._run(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_TIMEOUT_SECONDS)
        if self.relays is not None:
            self.relays.stop()

    async def _close(self) -> None:
        if self._rtmp is not None:
            self._rtmp.close()
        if self._rtmps is not None:
            self._rtmps.close()
        if self._srt is not None:
            self._srt.close()
        for broadcast in list(self.broadcasts.values()):
            broadcast.abort()
        if self._srt_door is not None:
            await self._srt_door.close()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while self.broadcasts and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    def _run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(STOP_TIMEOUT_SECONDS * 2)

    def disconnect(self, channel_arn: str) -> None:
        """StopStream: drops the channel's publisher (from any thread)."""
        broadcast = self.broadcasts.get(channel_arn)
        if broadcast is not None:
            broadcast.final = True
            self._loop.call_soon_threadsafe(broadcast.abort)

    def record_timeline(self, broadcast: Broadcast) -> None:
        if self.timeline_log is None:
            return
        line = {
            "channelArn": broadcast.admission.channel_arn,
            "streamId": broadcast.admission.stream_id,
            **broadcast.marks,
        }
        with self.timeline_log.open("a") as log:
            log.write(json.dumps(line) + "\n")

    # -- admission -----------------------------------------------------------------------------

    async def admit(
        self,
        key: str,
        input_format: str,
        abort: Callable[[], None],
        srt_passphrase: Callable[[str], bool] | None = None,
        marks: dict[str, float] | None = None,
    ) -> Broadcast:
        """Raises Refused for a key (or an SRT passphrase) the IVS plane turns away."""
        admission = await asyncio.to_thread(self.ivs.admit, key, srt_passphrase)
        broadcast = Broadcast(self, admission, input_format, abort, marks)
        self.broadcasts[admission.channel_arn] = broadcast
        self.last_push[admission.channel_arn] = broadcast
        try:
            await broadcast.start()
        except BaseException:
            await self.end(broadcast)
            raise
        logger.info("live: %s admitted on %s (stream %s)", input_format, admission.channel_arn, admission.stream_id)
        return broadcast

    async def end(self, broadcast: Broadcast) -> None:
        try:
            await broadcast.finish()
        finally:
            if self.broadcasts.get(broadcast.admission.channel_arn) is broadcast:
                del self.broadcasts[broadcast.admission.channel_arn]

    # -- RTMP ----------------------------------------------------------------------------------

    async def _rtmp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        broadcast: Broadcast | None = None
        marks = {"connected": time.time()}
        try:
            session, publish = await asyncio.wait_for(self._rtmp_publish(reader, writer), HANDSHAKE_TIMEOUT_SECONDS)
            marks["publish"] = time.time()
            try:
                broadcast = await self.admit(publish.stream_key, "flv", writer.close, marks=marks)
            except Refused as refusal:
                logger.info("live: RTMP push refused: %s", refusal)
                writer.write(session.refuse(f"Refused: {refusal}."))
                await writer.drain()
                return
            writer.write(session.accept(publish))
            await broadcast.feed(rtmp.FLV_HEADER)
            await self._rtmp_relay(reader, writer, session, broadcast)
        except (rtmp.RtmpError, TimeoutError, asyncio.IncompleteReadError, ConnectionError) as error:
            logger.info("live: RTMP connection dropped: %s", error or type(error).__name__)
        finally:
            if broadcast is not None:
                await self.end(broadcast)
            writer.close()

    async def _rtmp_publish(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[rtmp.ServerSession, rtmp.Publish]:
        """The handshake and the commands, up to the client's `publish`."""
        writer.write(rtmp.server_handshake(await reader.readexactly(1 + rtmp.HANDSHAKE_SIZE)))
        await reader.readexactly(rtmp.HANDSHAKE_SIZE)  # C2, the echo of S1: nothing to check
        session = rtmp.ServerSession()
        while True:
            data = await reader.read(READ_SIZE)
            if not data:
                raise ConnectionError("closed before publishing")
            reply, publish = session.receive(data)
            writer.write(reply)
            if publish is not None:
                return session, publish

    async def _rtmp_relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        session: rtmp.ServerSession,
        broadcast: Broadcast,
    ) -> None:
        await writer.drain()
        while data := await reader.read(READ_SIZE):
            reply, _ = session.receive(data)
            if reply:
                writer.write(reply)
            tags = b"".join(rtmp.flv_tag(message) for message in session.media())
            if tags:
                await broadcast.feed(tags)


class SrtListener:
    """An ffmpeg SRT listener on a free port, with a passphrase of its own (the front door wraps each
    caller's stream key for it: devstack/srt.py). Its output (FLV on stdout) is read by the caller
    it is handed to."""

    def __init__(self, ffmpeg: str) -> None:
        self.ffmpeg = ffmpeg
        self.port = free_udp_port()
        self.passphrase = secrets.token_hex(16)
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        command = srt_listener_command(self.ffmpeg, self.port, self.passphrase)
        self.process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def stop(self) -> None:
        # SIGTERM lets ffmpeg close its SRT socket, which tells the caller (through the relay).
        if self.running:
            assert self.process is not None
            self.process.terminate()

    async def stopped(self) -> None:
        self.stop()
        if self.process is not None:
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


class SrtCaller:
    """One SRT caller behind the front door: its own ffmpeg listener, reached through a relay."""

    def __init__(self, plane: LivePlane, door: SrtFrontDoor, address: tuple[str, int], listener: SrtListener) -> None:
        self.plane = plane
        self.door = door
        self.address = address
        self.listener = listener
        self.upstream: asyncio.DatagramTransport | None = None
        self.broadcast: Broadcast | None = None
        self.deciding = False
        self.refused = False
        self.tasks: set[asyncio.Task[None]] = set()  # held, or the loop may collect them mid-run
        # The channel's passphrase once the caller's key material opened with it: the key material
        # crosses the relay wrapped for each side's (devstack/srt.py).
        self.channel_passphrase: str | None = None
        self.marks = {"handshake": time.time()}
        self._expiry: asyncio.Task[None] | None = None

    @property
    def passphrase(self) -> str:
        return self.listener.passphrase

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def start(self, induction: bytes | None = None) -> None:
        """Relays to the listener (starting it unless it is a warm spare, already up); a warm
        spare gets the caller's `induction` at once, sparing the caller a retransmission."""
        if self.listener.process is None:
            await self.listener.start()
        self.upstream, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Upstream(self), remote_addr=("127.0.0.1", self.listener.port)
        )
        if induction is not None:
            self.upstream.sendto(induction)
        self.spawn(self._pump())
        self._expiry = asyncio.create_task(self._expire())

    async def _expire(self) -> None:
        """The listener waits for its caller for ever: one that never gets through is dropped."""
        await asyncio.sleep(HANDSHAKE_TIMEOUT_SECONDS)
        if self.broadcast is None and not self.deciding:
            self.stop_listener()

    def from_caller(self, datagram: bytes) -> None:
        if self.refused or self.deciding:
            return  # the caller retransmits its conclusion until it has an answer
        handshake = srt.parse_handshake(datagram)
        if handshake is not None and handshake.handshake_type == srt.CONCLUSION:
            if self.broadcast is None:
                self.marks.setdefault("conclusion", time.time())
                self.deciding = True
                self.spawn(self._decide(datagram, handshake.stream_id or ""))
                return
            datagram = self._rewrapped(datagram, srt.KMREQ_EXTENSION, self.channel_passphrase, self.passphrase)
        elif self.channel_passphrase is not None and srt.key_refresh(datagram) is not None:
            # The caller's in-stream key refresh (a new stream key), for the listener's passphrase.
            datagram = srt.rewrap_refresh(datagram, self.channel_passphrase, self.passphrase)
        elif self.broadcast is not None and not srt.is_control(datagram):
            self.marks.setdefault("caller media", time.time())
        if self.upstream is not None:
            self.upstream.sendto(datagram)

    def to_caller(self, datagram: bytes) -> None:
        self.marks.setdefault("listener answered", time.time())
        handshake = srt.parse_handshake(datagram)
        if handshake is not None and handshake.handshake_type == srt.CONCLUSION:
            datagram = self._rewrapped(datagram, srt.KMRSP_EXTENSION, self.passphrase, self.channel_passphrase)
        elif self.channel_passphrase is not None and srt.key_refresh(datagram) is not None:
            # The listener's answer to a refresh echoes the keys: back under the caller's passphrase.
            datagram = srt.rewrap_refresh(datagram, self.passphrase, self.channel_passphrase)
        self.door.send(datagram, self.address)

    @staticmethod
    def _rewrapped(handshake: bytes, kind: int, passphrase: str | None, new_passphrase: str | None) -> bytes:
        """The handshake with its key material wrapped for the other side (as it is when it has
        none, or a one-word KMRSP status)."""
        material = srt.key_material(handshake, kind)
        if material is None or passphrase is None or new_passphrase is None:
            return handshake
        rewrapped = srt.rewrap(material, passphrase, new_passphrase)
        return srt.with_key_material(handshake, rewrapped, kind) if rewrapped else handshake

    def _opens(self, material: bytes | None) -> Callable[[str], bool]:
        """The IVS plane's check of the channel's passphrase against the caller's key material."""

        def check(passphrase: str) -> bool:
            if material is None or not passphrase or srt.unwrap(material, passphrase) is None:
                return False
            self.channel_passphrase = passphrase
            return True

        return check

    async def _decide(self, conclusion: bytes, stream_id: str) -> None:
        material = srt.key_material(conclusion)
        try:
            self.broadcast = await self.plane.admit(
                stream_id, "flv", self.stop_listener, self._opens(material), self.marks
            )
            conclusion = self._rewrapped(conclusion, srt.KMREQ_EXTENSION, self.channel_passphrase, self.passphrase)
        except Refused as refusal:
            logger.info("live: SRT push refused: %s", refusal)
            self.refused = True
            reason = srt.REJECT_BAD_SECRET if isinstance(refusal, WrongPassphrase) else srt.REJECT_FORBIDDEN
            self.door.send(srt.rejection(conclusion, reason), self.address)
            self.stop_listener()
            return
        finally:
            self.deciding = False
        if self.upstream is not None:
            self.upstream.sendto(conclusion)

    async def _pump(self) -> None:
        """The listener's output into the broadcast, once admitted; then the end of it."""
        process = self.listener.process
        assert process is not None and process.stdout is not None
        try:
            while data := await process.stdout.read(READ_SIZE):
                self.marks.setdefault("listener output", time.time())
                if self.broadcast is not None:
                    await self.broadcast.feed(data)
            await process.wait()
        except ConnectionError as error:  # the HLS ffmpeg is gone: so is the push
            logger.info("live: SRT push dropped: %s", error)
            self.stop_listener()
        finally:
            if self.broadcast is not None:
                await self.plane.end(self.broadcast)
            if self.upstream is not None:
                self.upstream.close()
            if self._expiry is not None:
                self._expiry.cancel()
            self.door.forget(self)

    def stop_listener(self) -> None:
        self.listener.stop()


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, caller: SrtCaller) -> None:
        self.caller = caller

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.caller.to_caller(data)

    def error_received(self, exc: Exception) -> None:
        pass  # the listener is not up yet: the caller retransmits its handshake


class SrtFrontDoor(asyncio.DatagramProtocol):
    """Hands each new caller a listener. Starting ffmpeg takes a few tenths of a second (more on a
    busy machine), during which the caller's handshake would wait: so one listener is kept
    started in advance (the warm spare), handed to the next caller, and replaced at once."""

    def __init__(self, plane: LivePlane) -> None:
        self.plane = plane
        self.callers: dict[tuple[str, int], SrtCaller] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.spare: SrtListener | None = None
        self._starting: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self._replenish()

    def _replenish(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.spare = SrtListener(self.plane.ffmpeg)
        task = asyncio.create_task(self.spare.start())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    def _take_spare(self) -> SrtListener | None:
        """The warm spare, if it is up (a new one starts); None while it is still starting."""
        spare = self.spare
        if spare is None or spare.process is None:
            return None
        if spare.running:
            self._replenish()
            return spare
        self._replenish()  # it died: a new one for the next caller
        return None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        caller = self.callers.get(addr)
        if caller is None:
            handshake = srt.parse_handshake(data)
            if handshake is None or handshake.handshake_type != srt.INDUCTION:
                return  # not the start of a connection
            spare = self._take_spare()
            caller = self.callers[addr] = SrtCaller(self.plane, self, addr, spare or SrtListener(self.plane.ffmpeg))
            # A cold listener is not up yet: the caller retransmits its induction until it answers.
            caller.spawn(caller.start(data if spare is not None else None))
            return
        caller.from_caller(data)

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)

    def forget(self, caller: SrtCaller) -> None:
        if self.callers.get(caller.address) is caller:
            del self.callers[caller.address]

    async def close(self) -> None:
        """Stops the spare and every caller's listener (a push's end follows through its pump)."""
        await asyncio.gather(*self._starting, return_exceptions=True)
        listeners = [caller.listener for caller in self.callers.values()]
        if self.spare is not None:
            listeners.append(self.spare)
        await asyncio.gather(*(listener.stopped() for listener in listeners))
