"""The ingest front door's protocol parsing, on bytes alone: RTMP (handshake, chunk stream, AMF0
commands, the stream key in `publish`, FLV tags) and SRT (the stream id of a conclusion handshake,
the rejection). The bytes are built here the way encoders send them (ffmpeg's chunking: format 0,
then 1 or 3; a Set Chunk Size before the media)."""

from __future__ import annotations

import struct

import pytest

from devstack import rtmp, srt

CONNECT = rtmp.amf0_encode(
    "connect", 1.0, {"app": "app", "type": "nonprivate", "flashVer": "FMLE/3.0", "tcUrl": "rtmp://h/app"}
)


def command(payload: bytes, chunk_size: int = rtmp.DEFAULT_CHUNK_SIZE, csid: int = 3, stream_id: int = 0) -> bytes:
    return rtmp.chunk_message(csid, rtmp.COMMAND_AMF0, stream_id, payload, chunk_size)


def test_the_handshake_echoes_c1_and_claims_no_digest_version() -> None:
    c1 = bytes(range(256)) * 6
    reply = rtmp.server_handshake(bytes([3]) + c1)
    assert len(reply) == 1 + 2 * rtmp.HANDSHAKE_SIZE and reply[0] == 3
    s1, s2 = reply[1 : 1 + rtmp.HANDSHAKE_SIZE], reply[1 + rtmp.HANDSHAKE_SIZE :]
    assert s2 == c1 and s1[4:8] == b"\x00\x00\x00\x00"
    with pytest.raises(rtmp.RtmpError):
        rtmp.server_handshake(bytes([6]) + c1)  # RTMPE: not spoken here


def test_amf0_round_trips_what_publishers_send() -> None:
    values = ["publish", 5.0, None, "sk_key?token=1", "live", {"a": True, "n": 2.5, "s": "x"}]
    assert rtmp.amf0_decode(rtmp.amf0_encode(*values)) == values
    with pytest.raises(rtmp.RtmpError):
        rtmp.amf0_decode(b"\x02\x00\x10abc")  # a string longer than the message


def test_a_message_split_over_chunks_and_reads_comes_out_whole() -> None:
    payload = bytes(range(256)) * 3  # 768 bytes: six 128-byte chunks
    data = rtmp.chunk_message(4, rtmp.VIDEO, 1, payload, 128, timestamp=40)
    reader = rtmp.ChunkReader()
    messages = [m for i in range(0, len(data), 7) for m in reader.feed(data[i : i + 7])]
    assert messages == [rtmp.Message(rtmp.VIDEO, 1, 40, payload)]


def test_extended_timestamps_repeat_in_every_chunk_of_a_message() -> None:
    payload = b"x" * 300  # three chunks, each with the 4-byte timestamp after its header
    data = rtmp.chunk_message(4, rtmp.VIDEO, 1, payload, 128, timestamp=0x1234567)
    assert len(data) == 12 + 4 + 300 + 2 * (1 + 4)
    assert list(rtmp.ChunkReader().feed(data)) == [rtmp.Message(rtmp.VIDEO, 1, 0x1234567, payload)]


def test_set_chunk_size_applies_to_the_chunks_that_follow() -> None:
    payload = b"v" * 5000
    data = rtmp.chunk_message(2, rtmp.SET_CHUNK_SIZE, 0, struct.pack(">I", 4096), 128) + rtmp.chunk_message(
        6, rtmp.VIDEO, 1, payload, 4096
    )
    messages = list(rtmp.ChunkReader().feed(data))
    assert [(m.type_id, len(m.payload)) for m in messages] == [(rtmp.SET_CHUNK_SIZE, 4), (rtmp.VIDEO, 5000)]


def test_later_headers_inherit_and_add_timestamp_deltas() -> None:
    first = rtmp.chunk_message(4, rtmp.AUDIO, 1, b"a1", 128, timestamp=100)
    # Format 1: delta 23, new length and type; format 3: the same delta again.
    second = bytes([0x40 | 4]) + (23).to_bytes(3, "big") + (2).to_bytes(3, "big") + bytes([rtmp.AUDIO]) + b"a2"
    third = bytes([0xC0 | 4]) + b"a3"
    stamps = [(m.timestamp, m.payload) for m in rtmp.ChunkReader().feed(first + second + third)]
    assert stamps == [(100, b"a1"), (123, b"a2"), (146, b"a3")]


