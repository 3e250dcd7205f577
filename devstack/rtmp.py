"""The server side of RTMP publishing, as much as an ingest front door needs: the handshake, the
chunk stream, AMF0 commands (connect, createStream, publish) and FLV tags for what follows.

ffmpeg's own RTMP listener accepts any app and stream name (live-rooms-playback.md B2), so the
devstack's front door speaks RTMP itself: it learns the stream key from `publish` before any
media flows, refuses a wrong one with `NetStream.Publish.BadName`, and turns the audio, video and
metadata messages of an accepted publisher into FLV for ffmpeg's stdin. Pure functions and small
classes over bytes: no sockets here (devstack/liveplane.py owns those).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

HANDSHAKE_SIZE = 1536
RTMP_VERSION = 3
DEFAULT_CHUNK_SIZE = 128
OUT_CHUNK_SIZE = 4096
MAX_CHUNK_SIZE = 0x7FFFFFFF
# Larger messages are refused: a video frame of a sane encoder is far below this.
MAX_MESSAGE_SIZE = 8 * 1024 * 1024
EXTENDED_TIMESTAMP = 0xFFFFFF

# Message type ids (RTMP 1.0 §5.4, §7.1).
SET_CHUNK_SIZE = 1
ABORT = 2
ACKNOWLEDGEMENT = 3
USER_CONTROL = 4
WINDOW_ACK_SIZE = 5
SET_PEER_BANDWIDTH = 6
AUDIO = 8
VIDEO = 9
DATA_AMF0 = 18
COMMAND_AMF0 = 20
MEDIA_TYPES = (AUDIO, VIDEO, DATA_AMF0)

# Chunk stream ids the server writes on (as ffmpeg's and nginx-rtmp's servers do).
CONTROL_CHUNK_STREAM = 2
COMMAND_CHUNK_STREAM = 3
STATUS_CHUNK_STREAM = 5
PUBLISH_STREAM_ID = 1


class RtmpError(Exception):
    """The peer broke the protocol: the connection is closed."""


# -- handshake -----------------------------------------------------------------------------------


def server_handshake(c0c1: bytes) -> bytes:
    """S0 S1 S2 for a client's C0 C1: the plain handshake (no digest), which encoders accept when
    the server's S1 claims no version (ffmpeg checks a digest only when S1's version is >= 3)."""
    if len(c0c1) != 1 + HANDSHAKE_SIZE:
        raise RtmpError("short handshake")
    if c0c1[0] != RTMP_VERSION:
        raise RtmpError(f"RTMP version {c0c1[0]} is not supported")
    s1 = struct.pack(">II", 0, 0) + os.urandom(HANDSHAKE_SIZE - 8)
    return bytes([RTMP_VERSION]) + s1 + c0c1[1:]


# -- AMF0 ----------------------------------------------------------------------------------------

_NUMBER, _BOOLEAN, _STRING, _OBJECT, _NULL, _UNDEFINED = 0x00, 0x01, 0x02, 0x03, 0x05, 0x06
_ECMA_ARRAY, _OBJECT_END, _STRICT_ARRAY, _DATE, _LONG_STRING = 0x08, 0x09, 0x0A, 0x0B, 0x0C


class _Amf0Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise RtmpError("truncated AMF0 value")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def string(self, long: bool = False) -> str:
        (size,) = struct.unpack(">I" if long else ">H", self.take(4 if long else 2))
        return self.take(size).decode("utf-8", errors="replace")

    def properties(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        while True:
            name = self.string()
            if not name and self.data[self.pos : self.pos + 1] == bytes([_OBJECT_END]):
                self.pos += 1
                return found
            found[name] = self.value()

    def value(self) -> Any:
        marker = self.take(1)[0]
        if marker == _NUMBER:
            return struct.unpack(">d", self.take(8))[0]
        if marker == _BOOLEAN:
            return self.take(1)[0] != 0
        if marker in (_STRING, _LONG_STRING):
            return self.string(long=marker == _LONG_STRING)
        if marker == _OBJECT:
            return self.properties()
        if marker == _ECMA_ARRAY:
            self.take(4)  # an approximate count; the properties end with the end marker
            return self.properties()
        if marker == _STRICT_ARRAY:
            (count,) = struct.unpack(">I", self.take(4))
            return [self.value() for _ in range(count)]
        if marker == _DATE:
            (millis,) = struct.unpack(">d", self.take(8))
            self.take(2)  # time zone, unused
            return millis
        if marker in (_NULL, _UNDEFINED):
            return None
        raise RtmpError(f"AMF0 marker {marker:#x} is not supported")


def amf0_decode(data: bytes) -> list[Any]:
    """Every value of an AMF0 message body, in order."""
    reader = _Amf0Reader(data)
    values = []
    while reader.pos < len(data):
        values.append(reader.value())
    return values


def amf0_encode(*values: Any) -> bytes:
    return b"".join(_amf0_value(value) for value in values)


def _amf0_string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">H", len(raw)) + raw


def _amf0_value(value: Any) -> bytes:
    if value is None:
        return bytes([_NULL])
    if isinstance(value, bool):
        return bytes([_BOOLEAN, int(value)])
    if isinstance(value, int | float):
        return bytes([_NUMBER]) + struct.pack(">d", float(value))
    if isinstance(value, str):
        return bytes([_STRING]) + _amf0_string(value)
    if isinstance(value, dict):
        body = b"".join(_amf0_string(k) + _amf0_value(v) for k, v in value.items())
        return bytes([_OBJECT]) + body + _amf0_string("") + bytes([_OBJECT_END])
    raise TypeError(f"no AMF0 encoding for {type(value).__name__}")


# -- chunk stream --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    type_id: int
    stream_id: int
    timestamp: int
    payload: bytes


@dataclass
class _ChunkStream:
    """What a chunk stream's later headers leave out: the previous header's values."""

    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False
    body: bytearray = field(default_factory=bytearray)


class ChunkReader:
    """Messages out of an RTMP chunk stream, fed as bytes arrive (any split)."""

    def __init__(self) -> None:
        self.chunk_size = DEFAULT_CHUNK_SIZE
        self._buffer = bytearray()
        self._streams: dict[int, _ChunkStream] = {}

    def feed(self, data: bytes) -> Iterator[Message]:
        self._buffer += data
        while True:
            message, complete = self._next_chunk()
            if not complete:
                return
            if message is None:
                continue
            if message.type_id == SET_CHUNK_SIZE:
                self._set_chunk_size(message.payload)
            yield message

    def _set_chunk_size(self, payload: bytes) -> None:
        if len(payload) < 4:
            raise RtmpError("short Set Chunk Size")
        size = struct.unpack(">I", payload[:4])[0] & MAX_CHUNK_SIZE
        if size < 1:
            raise RtmpError("chunk size 0")
        self.chunk_size = size

    def _next_chunk(self) -> tuple[Message | None, bool]:
        """(the message this chunk completes, or None; False when the chunk is not all here yet)."""
        parsed = _chunk_header(self._buffer)
        if parsed is None:
            return None, False
        fmt, csid, pos = parsed
        stream = self._streams.setdefault(csid, _ChunkStream())
        header_size = (11, 7, 3, 0)[fmt]
        if len(self._buffer) < pos + header_size:
            return None, False
        header = bytes(self._buffer[pos : pos + header_size])
        pos += header_size
        stamp = int.from_bytes(header[0:3], "big") if fmt < 3 else 0
        extended = stamp == EXTENDED_TIMESTAMP if fmt < 3 else stream.extended
        if extended:
            if len(self._buffer) < pos + 4:
                return None, False
            stamp = int.from_bytes(self._buffer[pos : pos + 4], "big")
            pos += 4
        length = int.from_bytes(header[3:6], "big") if fmt < 2 else stream.length
        if length > MAX_MESSAGE_SIZE:
            raise RtmpError(f"message of {length} bytes")
        body_size = min(self.chunk_size, length - len(stream.body))
        if len(self._buffer) < pos + body_size:
            return None, False
        # The whole chunk is here: commit its header to the chunk stream's state.
        _commit_header(stream, fmt, header, stamp, extended, length)
        stream.body += self._buffer[pos : pos + body_size]
        del self._buffer[: pos + body_size]
        if len(stream.body) < stream.length:
            return None, True
        message = Message(stream.type_id, stream.stream_id, stream.timestamp, bytes(stream.body))
        stream.body = bytearray()
        return message, True


def _commit_header(stream: _ChunkStream, fmt: int, header: bytes, stamp: int, extended: bool, length: int) -> None:
    """A chunk's header applied to its chunk stream: formats 1-3 inherit what they leave out."""
    starts = not stream.body
    stream.extended = extended
    if fmt == 0:
        # A format-3 chunk starting the next message adds this again (RTMP 1.0 §5.3.1.2.4).
        stream.timestamp, stream.delta = stamp, stamp
        stream.stream_id = int.from_bytes(header[7:11], "little")
    elif starts:
        stream.delta = stamp if fmt < 3 else stream.delta
        stream.timestamp += stream.delta
    if fmt < 2:
        stream.length, stream.type_id = length, header[6]


