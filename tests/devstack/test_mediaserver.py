"""The devstack's media server: objects from the media bucket, with single byte ranges and CORS."""

from __future__ import annotations

import socket
import struct
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.playback.domain.access import SessionKey, issue_session
from devstack.mediaserver import MediaServer, PrivateLive, PrivateMedia, byte_range
from tests.devstack.media_fixtures import MEDIA_BUCKET, start_aws

pytestmark = pytest.mark.integration

DATA = bytes(range(256)) * 40  # 10240 bytes
KEY = "vod/vi1/mp4/source.mp4"
BIG_KEY = "vod/vi1/mp4/big.mp4"
BIG = b"\0" * (8 * 1024 * 1024)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    for aws in start_aws():
        aws.s3.put_object(Bucket=MEDIA_BUCKET, Key=KEY, Body=DATA, ContentType="video/mp4")
        aws.s3.put_object(Bucket=MEDIA_BUCKET, Key="vod/vi1/hls/manifest name.m3u8", Body=b"#EXTM3U\n")
        aws.s3.put_object(Bucket=MEDIA_BUCKET, Key=BIG_KEY, Body=BIG, ContentType="video/mp4")
        server = MediaServer(aws.s3, MEDIA_BUCKET)
        try:
            yield server.start()
        finally:
            server.stop()


def fetch(
    url: str, method: str = "GET", range_header: str | None = None, country: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Range": range_header} if range_header else {}
    if country is not None:
        headers["CloudFront-Viewer-Country"] = country
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_whole_object(base_url: str) -> None:
    status, headers, body = fetch(f"{base_url}/{KEY}")
    assert (status, body) == (200, DATA)
    assert headers["Content-Type"] == "video/mp4"
    assert headers["Content-Length"] == str(len(DATA))
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
)
def test_single_ranges(base_url: str, header: str, first: int, last: int) -> None:
    status, headers, body = fetch(f"{base_url}/{KEY}", range_header=header)
    assert status == 206
    assert body == DATA[first : last + 1]
    assert headers["Content-Range"] == f"bytes {first}-{last}/{len(DATA)}"
    assert headers["Content-Length"] == str(last - first + 1)


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=20000-20010", "bytes=-0", "bytes=5-2"])
def test_unsatisfiable_ranges(base_url: str, header: str) -> None:
    status, headers, _ = fetch(f"{base_url}/{KEY}", range_header=header)
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{len(DATA)}"


def test_head_has_headers_but_no_body(base_url: str) -> None:
    status, headers, body = fetch(f"{base_url}/{KEY}", method="HEAD")
    assert (status, body, headers["Content-Length"]) == (200, b"", str(len(DATA)))
    status, headers, body = fetch(f"{base_url}/{KEY}", method="HEAD", range_header="bytes=0-9")
    assert (status, body, headers["Content-Length"]) == (206, b"", "10")


def test_missing_keys_and_escaped_names(base_url: str) -> None:
    assert fetch(f"{base_url}/vod/nope.m3u8")[0] == 404
    assert fetch(f"{base_url}/")[0] == 404
    status, _, body = fetch(f"{base_url}/vod/vi1/hls/manifest%20name.m3u8?token=x")
    assert (status, body) == (200, b"#EXTM3U\n")


def test_byte_range_parsing() -> None:
    assert byte_range(None, 10) is None
    assert byte_range("bytes=0-1,4-5", 10) is None  # multi-range: the whole object
    assert byte_range("bytes=-20", 10) == (0, 9)
    with pytest.raises(ValueError, match="bytes=-1"):
        byte_range("bytes=-1", 0)