def test_oversized_messages_are_refused() -> None:
    header = bytes([3]) + b"\x00\x00\x00" + (rtmp.MAX_MESSAGE_SIZE + 1).to_bytes(3, "big") + bytes([9]) + b"\0" * 4
    with pytest.raises(rtmp.RtmpError):
        list(rtmp.ChunkReader().feed(header))


def publishing_session(name: str) -> tuple[rtmp.ServerSession, bytes, rtmp.Publish | None]:
    session = rtmp.ServerSession()
    replies, publish = session.receive(command(CONNECT))
    create_reply, none = session.receive(command(rtmp.amf0_encode("releaseStream", 2.0, None, name)))
    assert create_reply == b"" and none is None  # nothing to answer
    created, _ = session.receive(command(rtmp.amf0_encode("createStream", 4.0, None)))
    replies += created
    more, publish = session.receive(command(rtmp.amf0_encode("publish", 5.0, None, name, "live"), csid=8, stream_id=1))
    return session, replies + more, publish


def replies_of(data: bytes) -> list[list[object]]:
    """The commands in what the server sent (after its Set Chunk Size to 4096)."""
    reader = rtmp.ChunkReader()
    return [rtmp.amf0_decode(m.payload) for m in reader.feed(data) if m.type_id == rtmp.COMMAND_AMF0]


def test_publish_names_the_app_and_the_key_before_any_answer() -> None:
    _, replies, publish = publishing_session("sk_us-east-1_abc?token=x")
    assert publish == rtmp.Publish(app="app", name="sk_us-east-1_abc?token=x", transaction=5.0)
    assert publish.stream_key == "sk_us-east-1_abc"
    answered = replies_of(replies)
    assert answered[0][:2] == ["_result", 1.0] and answered[0][3]["code"] == "NetConnection.Connect.Success"  # type: ignore[index]
    assert answered[1] == ["_result", 4.0, None, 1.0]  # the stream id
    assert len(answered) == 2  # publish waits for the decision


def test_accepting_starts_the_stream_and_collects_media_as_flv() -> None:
    session, _, publish = publishing_session("key")
    assert publish is not None
    started = replies_of(session.accept(publish))
    assert started[0][0] == "onStatus" and started[0][3]["code"] == "NetStream.Publish.Start"  # type: ignore[index]
    metadata = rtmp.amf0_encode("@setDataFrame", "onMetaData", {"width": 320.0})
    data = rtmp.chunk_message(4, rtmp.DATA_AMF0, 1, metadata, 128) + rtmp.chunk_message(
        6, rtmp.VIDEO, 1, b"\x17frame", 128, timestamp=0x1234567
    )
    session.receive(data)
    tags = b"".join(rtmp.flv_tag(m) for m in session.media())
    meta_size = len(metadata) - len(rtmp.amf0_encode("@setDataFrame"))
    assert tags[0] == rtmp.DATA_AMF0 and int.from_bytes(tags[1:4], "big") == meta_size
    video = tags[11 + meta_size + 4 :]
    assert video[0] == rtmp.VIDEO and video[11:17] == b"\x17frame"
    assert int.from_bytes(video[4:7], "big") | video[7] << 24 == 0x1234567  # FLV's split timestamp
    assert video[-4:] == struct.pack(">I", 11 + 6)
    assert session.media() == []


def test_refusing_says_bad_name() -> None:
    (status,) = replies_of(rtmp.ServerSession.refuse("Refused: unknown stream key."))
    assert status[3] == {
        "level": "error",
        "code": "NetStream.Publish.BadName",
        "description": "Refused: unknown stream key.",
    }


def test_a_second_publish_on_one_connection_is_a_protocol_error() -> None:
    session, _, publish = publishing_session("key")
    assert publish is not None
    session.accept(publish)
    with pytest.raises(rtmp.RtmpError):
        session.receive(command(rtmp.amf0_encode("publish", 6.0, None, "other", "live"), csid=8, stream_id=1))