def _chunk_header(buffer: bytearray) -> tuple[int, int, int] | None:
    """(format, chunk stream id, bytes of the basic header), or None when incomplete."""
    if not buffer:
        return None
    fmt, csid = buffer[0] >> 6, buffer[0] & 0x3F
    if csid == 0:
        return (fmt, 64 + buffer[1], 2) if len(buffer) >= 2 else None
    if csid == 1:
        return (fmt, 64 + buffer[1] + 256 * buffer[2], 3) if len(buffer) >= 3 else None
    return fmt, csid, 1


def chunk_message(
    csid: int, type_id: int, stream_id: int, payload: bytes, chunk_size: int, timestamp: int = 0
) -> bytes:
    """One message as chunks: a format-0 header, then format-3 continuations (each repeating the
    extended timestamp when there is one)."""
    extended = timestamp.to_bytes(4, "big") if timestamp >= EXTENDED_TIMESTAMP else b""
    header = (
        bytes([csid])
        + min(timestamp, EXTENDED_TIMESTAMP).to_bytes(3, "big")
        + len(payload).to_bytes(3, "big")
        + bytes([type_id])
        + stream_id.to_bytes(4, "little")
        + extended
    )
    parts = [header]
    for start in range(0, max(len(payload), 1), chunk_size):
        if start:
            parts.append(bytes([0xC0 | csid]) + extended)
        parts.append(payload[start : start + chunk_size])
    return b"".join(parts)


