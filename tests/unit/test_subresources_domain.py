from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chalicelib.core.domain import images
from chalicelib.core.domain.errors import InvalidInput
from chalicelib.core.domain.images import ImageFormat, ImageInfo
from chalicelib.vod.domain import playlists, tracks
from chalicelib.vod.domain.encoding_profiles import EncodingProfileCreation, EncodingProfileUpdate, built_in
from chalicelib.vod.domain.tracks import TextTrack, TrackKind

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello\n\n01:02:03.250 --> 01:02:04.000 align:start\nBye\n"


def slug(error: pytest.ExceptionInfo[InvalidInput]) -> str:
    return error.value.first.slug


# -- WebVTT and language tags ----------------------------------------------------------------


def test_webvtt_cues_and_duration() -> None:
    parsed = tracks.parse_webvtt("a.vtt", VTT)
    assert parsed.cues == 2 and parsed.duration_seconds == pytest.approx(3724.0)
    short = tracks.parse_webvtt("no_name", b"\xef\xbb\xbfWEBVTT - title\r\n\r\n00:01.000 --> 00:02.000\r\nHi\r\n")
    assert short.duration_seconds == 2.0


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("a.vtt", b"", "uploaded-file-empty"),
        ("a.srt", VTT, "uploaded-file-extension-invalid"),
        ("a.vtt", b"WEBVTTX\n\n00:01.000 --> 00:02.000\n", "uploaded-file-invalid-file"),
        ("a.vtt", b"WEBVTT\n\n00:01.000 -> 00:02.000\nno arrow\n", "uploaded-file-invalid-file"),
        ("a.vtt", b"WEBVTT\n\n00:01,000 --> 00:02,000\n", "uploaded-file-invalid-file"),
        ("a.vtt", b"WEBVTT\n\n00:03.000 --> 00:02.000\n", "uploaded-file-invalid-file"),
        ("a.vtt", b"WEBVTT\n\n00:01.000 --> 00:02.000\n\xc3\x28\n", "uploaded-file-invalid-file"),
        ("a.vtt", b"WEBVTT\n" + b"a" * tracks.MAX_VTT_BYTES, "uploaded-file-too-large"),
    ],
)
def test_webvtt_problems(filename: str, data: bytes, expected: str) -> None:
    with pytest.raises(InvalidInput) as error:
        tracks.parse_webvtt(filename, data)
    assert slug(error) == expected and error.value.first.name == "file"


@pytest.mark.parametrize("tag", ["en", "fr", "pt-BR", "zh-Hant-TW", "tlh", "es-419"])
def test_language_tags_accepted(tag: str) -> None:
    assert tracks.language_tag(tag) == tag


@pytest.mark.parametrize("tag", ["en_US", "e", "english", "en-", "-en", "en--US", "fr-" + "x" * 40, "ç"])
def test_language_tags_refused(tag: str) -> None:
    with pytest.raises(InvalidInput) as error:
        tracks.language_tag(tag)
    assert error.value.first.name == "language"


def test_language_names_are_native_with_fallbacks() -> None:
    assert tracks.language_name("fr") == "Français"
    assert tracks.language_name("ja") == "日本語"
    assert tracks.language_name("pt-BR") == "Português (Brasil)"
    assert tracks.language_name("en-GB") == "English"
    assert tracks.language_name("tlh") == "tlh"


# -- HLS playlists ---------------------------------------------------------------------------


def caption(language: str, default: bool = False) -> TextTrack:
    return TextTrack(
        project_id="prA", video_id="vi1", kind=TrackKind.CAPTION, language=language, default=default,
        duration_ms=1000, size=10, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def test_subtitle_media_playlist_is_one_vod_segment() -> None:
    text = playlists.subtitle_media_playlist("https://cdn.example/vod/vi1/captions/fr.vtt", 61.2)
    assert text.splitlines() == [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:62",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXTINF:61.200,",
        "https://cdn.example/vod/vi1/captions/fr.vtt",
        "#EXT-X-ENDLIST",
    ]
    assert text.endswith("\n")


def test_subtitles_group_lines() -> None:
    lines = playlists.subtitles_group([caption("fr", default=True), caption("en")])
    assert lines == [
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,'
        'URI="captions/en.m3u8"',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français",LANGUAGE="fr",DEFAULT=YES,AUTOSELECT=YES,'
        'URI="captions/fr.m3u8"',
    ]
    assert playlists.subtitles_group([]) == []


# -- images ----------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header + struct.pack(">I", zlib.crc32(header))


def jpeg(width: int, height: int, sof: int = 0xC0) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 4) + b"\x00\x00"
    frame = bytes([0xFF, sof]) + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + b"\xff" + dqt + frame + b"\xff\xd9"