# -- SRT -----------------------------------------------------------------------------------------


def handshake(handshake_type: int, extensions: bytes = b"", socket_id: int = 0x1234ABCD) -> bytes:
    header = struct.pack(">IIII", srt.CONTROL_FLAG, 0, 0, 0)
    cif = struct.pack(">IHHIIIIII", 5, 0, 0x5, 1000, 1500, 8192, handshake_type, socket_id, 77) + bytes(16)
    return header + cif + extensions


def sid(stream_id: str) -> bytes:
    content = srt.encode_stream_id(stream_id)
    return struct.pack(">HH", srt.SID_EXTENSION, len(content) // 4) + content


def test_the_conclusion_carries_the_stream_id_in_reversed_words() -> None:
    hsreq = struct.pack(">HH", 1, 3) + bytes(12)
    parsed = srt.parse_handshake(handshake(srt.CONCLUSION, hsreq + sid("sk_us-east-1_key7")))
    assert parsed is not None and parsed.stream_id == "sk_us-east-1_key7" and parsed.socket_id == 0x1234ABCD
    # On the wire each 4-byte word is reversed ("sk_u" -> "u_ks").
    assert sid("sk_u")[4:] == b"u_ks"


def test_inductions_data_and_garbage_carry_no_stream_id() -> None:
    induction = srt.parse_handshake(handshake(srt.INDUCTION))
    assert induction is not None and induction.handshake_type == srt.INDUCTION and induction.stream_id is None
    assert srt.parse_handshake(b"\x00" * 64) is None  # a data packet
    assert srt.parse_handshake(b"\x80\x00") is None
    keepalive = struct.pack(">IIII", srt.CONTROL_FLAG | (1 << 16), 0, 0, 0) + bytes(48)
    assert srt.parse_handshake(keepalive) is None


def test_the_rejection_answers_the_callers_socket_with_a_failure_type() -> None:
    rejected = srt.rejection(handshake(srt.CONCLUSION, sid("bad"), socket_id=0xCAFE))
    parsed = srt.parse_handshake(rejected)
    assert parsed is not None and parsed.handshake_type == srt.REJECTION_BASE + srt.REJECT_FORBIDDEN
    assert struct.unpack(">I", rejected[12:16])[0] == 0xCAFE
    assert len(rejected) == srt.HEADER_SIZE + srt.HANDSHAKE_CIF_SIZE  # no extensions


# Key material as ffmpeg 9's libsrt sent it in a conclusion with `passphrase=listenerpass123`
# (captured on loopback): AES-CTR, a 16-byte salt, one 16-byte even key wrapped.
CAPTURED_KM = bytes.fromhex(
    "12202901000000000200020000000404208907371971421fb3687a46ae891cdcfaf9f711f63d882f30e0f5785ca3acb618c0bae7890ac115"
)
CAPTURED_PASSPHRASE = "listenerpass123"


def km(content: bytes, kind: int = srt.KMREQ_EXTENSION) -> bytes:
    return struct.pack(">HH", kind, len(content) // 4) + content


def test_key_material_opens_only_with_its_passphrase() -> None:
    assert srt.unwrap(CAPTURED_KM, CAPTURED_PASSPHRASE) == bytes.fromhex("b6eb8a863ad71e3c5b306d9729cb3fe0")
    assert srt.unwrap(CAPTURED_KM, "listenerpass124") is None
    assert srt.unwrap(CAPTURED_KM[:-8], CAPTURED_PASSPHRASE) is None  # truncated
    assert srt.unwrap(b"\x00" * 40, CAPTURED_PASSPHRASE) is None  # not key material


def test_rewrapping_keeps_the_stream_key_and_comes_back_the_same() -> None:
    listener = srt.rewrap(CAPTURED_KM, CAPTURED_PASSPHRASE, "the-listeners-own-0")
    assert listener is not None and len(listener) == len(CAPTURED_KM) and listener != CAPTURED_KM
    assert listener[:32] == CAPTURED_KM[:32]  # header and salt as sent
    assert srt.unwrap(listener, "the-listeners-own-0") == srt.unwrap(CAPTURED_KM, CAPTURED_PASSPHRASE)
    # The listener's KMRSP echoes its material; wrapped back, it is what the caller sent.
    assert srt.rewrap(listener, "the-listeners-own-0", CAPTURED_PASSPHRASE) == CAPTURED_KM
    assert srt.rewrap(CAPTURED_KM, "wrong-passphrase", "x" * 10) is None


def test_the_key_material_of_a_conclusion_is_found_and_replaced_in_place() -> None:
    hsreq = struct.pack(">HH", 1, 3) + bytes(12)
    conclusion = handshake(srt.CONCLUSION, hsreq + sid("sk_key") + km(CAPTURED_KM))
    assert srt.key_material(conclusion) == CAPTURED_KM
    assert srt.key_material(conclusion, srt.KMRSP_EXTENSION) is None
    other = bytes(len(CAPTURED_KM))
    replaced = srt.with_key_material(conclusion, other)
    assert len(replaced) == len(conclusion) and srt.key_material(replaced) == other
    parsed = srt.parse_handshake(replaced)
    assert parsed is not None and parsed.stream_id == "sk_key"
    with pytest.raises(ValueError):
        srt.with_key_material(conclusion, other[:-4])
    response = handshake(srt.CONCLUSION, hsreq + km(CAPTURED_KM, srt.KMRSP_EXTENSION))
    assert srt.key_material(response, srt.KMRSP_EXTENSION) == CAPTURED_KM


def key_refresh_packet(subtype: int, content: bytes, socket_id: int = 0x0BADCAFE) -> bytes:
    """An in-stream key material control packet: UMSG_EXT (0x7FFF) with the command as its subtype."""
    first = srt.CONTROL_FLAG | (srt.EXTENSION_CONTROL_TYPE << 16) | subtype
    return struct.pack(">IIII", first, 0, 123456, socket_id) + content


def test_an_in_stream_key_refresh_is_rewrapped_for_the_other_side_and_back() -> None:
    """The sender's refresh (a KMREQ control packet) reaches the listener wrapped for its own
    passphrase; the listener's KMRSP echo goes back as the caller sent its request."""
    request = key_refresh_packet(srt.KMREQ_EXTENSION, CAPTURED_KM)
    assert srt.key_refresh(request) == srt.KMREQ_EXTENSION
    relayed = srt.rewrap_refresh(request, CAPTURED_PASSPHRASE, "the-listeners-own-0")
    assert relayed[: srt.HEADER_SIZE] == request[: srt.HEADER_SIZE] and len(relayed) == len(request)
    key = srt.unwrap(relayed[srt.HEADER_SIZE :], "the-listeners-own-0")
    assert key == srt.unwrap(CAPTURED_KM, CAPTURED_PASSPHRASE) and key is not None
    echo = key_refresh_packet(srt.KMRSP_EXTENSION, relayed[srt.HEADER_SIZE :], socket_id=0x1234)
    assert srt.key_refresh(echo) == srt.KMRSP_EXTENSION
    back = srt.rewrap_refresh(echo, "the-listeners-own-0", CAPTURED_PASSPHRASE)
    assert back[srt.HEADER_SIZE :] == CAPTURED_KM and back[: srt.HEADER_SIZE] == echo[: srt.HEADER_SIZE]
    # A KMRSP's one-word failure status, or material another passphrase wraps: passed as it is.
    status = key_refresh_packet(srt.KMRSP_EXTENSION, struct.pack(">I", 4))
    assert srt.rewrap_refresh(status, "the-listeners-own-0", CAPTURED_PASSPHRASE) == status
    assert srt.rewrap_refresh(request, "not-the-passphrase", "x" * 10) == request


def test_only_key_material_control_packets_are_key_refreshes() -> None:
    hsreq = key_refresh_packet(1, bytes(12))  # SRT_CMD_HSREQ (HSv4)
    keepalive = struct.pack(">IIII", srt.CONTROL_FLAG | (1 << 16), 0, 0, 0)
    data = struct.pack(">IIII", 7, 0, 0, 0) + CAPTURED_KM
    conclusion = handshake(srt.CONCLUSION, km(CAPTURED_KM))
    assert [srt.key_refresh(p) for p in (hsreq, keepalive, data, conclusion, b"\xff\xff")] == [None] * 5