# -- the publishing session ----------------------------------------------------------------------


@dataclass(frozen=True)
class Publish:
    """A client asked to publish: the stream name it gave (the key, perhaps with a query)."""

    app: str
    name: str
    transaction: float

    @property
    def stream_key(self) -> str:
        return stream_key(self.name)


def stream_key(publishing_name: str) -> str:
    """The key in a publishing name: encoders may append a query (`key?token=...`)."""
    return publishing_name.split("?", 1)[0]


class ServerSession:
    """The server's half of an RTMP publishing connection, past the handshake.

    `receive(bytes)` returns what to send back and, once, the `Publish` request; the caller
    decides, then calls `accept()` or `refuse()`. After acceptance, `media()` drains the audio,
    video and metadata messages received so far."""

    def __init__(self) -> None:
        self.reader = ChunkReader()
        self.app = ""
        self.publish: Publish | None = None
        self._media: list[Message] = []

    def receive(self, data: bytes) -> tuple[bytes, Publish | None]:
        replies: list[bytes] = []
        asked: Publish | None = None
        for message in self.reader.feed(data):
            if message.type_id == COMMAND_AMF0:
                reply, request = self._command(amf0_decode(message.payload))
                replies.append(reply)
                asked = asked or request
            elif message.type_id in MEDIA_TYPES and self.publish is not None:
                self._media.append(message)
        return b"".join(replies), asked

    def _command(self, values: list[Any]) -> tuple[bytes, Publish | None]:
        if not values or not isinstance(values[0], str):
            raise RtmpError("a command without a name")
        name = values[0]
        transaction = values[1] if len(values) > 1 and isinstance(values[1], float) else 0.0
        if name == "connect":
            properties = values[2] if len(values) > 2 and isinstance(values[2], dict) else {}
            self.app = str(properties.get("app", ""))
            return self._connected(transaction), None
        if name == "createStream":
            return _command_reply("_result", transaction, None, float(PUBLISH_STREAM_ID)), None
        if name == "publish":
            if self.publish is not None:
                raise RtmpError("a second publish on one connection")
            publishing_name = values[3] if len(values) > 3 and isinstance(values[3], str) else ""
            return b"", Publish(self.app, publishing_name, transaction)
        # releaseStream, FCPublish, FCUnpublish, deleteStream, _checkbw...: nothing to answer.
        return b"", None

    def _connected(self, transaction: float) -> bytes:
        control = b"".join(
            (
                chunk_message(
                    CONTROL_CHUNK_STREAM, WINDOW_ACK_SIZE, 0, struct.pack(">I", 2_500_000), DEFAULT_CHUNK_SIZE
                ),
                chunk_message(
                    CONTROL_CHUNK_STREAM, SET_PEER_BANDWIDTH, 0, struct.pack(">IB", 2_500_000, 2), DEFAULT_CHUNK_SIZE
                ),
                chunk_message(
                    CONTROL_CHUNK_STREAM, SET_CHUNK_SIZE, 0, struct.pack(">I", OUT_CHUNK_SIZE), DEFAULT_CHUNK_SIZE
                ),
            )
        )
        result = _command_reply(
            "_result",
            transaction,
            {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0},
            {"level": "status", "code": "NetConnection.Connect.Success", "description": "Connection succeeded.",
             "objectEncoding": 0.0},
        )  # fmt: skip
        return control + result

    def accept(self, publish: Publish) -> bytes:
        self.publish = publish
        return _status("status", "NetStream.Publish.Start", f"{publish.name} is now published.")

    @staticmethod
    def refuse(description: str) -> bytes:
        return _status("error", "NetStream.Publish.BadName", description)

    def media(self) -> list[Message]:
        drained, self._media = self._media, []
        return drained