def test_a_client_hanging_up_mid_body_is_no_traceback(base_url: str, capfd: pytest.CaptureFixture[str]) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    for _ in range(3):
        with socket.create_connection((host, int(port)), timeout=10) as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
            client.sendall(f"GET /{BIG_KEY} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            assert client.recv(64).startswith(b"HTTP/1.1 200")
    time.sleep(1)  # the server's threads meet the closed sockets
    status, _, body = fetch(f"{base_url}/{KEY}")
    assert (status, body) == (200, DATA)
    assert "Traceback" not in capfd.readouterr().err


def test_mounted_live_folders_are_served_uncached_and_never_outside(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The live plane's HLS on disk, at the channel's playback URL; the bucket stays behind it."""
    root = tmp_path_factory.mktemp("live")
    (root / "ch1").mkdir()
    (root / "ch1" / "index.m3u8").write_bytes(b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n")
    (root / "ch1" / "seg_00000.ts").write_bytes(b"G" * 188)
    (root.parent / "secret.txt").write_bytes(b"not media")
    for aws in start_aws():
        aws.s3.put_object(Bucket=MEDIA_BUCKET, Key="live/li1/thumbnail.jpg", Body=b"jpeg", ContentType="image/jpeg")
        server = MediaServer(aws.s3, MEDIA_BUCKET)
        server.mount("live/", root)
        base = server.start()
        try:
            status, headers, body = fetch(f"{base}/live/ch1/index.m3u8")
            assert (status, body) == (200, b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n")
            assert headers["Content-Type"] == "application/vnd.apple.mpegurl" and headers["Cache-Control"] == "no-cache"
            assert headers["Access-Control-Allow-Origin"] == "*"
            status, headers, body = fetch(f"{base}/live/ch1/seg_00000.ts")
            assert (status, headers["Content-Type"], len(body)) == (200, "video/mp2t", 188)
            assert fetch(f"{base}/live/ch1/%2E%2E/%2E%2E/secret.txt")[0] == 404
            assert fetch(f"{base}/live/ch1/seg_99999.ts")[0] == 404
            # Keys under the prefix that are no file of the folder still come from the bucket.
            assert fetch(f"{base}/live/li1/thumbnail.jpg")[2] == b"jpeg"
        finally:
            server.stop()


def test_a_private_live_channel_needs_its_token_which_the_playlist_carries(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """IVS's check on an authorized channel (the IVS plane decides): playlist and segments only
    with `?token=`, and the playlist hands the token on to its segment URIs."""
    root = tmp_path_factory.mktemp("private-live")
    (root / "priv").mkdir()
    (root / "priv" / "index.m3u8").write_bytes(b"#EXTM3U\n#EXTINF:1.0,\nseg_00000.ts\n")
    (root / "priv" / "seg_00000.ts").write_bytes(b"G" * 188)
    asked: list[tuple[str, str | None]] = []

    def denial(channel_id: str, token: str | None) -> str | None:
        asked.append((channel_id, token))
        if channel_id != "priv":
            return None
        return None if token == "good.jwt" else ("no-token" if token is None else "bad-signature")

    for aws in start_aws():
        server = MediaServer(aws.s3, MEDIA_BUCKET)
        server.mount("live/", root)
        server.private_live = PrivateLive(denial)
        base = server.start()
        try:
            assert fetch(f"{base}/live/priv/index.m3u8")[0:3:2] == (403, b"Forbidden: no-token\n")
            assert fetch(f"{base}/live/priv/index.m3u8?token=forged")[2] == b"Forbidden: bad-signature\n"
            assert fetch(f"{base}/live/priv/seg_00000.ts")[0] == 403
            status, _, body = fetch(f"{base}/live/priv/index.m3u8?token=good.jwt")
            assert (status, body) == (200, b"#EXTM3U\n#EXTINF:1.0,\nseg_00000.ts?token=good.jwt\n")
            assert fetch(f"{base}/live/priv/seg_00000.ts?token=good.jwt")[0:3:2] == (200, b"G" * 188)
            assert ("priv", "good.jwt") in asked
        finally:
            server.stop()


PRIVATE_VIDEO = "vi" + "p" * 22
PUBLIC_VIDEO = "vi" + "q" * 22
SESSION_KEY = SessionKey("k1", b"a test session key of 32 bytes!!")


@pytest.fixture(scope="module")
def guarded_url() -> Iterator[str]:
    """A media server that checks private videos' sessions (a fixed privacy answer, counted)."""
    for aws in start_aws():
        for video in (PRIVATE_VIDEO, PUBLIC_VIDEO):
            aws.s3.put_object(Bucket=MEDIA_BUCKET, Key=f"vod/{video}/hls/manifest.m3u8", Body=b"#EXTM3U\n")
        private = PrivateMedia({SESSION_KEY.kid: SESSION_KEY.secret}, lambda video_id: video_id == PRIVATE_VIDEO)
        server = MediaServer(aws.s3, MEDIA_BUCKET, private_media=private)
        try:
            yield server.start()
        finally:
            server.stop()


def test_private_media_needs_a_session_in_the_path(guarded_url: str) -> None:
    now = datetime.now(UTC)
    assert fetch(f"{guarded_url}/vod/{PUBLIC_VIDEO}/hls/manifest.m3u8")[0] == 200
    status, _, body = fetch(f"{guarded_url}/vod/{PRIVATE_VIDEO}/hls/manifest.m3u8")
    assert (status, body) == (403, b"Forbidden: no-token\n")

    session = issue_session(PRIVATE_VIDEO, now, SESSION_KEY)
    status, _, body = fetch(f"{guarded_url}/vod/{PRIVATE_VIDEO}/token/{session}/hls/manifest.m3u8")
    assert (status, body) == (200, b"#EXTM3U\n")
    expired = issue_session(PRIVATE_VIDEO, now - timedelta(days=2), SESSION_KEY)
    status, _, body = fetch(f"{guarded_url}/vod/{PRIVATE_VIDEO}/token/{expired}/hls/manifest.m3u8")
    assert (status, body) == (403, b"Forbidden: expired\n")
    foreign = issue_session(PUBLIC_VIDEO, now, SESSION_KEY)
    assert fetch(f"{guarded_url}/vod/{PRIVATE_VIDEO}/token/{foreign}/hls/manifest.m3u8")[0] == 403


PRIVATE_LIVE = "li" + "p" * 22
PUBLIC_LIVE = "li" + "q" * 22


def test_a_private_live_streams_thumbnail_needs_a_session_and_its_channel_its_jwt(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Both live checks on one server, told apart by the id in the path: a live stream's files in
    the bucket (`live/<liveStreamId>/thumbnail-…`) follow the videos' session rule and never reach
    IVS's check; a channel's live HLS (`live/<channelId>/…`, mounted) is IVS's only."""
    root = tmp_path_factory.mktemp("both-live")
    (root / "chan").mkdir()
    (root / "chan" / "index.m3u8").write_bytes(b"#EXTM3U\n")
    asked: list[str] = []

    def denial(channel_id: str, token: str | None) -> str | None:
        asked.append(channel_id)
        return None if token == "good.jwt" else "no-token"

    now = datetime.now(UTC)
    for aws in start_aws():
        for stream in (PRIVATE_LIVE, PUBLIC_LIVE):
            aws.s3.put_object(Bucket=MEDIA_BUCKET, Key=f"live/{stream}/thumbnail-ab.jpg", Body=b"JPEG")
        private = PrivateMedia({SESSION_KEY.kid: SESSION_KEY.secret}, lambda subject: subject == PRIVATE_LIVE)
        server = MediaServer(aws.s3, MEDIA_BUCKET, private_media=private)
        server.mount("live/", root)
        server.private_live = PrivateLive(denial)
        base = server.start()
        try:
            assert fetch(f"{base}/live/{PUBLIC_LIVE}/thumbnail-ab.jpg")[0:3:2] == (200, b"JPEG")
            assert fetch(f"{base}/live/{PRIVATE_LIVE}/thumbnail-ab.jpg")[0:3:2] == (403, b"Forbidden: no-token\n")
            session = issue_session(PRIVATE_LIVE, now, SESSION_KEY)
            assert fetch(f"{base}/live/{PRIVATE_LIVE}/token/{session}/thumbnail-ab.jpg")[0:3:2] == (200, b"JPEG")
            other = issue_session(PUBLIC_LIVE, now, SESSION_KEY)
            refused = fetch(f"{base}/live/{PRIVATE_LIVE}/token/{other}/thumbnail-ab.jpg")
            assert refused[0:3:2] == (403, b"Forbidden: bad-signature\n")
            assert asked == []
            assert fetch(f"{base}/live/chan/index.m3u8")[0] == 403
            assert fetch(f"{base}/live/chan/index.m3u8?token=good.jwt")[0:3:2] == (200, b"#EXTM3U\n")
            assert asked == ["chan", "chan"]
        finally:
            server.stop()


RESTRICTED_PROJECT = "pr" + "r" * 22
PLACES = {PRIVATE_VIDEO: (RESTRICTED_PROJECT, ("deny", ("XX",))), PUBLIC_VIDEO: (RESTRICTED_PROJECT, ("deny", ("XX",)))}


@pytest.fixture(scope="module")
def geo_guarded() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A media server whose videos' project denies XX (a fixed answer), its refusals collected."""
    counted: list[tuple[str, str]] = []
    for aws in start_aws():
        for video in (PRIVATE_VIDEO, PUBLIC_VIDEO, "vi" + "u" * 22):
            aws.s3.put_object(Bucket=MEDIA_BUCKET, Key=f"vod/{video}/hls/manifest.m3u8", Body=b"#EXTM3U\n")
        private = PrivateMedia(
            {SESSION_KEY.kid: SESSION_KEY.secret},
            lambda video_id: video_id == PRIVATE_VIDEO,
            place=lambda video_id: PLACES.get(video_id, (None, None)),
            count=lambda project_id, reason: counted.append((project_id, reason)),
        )
        server = MediaServer(aws.s3, MEDIA_BUCKET, private_media=private)
        try:
            yield server.start(), counted
        finally:
            server.stop()


def test_a_denied_country_is_refused_and_counted(geo_guarded: tuple[str, list[tuple[str, str]]]) -> None:
    url, counted = geo_guarded
    manifest = f"{url}/vod/{PUBLIC_VIDEO}/hls/manifest.m3u8"
    assert fetch(manifest, country="XX")[::2] == (403, b"Forbidden: geo-blocked\n")
    assert fetch(manifest, country="xx")[0] == 403
    assert fetch(manifest, country="FR")[0] == 200
    assert fetch(manifest)[0] == 200  # unknown country: a deny list admits it
    # Geo first: a valid session does not help in a denied country.
    session = issue_session(PRIVATE_VIDEO, datetime.now(UTC), SESSION_KEY)
    through = f"{url}/vod/{PRIVATE_VIDEO}/token/{session}/hls/manifest.m3u8"
    assert fetch(through, country="XX")[::2] == (403, b"Forbidden: geo-blocked\n")
    assert fetch(through, country="FR")[0] == 200
    assert fetch(f"{url}/vod/{PRIVATE_VIDEO}/hls/manifest.m3u8", country="FR")[::2] == (403, b"Forbidden: no-token\n")
    # A video of no known project: served, and a refusal of it could not be counted.
    assert fetch(f"{url}/vod/vi{'u' * 22}/hls/manifest.m3u8", country="XX")[0] == 200
    assert counted == [
        (RESTRICTED_PROJECT, "geo-blocked"),
        (RESTRICTED_PROJECT, "geo-blocked"),
        (RESTRICTED_PROJECT, "geo-blocked"),
        (RESTRICTED_PROJECT, "no-token"),
    ]
