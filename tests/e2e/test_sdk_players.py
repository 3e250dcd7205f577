"""api.video's SDK 1.4.7 PlayerThemesApi over HTTP against a devstack: create, list with sorting and
pagination, get, update, logo upload (the SDK's own multipart, `link` first) and delete; a video
names the player; another project sees 404."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import apivideo
import pytest
import requests
from apivideo.apis import PlayerThemesApi, VideosApi
from apivideo.exceptions import ApiException, NotFoundException
from apivideo.model.player_theme_creation_payload import PlayerThemeCreationPayload
from apivideo.model.player_theme_update_payload import PlayerThemeUpdatePayload
from apivideo.model.video_creation_payload import VideoCreationPayload

from .support import Devstack, Tenant, marker

pytestmark = pytest.mark.e2e


def png(width: int, height: int, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real RGB PNG of one colour."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + bytes(rgb) * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_player_lifecycle_with_the_sdk(sdk: Any, tmp_path: Path) -> None:
    players = PlayerThemesApi(sdk)
    name = f"brand {marker()}"
    created = players.create(PlayerThemeCreationPayload(name=name, link="rgba(1,2,3,1)", force_loop=True))
    player_id = created.player_id
    assert player_id.startswith("pl") and created.force_loop is True and created.link == "rgba(1,2,3,1)"
    assert created.enable_controls is True and created.track_played == "rgba(88, 131, 255, .95)"

    second = players.create(PlayerThemeCreationPayload(name=f"a {name}"))
    listed = players.list(sort_by="name", sort_order="asc", page_size=100)
    ours = [p.player_id for p in listed.data if p.player_id in (player_id, second.player_id)]
    assert ours == [second.player_id, player_id] and listed.pagination.links
    one = players.list(sort_by="createdAt", sort_order="desc", current_page=1, page_size=1)
    assert len(one.data) == 1 and one.pagination.pages_total >= 2

    updated = players.update(player_id, PlayerThemeUpdatePayload(hide_title=True, background_top="#102030"))
    assert updated.hide_title is True and updated.background_top == "#102030" and updated.name == name
    assert players.get(player_id).background_top == "#102030"

    logo_file = tmp_path / "logo.png"
    logo_file.write_bytes(png(120, 40))
    with logo_file.open("rb") as file:
        with_logo = players.upload_logo(player_id, file, link="https://example.com/brand")
    assert with_logo.assets.link == "https://example.com/brand"
    served = requests.get(with_logo.assets.logo, timeout=15)
    assert served.status_code == 200 and served.content == png(120, 40)
    too_big = tmp_path / "big.png"
    too_big.write_bytes(png(400, 40))
    with too_big.open("rb") as file, pytest.raises(ApiException) as refused:
        players.upload_logo(player_id, file)
    assert refused.value.status == 400
    players.delete_logo(player_id)
    assert players.get(player_id).assets.logo is None

    video = VideosApi(sdk).create(VideoCreationPayload(title=f"themed {marker()}", player_id=player_id))
    assert video.player_id == player_id

    players.delete(second.player_id)
    players.delete(player_id)
    with pytest.raises(NotFoundException):
        players.get(player_id)


def test_another_project_sees_404(sdk: Any, devstack: Devstack, project_b: Tenant) -> None:
    player = PlayerThemesApi(sdk).create(PlayerThemeCreationPayload(name=f"private {marker()}"))
    other = apivideo.AuthenticatedApiClient(project_b.api_key)
    other.configuration.host = devstack.api_url
    with other:
        theirs = PlayerThemesApi(other)
        with pytest.raises(NotFoundException):
            theirs.get(player.player_id)
        with pytest.raises(NotFoundException):
            theirs.update(player.player_id, PlayerThemeUpdatePayload(name="x"))
        with pytest.raises(NotFoundException):
            theirs.delete(player.player_id)
        assert all(p.player_id != player.player_id for p in theirs.list().data)
        with pytest.raises(ApiException) as refused:
            VideosApi(other).create(VideoCreationPayload(title="borrowed", player_id=player.player_id))
        assert refused.value.status == 400
    PlayerThemesApi(sdk).delete(player.player_id)