def _command_reply(name: str, transaction: float, *values: Any) -> bytes:
    payload = amf0_encode(name, transaction, *values)
    return chunk_message(COMMAND_CHUNK_STREAM, COMMAND_AMF0, 0, payload, OUT_CHUNK_SIZE)


def _status(level: str, code: str, description: str) -> bytes:
    payload = amf0_encode("onStatus", 0.0, None, {"level": level, "code": code, "description": description})
    return chunk_message(STATUS_CHUNK_STREAM, COMMAND_AMF0, PUBLISH_STREAM_ID, payload, OUT_CHUNK_SIZE)


# -- FLV -----------------------------------------------------------------------------------------

FLV_HEADER = b"FLV\x01\x05\x00\x00\x00\x09" + b"\x00\x00\x00\x00"  # audio + video, then PreviousTagSize0
_SET_DATA_FRAME = amf0_encode("@setDataFrame")


def flv_tag(message: Message) -> bytes:
    """A media message as an FLV tag (with its PreviousTagSize). Publishers wrap metadata in
    `@setDataFrame`, which FLV files do not carry."""
    payload = message.payload
    if message.type_id == DATA_AMF0 and payload.startswith(_SET_DATA_FRAME):
        payload = payload[len(_SET_DATA_FRAME) :]
    stamp = message.timestamp & 0xFFFFFFFF
    header = (
        bytes([message.type_id])
        + len(payload).to_bytes(3, "big")
        + (stamp & 0xFFFFFF).to_bytes(3, "big")
        + bytes([stamp >> 24])
        + b"\x00\x00\x00"
    )
    return header + payload + struct.pack(">I", len(header) + len(payload))
