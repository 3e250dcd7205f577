"""What the SRT front door reads of a caller's handshake: the stream id of its conclusion request,
and how to refuse it. Pure functions over datagrams (the SRT RFC draft, §3.2.1 and §3.2.1.3).

An SRT caller sends an induction request, then a conclusion request whose extensions carry the
`streamid` (SRT_CMD_SID). ffmpeg's SRT listener accepts any stream id (live-rooms-playback.md
B3), so the front door reads it here, relays an accepted caller to a listener of its own, and
answers a refused one with a rejection handshake (the caller fails at once).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER_SIZE = 16
HANDSHAKE_CIF_SIZE = 48
CONTROL_FLAG = 0x80000000
HANDSHAKE_CONTROL_TYPE = 0x0000
INDUCTION = 1
CONCLUSION = 0xFFFFFFFF
SID_EXTENSION = 5
# A rejection answers with a handshake type of 1000 + the reason (URQ_FAILURE_TYPES).
REJECTION_BASE = 1000
REJECT_FORBIDDEN = 1403  # SRT_REJX_FORBIDDEN: access control refused the stream id


@dataclass(frozen=True)
class Handshake:
    version: int
    handshake_type: int
    socket_id: int
    stream_id: str | None


def is_control(datagram: bytes) -> bool:
    return len(datagram) >= HEADER_SIZE and bool(datagram[0] & 0x80)


def parse_handshake(datagram: bytes) -> Handshake | None:
    """The handshake in a control datagram, or None when it is not one."""
    if len(datagram) < HEADER_SIZE + HANDSHAKE_CIF_SIZE or not is_control(datagram):
        return None
    (first,) = struct.unpack(">I", datagram[:4])
    if (first & ~CONTROL_FLAG) >> 16 != HANDSHAKE_CONTROL_TYPE:
        return None
    cif = datagram[HEADER_SIZE:]
    version = struct.unpack(">I", cif[0:4])[0]
    handshake_type, socket_id = struct.unpack(">II", cif[20:28])
    stream_id = _stream_id(cif[HANDSHAKE_CIF_SIZE:]) if handshake_type == CONCLUSION else None
    return Handshake(version, handshake_type, socket_id, stream_id)


def _stream_id(extensions: bytes) -> str | None:
    pos = 0
    while pos + 4 <= len(extensions):
        kind, words = struct.unpack(">HH", extensions[pos : pos + 4])
        content = extensions[pos + 4 : pos + 4 + 4 * words]
        pos += 4 + 4 * words
        if kind == SID_EXTENSION:
            return decode_stream_id(content)
    return None


def decode_stream_id(content: bytes) -> str:
    """SRT sends string extensions as 32-bit words, each in reverse byte order, zero padded."""
    swapped = b"".join(content[i : i + 4][::-1] for i in range(0, len(content), 4))
    return swapped.rstrip(b"\x00").decode("utf-8", errors="replace")


def encode_stream_id(stream_id: str) -> bytes:
    raw = stream_id.encode()
    raw += b"\x00" * (-len(raw) % 4)
    return b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))


def rejection(conclusion: bytes, reason: int = REJECT_FORBIDDEN) -> bytes:
    """The listener's answer that refuses a conclusion request: the same handshake, addressed to
    the caller's socket, with the rejection as its type and no extensions."""
    header, cif = (
        bytearray(conclusion[:HEADER_SIZE]),
        bytearray(conclusion[HEADER_SIZE : HEADER_SIZE + HANDSHAKE_CIF_SIZE]),
    )
    header[12:16] = cif[24:28]  # destination: the caller's socket
    cif[20:24] = struct.pack(">I", REJECTION_BASE + reason)
    cif[6:8] = b"\x00\x00"  # extension flags: none follow
    return bytes(header + cif)
