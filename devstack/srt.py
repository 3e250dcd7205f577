"""What the SRT front door reads of a caller's handshake: the stream id of its conclusion request,
and how to refuse it. Pure functions over datagrams (the SRT RFC draft, §3.2.1 and §3.2.1.3).

An SRT caller sends an induction request, then a conclusion request whose extensions carry the
`streamid` (SRT_CMD_SID). ffmpeg's SRT listener accepts any stream id (live-rooms-playback.md
B3), so the front door reads it here, relays an accepted caller to a listener of its own, and
answers a refused one with a rejection handshake (the caller fails at once).

A caller with a passphrase also sends its key material (SRT_CMD_KMREQ, §3.2.2): the stream's key
(SEK) wrapped (AES key wrap, RFC 3394) with a key derived from the passphrase (PBKDF2-HMAC-SHA1 of
the salt's last 8 bytes, 2048 rounds). Unwrapping checks the passphrase; the front door then wraps
the same SEK with its listener's own passphrase, so the listener decrypts the media, and does the
reverse on the listener's answer (SRT_CMD_KMRSP), which the caller compares with what it sent.

The sender refreshes its stream key in-stream (after `kmrefreshrate` packets, 2^24 by default; the
new key announced `kmpreannounce` packets before it is used): a KMREQ *control packet* (the
extension control type, 0x7FFF, with the KMREQ subtype, §3.2.2) carries the KM message, both keys
wrapped during the overlap, and the receiver echoes it in a KMRSP packet. The front door rewraps
those as it does the handshake's (`key_refresh`, `rewrap_refresh`).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

HEADER_SIZE = 16
HANDSHAKE_CIF_SIZE = 48
CONTROL_FLAG = 0x80000000
HANDSHAKE_CONTROL_TYPE = 0x0000
# UMSG_EXT: a control packet whose subtype is an SRT extension command (KMREQ, KMRSP, ...).
EXTENSION_CONTROL_TYPE = 0x7FFF
INDUCTION = 1
CONCLUSION = 0xFFFFFFFF
KMREQ_EXTENSION = 3
KMRSP_EXTENSION = 4
SID_EXTENSION = 5
# Key material: version 1, packet type 2 (KMmsg), the signature "HAI" (0x2029).
KM_START = bytes((0x12, 0x20, 0x29))
KM_HEADER_SIZE = 16
KEK_SALT_BYTES = 8
KEK_ROUNDS = 2048
WRAP_OVERHEAD = 8
# A rejection answers with a handshake type of 1000 + the reason (URQ_FAILURE_TYPES).
REJECTION_BASE = 1000
REJECT_FORBIDDEN = 1403  # SRT_REJX_FORBIDDEN: access control refused the stream id
REJECT_BAD_SECRET = 10  # SRT_REJ_BADSECRET: the passphrase does not match


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
    found = _extension(extensions, SID_EXTENSION)
    return decode_stream_id(extensions[found[0] : found[1]]) if found else None


def _extension(extensions: bytes, wanted: int) -> tuple[int, int] | None:
    """Where the content of the first extension of that kind is, within `extensions`."""
    pos = 0
    while pos + 4 <= len(extensions):
        kind, words = struct.unpack(">HH", extensions[pos : pos + 4])
        start, pos = pos + 4, pos + 4 + 4 * words
        if kind == wanted:
            return start, min(pos, len(extensions))
    return None


def key_material(handshake: bytes, kind: int = KMREQ_EXTENSION) -> bytes | None:
    """A conclusion handshake's key material (KMREQ from a caller, KMRSP from a listener), or None."""
    base = HEADER_SIZE + HANDSHAKE_CIF_SIZE
    found = _extension(handshake[base:], kind)
    return handshake[base + found[0] : base + found[1]] if found else None


def with_key_material(handshake: bytes, material: bytes, kind: int = KMREQ_EXTENSION) -> bytes:
    """The handshake with that extension's content replaced (by one of the same length)."""
    base = HEADER_SIZE + HANDSHAKE_CIF_SIZE
    found = _extension(handshake[base:], kind)
    if found is None or found[1] - found[0] != len(material):
        raise ValueError("no key material of that length to replace")
    return handshake[: base + found[0]] + material + handshake[base + found[1] :]


def key_refresh(datagram: bytes) -> int | None:
    """KMREQ_EXTENSION or KMRSP_EXTENSION for an in-stream key material control packet, else None."""
    if not is_control(datagram):
        return None
    (first,) = struct.unpack(">I", datagram[:4])
    if (first & ~CONTROL_FLAG) >> 16 != EXTENSION_CONTROL_TYPE:
        return None
    subtype = first & 0xFFFF
    return subtype if subtype in (KMREQ_EXTENSION, KMRSP_EXTENSION) else None


def rewrap_refresh(datagram: bytes, passphrase: str, new_passphrase: str) -> bytes:
    """An in-stream KMREQ or KMRSP with its keys wrapped for `new_passphrase`; as it is when it
    holds no key material `passphrase` opens (a KMRSP's one-word failure status)."""
    rewrapped = rewrap(datagram[HEADER_SIZE:], passphrase, new_passphrase)
    return datagram[:HEADER_SIZE] + rewrapped if rewrapped else datagram


def unwrap(material: bytes, passphrase: str) -> bytes | None:
    """The stream keys (SEK, one or both of even and odd) in key material, or None when the
    passphrase does not open them (or the material is not SRT's)."""
    parsed = _key_material(material)
    if parsed is None:
        return None
    salt, key_length, wrapped = parsed
    try:
        return aes_key_unwrap(_kek(passphrase, salt, key_length), wrapped)
    except (InvalidUnwrap, ValueError):
        return None


def rewrap(material: bytes, passphrase: str, new_passphrase: str) -> bytes | None:
    """The same key material with its keys wrapped for `new_passphrase`; None when `passphrase`
    does not open them."""
    parsed = _key_material(material)
    keys = unwrap(material, passphrase)
    if parsed is None or keys is None:
        return None
    salt, key_length, _ = parsed
    wrapped = aes_key_wrap(_kek(new_passphrase, salt, key_length), keys)
    return material[: KM_HEADER_SIZE + len(salt)] + wrapped


def _key_material(material: bytes) -> tuple[bytes, int, bytes] | None:
    """(salt, key length, wrapped keys) of a KM message."""
    if len(material) < KM_HEADER_SIZE or material[:3] != KM_START:
        return None
    salt_length, key_length = material[14] * 4, material[15] * 4
    keys = 2 if material[3] & 0x03 == 0x03 else 1  # KK: even, odd or both
    wrapped = material[KM_HEADER_SIZE + salt_length :]
    if salt_length < KEK_SALT_BYTES or len(wrapped) != WRAP_OVERHEAD + keys * key_length:
        return None
    return material[KM_HEADER_SIZE : KM_HEADER_SIZE + salt_length], key_length, wrapped


def _kek(passphrase: str, salt: bytes, key_length: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode(), salt[-KEK_SALT_BYTES:], KEK_ROUNDS, key_length)


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
