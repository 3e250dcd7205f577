"""MPEG-TS timestamps, read and shifted in place: how the pushes of one broadcast join into one
source. Pure functions over bytes.

Each push of a broadcast is its own IVS recording, whose timestamps start wherever that push's
encoder started them; joined as they are, the second push would play over the first (the clock
going back). So every packet of a later push has its PCR (adaptation field) and its PES headers'
PTS and DTS moved by one offset, which puts the push right after the ones before it: the joined
file's clock runs on without going back (the time the encoder was away is not in the video).

Only headers are touched (no payload is decoded); timestamps are 33-bit and wrap as MPEG-TS's do.
"""

from __future__ import annotations

PACKET = 188
SYNC = 0x47
CLOCK = 90_000  # PTS, DTS and the PCR's base count 90 kHz ticks
WRAP = 1 << 33
# PES stream ids without the optional header (so without PTS/DTS): program stream map, padding,
# private stream 2, ECM, EMM, DSM-CC, H.222.1 type E, program stream directory.
_NO_HEADER = frozenset({0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF})


def first_timestamp(data: bytes) -> int | None:
    """The earliest PTS or DTS of the data's PES headers (None if it has none)."""
    found = [value for _, value in _timestamps(data)]
    return min(found) if found else None


def shift(data: bytes, offset: int) -> bytes:
    """The packets with every PCR, PTS and DTS moved by `offset` ticks of 90 kHz (mod 2^33). Bytes
    after the last whole packet, and packets out of sync, are left as they are."""
    offset %= WRAP
    if offset == 0:
        return data
    out = bytearray(data)
    for start in _packets_with_headers(out):
        pcr = _pcr_at(out, start)
        if pcr is not None:
            _put_pcr(out, pcr, (_get_pcr(out, pcr) + offset) % WRAP)
        for at, value in _pes_timestamps(out, start):
            _put_timestamp(out, at, (value + offset) % WRAP)
    return bytes(out)


def offset_between(previous_start: int, elapsed_seconds: float, start: int) -> int:
    """The shift that puts a push starting at `start` at `elapsed_seconds` after `previous_start`."""
    return (previous_start + round(elapsed_seconds * CLOCK) - start) % WRAP


# -- packets -------------------------------------------------------------------------------------


def _packets_with_headers(data: bytes | bytearray) -> list[int]:
    """Offsets of the in-sync packets that may carry a PCR or a PES header: an adaptation field
    (bit 0x20 of byte 3) or a payload unit start (bit 0x40 of byte 1)."""
    whole = len(data) - len(data) % PACKET
    syncs, flags, controls = data[0:whole:PACKET], data[1:whole:PACKET], data[3:whole:PACKET]
    return [
        index * PACKET
        for index, (sync, flag, control) in enumerate(zip(syncs, flags, controls, strict=True))
        if sync == SYNC and (flag & 0x40 or control & 0x20)
    ]


def _payload_at(data: bytes | bytearray, start: int) -> int:
    control = data[start + 3]
    if control & 0x20:
        return start + 5 + data[start + 4]
    return start + 4


def _pcr_at(data: bytes | bytearray, start: int) -> int | None:
    """Where the packet's PCR is (its adaptation field's 6 bytes), or None."""
    if not data[start + 3] & 0x20 or data[start + 4] < 7 or not data[start + 5] & 0x10:
        return None
    return start + 6


def _get_pcr(data: bytes | bytearray, at: int) -> int:
    b = data[at : at + 5]
    return (b[0] << 25) | (b[1] << 17) | (b[2] << 9) | (b[3] << 1) | (b[4] >> 7)


def _put_pcr(data: bytearray, at: int, base: int) -> None:
    """A new 33-bit base; the 6 reserved bits and the 9-bit extension stay."""
    data[at] = (base >> 25) & 0xFF
    data[at + 1] = (base >> 17) & 0xFF
    data[at + 2] = (base >> 9) & 0xFF
    data[at + 3] = (base >> 1) & 0xFF
    data[at + 4] = ((base & 1) << 7) | (data[at + 4] & 0x7F)


# -- PES headers ---------------------------------------------------------------------------------


def _timestamps(data: bytes | bytearray) -> list[tuple[int, int]]:
    return [found for start in _packets_with_headers(data) for found in _pes_timestamps(data, start)]


def _pes_timestamps(data: bytes | bytearray, start: int) -> list[tuple[int, int]]:
    """(offset, value) of the PTS and DTS of a PES header starting in this packet."""
    if not data[start + 1] & 0x40 or not data[start + 3] & 0x10:
        return []
    at = _payload_at(data, start)
    end = start + PACKET
    if at + 9 > end or data[at : at + 3] != b"\x00\x00\x01" or data[at + 3] in _NO_HEADER:
        return []
    if data[at + 6] & 0xC0 != 0x80:  # not an MPEG-2 PES header
        return []
    flags = data[at + 7] >> 6
    found: list[tuple[int, int]] = []
    if flags & 0b10 and at + 14 <= end:
        found.append((at + 9, _get_timestamp(data, at + 9)))
        if flags == 0b11 and at + 19 <= end:
            found.append((at + 14, _get_timestamp(data, at + 14)))
    return found


def _get_timestamp(data: bytes | bytearray, at: int) -> int:
    b = data[at : at + 5]
    return (((b[0] >> 1) & 0x07) << 30) | (b[1] << 22) | ((b[2] >> 1) << 15) | (b[3] << 7) | (b[4] >> 1)


def _put_timestamp(data: bytearray, at: int, value: int) -> None:
    """A new 33-bit value; the 4-bit prefix ('0010', '0011' or '0001') and the markers stay."""
    data[at] = (data[at] & 0xF0) | (((value >> 30) & 0x07) << 1) | 1
    data[at + 1] = (value >> 22) & 0xFF
    data[at + 2] = (((value >> 15) & 0x7F) << 1) | 1
    data[at + 3] = (value >> 7) & 0xFF
    data[at + 4] = ((value & 0x7F) << 1) | 1