def test_png_and_jpeg_sizes_come_from_their_headers() -> None:
    assert images.inspect(png(1920, 1080)) == ImageInfo(ImageFormat.PNG, 1920, 1080)
    assert images.inspect(jpeg(640, 480)) == ImageInfo(ImageFormat.JPEG, 640, 480)
    assert images.inspect(jpeg(300, 200, sof=0xC2)) == ImageInfo(ImageFormat.JPEG, 300, 200)  # progressive


def test_webp_sizes() -> None:
    vp8x = b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x0a\x00\x00\x00" + b"\x00" * 4
    vp8x += (799).to_bytes(3, "little") + (599).to_bytes(3, "little")
    assert images.inspect(vp8x) == ImageInfo(ImageFormat.WEBP, 800, 600)
    bits = (320 - 1) | ((240 - 1) << 14)
    vp8l = b"RIFF\x00\x00\x00\x00WEBPVP8L" + b"\x00" * 4 + b"\x2f" + bits.to_bytes(4, "little")
    assert images.inspect(vp8l) == ImageInfo(ImageFormat.WEBP, 320, 240)
    vp8 = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 4 + b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", 64, 48)
    assert images.inspect(vp8) == ImageInfo(ImageFormat.WEBP, 64, 48)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a\x01\x00\x01\x00",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        jpeg(640, 480)[:20],
        png(0, 10),
        b"\xff\xd8\xff\xda",
    ],
)
def test_unknown_or_truncated_images_are_refused(data: bytes) -> None:
    assert images.inspect(data) is None


def test_require_image_problems() -> None:
    allowed = (ImageFormat.JPEG, ImageFormat.PNG)
    with pytest.raises(InvalidInput) as empty:
        images.require_image(b"", allowed, "png")
    assert slug(empty) == "uploaded-file-empty"
    with pytest.raises(InvalidInput) as big:
        images.require_image(png(1, 1) + b"\x00" * images.MAX_IMAGE_BYTES, allowed, "png")
    assert slug(big) == "uploaded-file-too-large"
    with pytest.raises(InvalidInput) as other:
        images.require_image(b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00" * 14, allowed, "jpg, png")
    assert slug(other) == "uploaded-file-extension-invalid"
    assert other.value.first.title == "Only [jpg, png] extensions are supported."
    assert images.require_image(png(2, 2), allowed, "png").format is ImageFormat.PNG


# -- encoding profiles -----------------------------------------------------------------------


def test_profile_payload_sorts_qualities_and_applies_defaults() -> None:
    payload = EncodingProfileCreation.model_validate({"name": "web", "qualities": ["1080p", "240p", "720p"]})
    assert payload.qualities == ["240p", "720p", "1080p"]
    assert (payload.mp4, payload.segment_seconds, payload.default) == (True, 4, False)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a", "qualities": []},
        {"name": "a", "qualities": ["720p", "720p"]},
        {"name": "a", "qualities": ["144p"]},
        {"name": "a", "qualities": "720p"},
        {"name": "a", "qualities": ["720p"], "segmentSeconds": 4.5},
        {"name": "a", "qualities": ["720p"], "segmentSeconds": "4"},
        {"name": "a", "qualities": ["720p"], "default": 1},
        {"name": 5, "qualities": ["720p"]},
    ],
)
def test_profile_payload_is_strict(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EncodingProfileCreation.model_validate(body)


def test_profile_update_reports_nulls_by_wire_name() -> None:
    update = EncodingProfileUpdate.model_validate({"segmentSeconds": None, "mp4": False})
    assert update.null_violations() == ["segmentSeconds"]
    assert update.changes() == {"segment_seconds": None, "mp4": False}


def test_built_in_profile() -> None:
    profile = built_in("prA")
    assert profile.profile_id == "default" and profile.default and profile.mp4 and profile.segment_seconds == 4
    assert profile.qualities == ("240p", "360p", "480p", "720p", "1080p", "2160p")
