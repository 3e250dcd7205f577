"""The official api.video SDK (1.4.7), unchanged, against the devstack: captions, chapters,
watermarks and thumbnail upload, with small files made here."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from apivideo.apis import CaptionsApi, ChaptersApi, VideosApi, WatermarksApi
from apivideo.exceptions import ApiException, NotFoundException
from apivideo.model.captions_update_payload import CaptionsUpdatePayload
from apivideo.model.video_creation_payload import VideoCreationPayload

pytestmark = pytest.mark.e2e

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nBonjour\n\n00:00:01.500 --> 00:00:03.000\nAu revoir\n"


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x7f" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"vtt": tmp_path / "subs.vtt", "png": tmp_path / "logo.png", "txt": tmp_path / "notes.txt"}
    paths["vtt"].write_text(VTT, encoding="utf-8")
    paths["png"].write_bytes(png(32, 16))
    paths["txt"].write_text("not an image")
    return paths


def test_captions_round_trip(sdk: Any, mark: str, files: dict[str, Path]) -> None:
    video = VideosApi(sdk).create(VideoCreationPayload(title=f"{mark} captions"))
    captions = CaptionsApi(sdk)
    with files["vtt"].open("rb") as vtt:
        uploaded = captions.upload(video.video_id, "fr", vtt)
    assert uploaded.uri == f"/videos/{video.video_id}/captions/fr"
    assert uploaded.src.endswith(f"/vod/{video.video_id}/captions/fr.vtt")
    assert (uploaded.srclang, uploaded.language_name, uploaded.default) == ("fr", "Français", False)
    with files["vtt"].open("rb") as vtt:
        captions.upload(video.video_id, "en", vtt)

    updated = captions.update(video.video_id, "fr", CaptionsUpdatePayload(default=True))
    assert updated.default is True
    assert captions.get(video.video_id, "fr").default is True
    listing = captions.list(video.video_id, current_page=1, page_size=1)
    assert [c.srclang for c in listing.data] == ["en"] and listing.pagination.items_total == 2

    captions.delete(video.video_id, "en")
    with pytest.raises(NotFoundException):
        captions.get(video.video_id, "en")


def test_chapters_upload_and_list(sdk: Any, mark: str, files: dict[str, Path]) -> None:
    video = VideosApi(sdk).create(VideoCreationPayload(title=f"{mark} chapters"))
    chapters = ChaptersApi(sdk)
    with files["vtt"].open("rb") as vtt:
        chapter = chapters.upload(video.video_id, "pt-BR", vtt)
    assert chapter.language == "pt-BR" and chapter.uri == f"/videos/{video.video_id}/chapters/pt-BR"
    assert [c.language for c in chapters.list(video.video_id).data] == ["pt-BR"]


def test_watermarks_upload_list_delete(sdk: Any, files: dict[str, Path]) -> None:
    watermarks = WatermarksApi(sdk)
    with files["png"].open("rb") as image:
        created = watermarks.upload(image)
    assert created.watermark_id.startswith("watermark_") and created.created_at is not None
    listed = watermarks.list(sort_by="createdAt", sort_order="desc", page_size=100)
    assert created.watermark_id in [w.watermark_id for w in listed.data]
    watermarks.delete(created.watermark_id)
    remaining = watermarks.list(page_size=100)
    assert created.watermark_id not in [w.watermark_id for w in remaining.data]


def test_thumbnail_upload_returns_the_video(sdk: Any, mark: str, files: dict[str, Path]) -> None:
    videos = VideosApi(sdk)
    video = videos.create(VideoCreationPayload(title=f"{mark} thumbnail"))
    with files["png"].open("rb") as image:
        returned = videos.upload_thumbnail(video.video_id, image)
    assert returned.video_id == video.video_id and returned.title == f"{mark} thumbnail"
    with files["txt"].open("rb") as text, pytest.raises(ApiException) as refused:
        videos.upload_thumbnail(video.video_id, text)
    assert refused.value.status == 400 and "uploaded-file-extension-invalid" in refused.value.body
