"""The devstack's CDN: serves the media bucket over plain HTTP, with the Range requests players make.

Players fetch HLS playlists and segments from a page on another origin and seek MP4s with Range
requests, so this answers CORS-open and honours single byte ranges, as CloudFront in front of S3 does.

Folders can be mounted under a path prefix: the live plane's HLS (written on local disk, as IVS
serves live HLS from its own CDN, not from the media bucket) is served from there, uncached."""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from chalicelib.playback.domain.access import MediaDecision, geo_decision, media_decision
from chalicelib.playback.domain.geo import viewer_country

logger = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
LOCAL_CONTENT_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}


# A video's project and that project's restriction (mode, countries), None for either when unknown
# or unrestricted: what the edge reads from `project/<videoId>` and `geo-project/<projectId>`.
T = TypeVar("T")
Place = tuple[str | None, tuple[str, tuple[str, ...]] | None]


class PrivateMedia:
    """The check CloudFront's function makes on AWS (infra/edge/playback_check.js), with the same
    rules (chalicelib/playback/domain/access.py): a video of a project that restricts countries only
    for a viewer in an admitted country, then a private video's files (and a private live stream's,
    `live/<liveStreamId>/…`) only through a valid playback session in the path. Whether a video is
    private, and its project's restriction, are read from the table and kept for `privacy_seconds`
    (the edge's KeyValueStore lags the same way); a session path of an unrestricted video needs no
    read beyond that.

    The viewer's country is the `CloudFront-Viewer-Country` header the client sent: the devstack
    has no GeoIP and trusts it, for testing (on AWS CloudFront sets it). Refusals of a video whose
    project is known are counted with the API's denial counters (`count(project, reason)`)."""

    def __init__(
        self,
        keys: dict[str, bytes],
        is_private: Callable[[str], bool],
        privacy_seconds: float = 1.0,
        place: Callable[[str], Place] | None = None,
        count: Callable[[str, str], None] | None = None,
    ) -> None:
        self.keys = keys
        self._is_private = is_private
        self._place = place
        self._count = count
        self.privacy_seconds = privacy_seconds
        self._privacy: dict[str, tuple[float, bool]] = {}
        self._places: dict[str, tuple[float, Place]] = {}
        self._lock = threading.Lock()

    def decide(self, path: str, country_header: str | None = None) -> MediaDecision:
        decision = media_decision(path, datetime.now(UTC), self.keys, self.is_private)
        if self._place is None:
            return decision
        decision = geo_decision(decision, viewer_country(country_header), lambda video: self.place(video)[1])
        if decision.denial is not None and decision.video_id is not None and self._count is not None:
            project_id = self.place(decision.video_id)[0]
            if project_id is not None:
                self._count(project_id, decision.denial.value)
        return decision

    def is_private(self, video_id: str) -> bool:
        return self._cached(self._privacy, video_id, self._is_private)

    def place(self, video_id: str) -> Place:
        assert self._place is not None
        return self._cached(self._places, video_id, self._place)

    def _cached(self, cache: dict[str, tuple[float, T]], video_id: str, read: Callable[[str], T]) -> T:
        now = time.monotonic()
        with self._lock:
            known = cache.get(video_id)
        if known is not None and now - known[0] < self.privacy_seconds:
            return known[1]
        value = read(video_id)
        with self._lock:
            cache[video_id] = (now, value)
        return value


def table_private_media(keys: dict[str, bytes], table: Any) -> PrivateMedia:
    """The check over the app's table: privacy (of videos, and of live streams for their thumbnails)
    and geo restriction read as the API reads them, and refusals counted in the API's denial
    counters (a live stream's, whose project `place` does not find, are logged only)."""
    from chalicelib.core.clock import utc_now
    from chalicelib.playback.adapters.geo import DynamoGeoPolicies
    from chalicelib.playback.adapters.live_streams import DynamoPublicLiveStreams
    from chalicelib.playback.adapters.private_tokens import DynamoDenialCounter
    from chalicelib.playback.adapters.videos import DynamoPublicVideos
    from chalicelib.playback.domain.embed import LIVE_STREAM_ID

    videos, policies, counter = DynamoPublicVideos(table), DynamoGeoPolicies(table), DynamoDenialCounter(table)
    live_streams = DynamoPublicLiveStreams(table)

    def is_private(subject_id: str) -> bool:
        # A live stream's files (its thumbnail) or a video's: the path's id says which.
        if LIVE_STREAM_ID.fullmatch(subject_id):
            return live_streams.is_private(subject_id)
        return videos.is_private(subject_id)

    def place(video_id: str) -> Place:
        project_id = videos.project_of(video_id)
        if project_id is None:
            return None, None
        policy = policies.get(project_id)
        return project_id, None if policy.mode == "off" else (policy.mode, policy.countries)

    def count(project_id: str, reason: str) -> None:
        counter.count(project_id, reason, utc_now())

    return PrivateMedia(keys, is_private, place=place, count=count)


_LIVE_FILE = re.compile(r"^live/(?P<channel>[0-9A-Za-z]{1,64})/[^/]+$")
# `live/<liveStreamId>/…` is a live stream's own files in the media bucket (PrivateMedia's to check).
_LIVE_STREAM_FOLDER = re.compile(r"^live/li[0-9A-Za-z]{22}/")


class PrivateLive:
    """IVS's check on a private (`authorized`) channel's live HLS: its playlist and segments only
    with `?token=<ES384 JWT>` for that channel (the IVS plane decides, devstack/ivsplane.py). IVS
    carries the viewer's authorization into the URLs of the playlists it serves; here the media
    playlist's segment URIs get the same token, so players (which resolve segments relative to
    the playlist and drop its query) keep fetching with it."""

    def __init__(self, denial: Callable[[str, str | None], str | None]) -> None:
        self._denial = denial

    def check(self, key: str, query: str) -> tuple[str | None, str | None]:
        """(why refused or None, the token to carry into a playlist's URIs)."""
        match = _LIVE_FILE.fullmatch(key)
        if match is None or _LIVE_STREAM_FOLDER.match(key):
            return None, None
        token = urllib.parse.parse_qs(query).get("token", [None])[-1]
        denial = self._denial(match["channel"], token)
        return denial, token if denial is None else None

    @staticmethod
    def carry(playlist: bytes, token: str) -> bytes:
        """The playlist with `?token=` on each URI line (segments, variant playlists)."""
        suffix = "?token=" + urllib.parse.quote(token, safe="")
        lines = playlist.decode().split("\n")
        carried = (line + suffix if line.strip() and not line.startswith("#") else line for line in lines)
        return "\n".join(carried).encode()


class MediaServer:
    def __init__(self, s3_client: Any, bucket: str, port: int = 0, private_media: PrivateMedia | None = None) -> None:
        self.s3 = s3_client
        self.bucket = bucket
        self.port = port  # 0: an ephemeral one; fixed by `devstack up` so media URLs outlive a restart
        # None: every object is served to anyone (tests of the plain CDN behaviour).
        self.private_media = private_media
        self._server: _Server | None = None
        self.mounts: dict[str, Path] = {}
        # Private live channels (set by the devstack with its IVS plane); None: all live is public.
        self.private_live: PrivateLive | None = None

    def mount(self, prefix: str, folder: Path) -> None:
        """Serves `folder`'s files at `/{prefix}...` (before the bucket's keys under that prefix)."""
        self.mounts[prefix.strip("/") + "/"] = folder.resolve()

    def local_file(self, key: str) -> Path | None:
        """The mounted file a key names, if there is one (never outside its folder)."""
        for prefix, folder in self.mounts.items():
            if key.startswith(prefix):
                path = (folder / key[len(prefix) :]).resolve()
                if path.is_relative_to(folder) and path.is_file():
                    return path
        return None

    def start(self) -> str:
        """Serves on its loopback port; returns the base URL (no trailing slash)."""
        self._server = _Server(self, self.port)
        threading.Thread(target=self._server.serve_forever, name="mediaserver", daemon=True).start()
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) bytes a Range header asks for; None to send the whole object.

    Raises ValueError when the range cannot be satisfied. Multi-range requests get the whole object,
    which RFC 9110 allows."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last or int(last) == 0 or size == 0:
            raise ValueError(header)
        return max(0, size - int(last)), size - 1  # bytes=-n: the last n bytes
    start = int(first)
    if start >= size:
        raise ValueError(header)
    end = size - 1 if not last else min(int(last), size - 1)
    if end < start:
        raise ValueError(header)
    return start, end


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, media: MediaServer, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.media = media

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A player that seeks or closes the tab hangs up mid-body: routine, not a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("mediaserver: %s hung up", client_address)
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        logger.debug("mediaserver: " + format, *args)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Range")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, *, body: bool) -> None:
        media = self.server.media
        url = urllib.parse.urlsplit(self.path)
        key = urllib.parse.unquote(url.path.lstrip("/"))
        if media.private_media is not None:
            decision = media.private_media.decide(key, self.headers.get("CloudFront-Viewer-Country"))
            if decision.key is None:
                # A log line per refusal (the edge's function logs the same way on AWS).
                logger.info("mediaserver: playback denied (%s) for %s", decision.denial, decision.video_id)
                self._plain(403, f"Forbidden: {decision.denial}\n".encode(), body=body)
                return
            key = decision.key
        live_token = None
        if media.private_live is not None:
            refused, live_token = media.private_live.check(key, url.query)
            if refused is not None:
                logger.info("mediaserver: live playback denied (%s) for %s", refused, key)
                self._plain(403, f"Forbidden: {refused}\n".encode(), body=body)
                return
        local = media.local_file(key)
        if local is not None:
            self._local(local, body=body, token=live_token)
            return
        try:
            head = media.s3.head_object(Bucket=media.bucket, Key=key) if key else None
        except ClientError:
            head = None
        if head is None:
            self._plain(404, b"Not found\n", body=body)
            return
        size = int(head["ContentLength"])
        try:
            wanted = byte_range(self.headers.get("Range"), size)
        except ValueError:
            self._plain(416, b"Range not satisfiable\n", body=body, headers={"Content-Range": f"bytes */{size}"})
            return
        headers = {
            "Content-Type": head.get("ContentType") or "application/octet-stream",
            "Accept-Ranges": "bytes",
            "ETag": head.get("ETag", ""),
        }
        if wanted is None:
            self._object(200, key, None, size, headers, body=body)
        else:
            first, last = wanted
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
            self._object(206, key, wanted, last - first + 1, headers, body=body)

    def _object(
        self,
        status: int,
        key: str,
        wanted: tuple[int, int] | None,
        length: int,
        headers: dict[str, str],
        *,
        body: bool,
    ) -> None:
        self.send_response(status)
        self._cors()
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if not body or length == 0:
            return
        media = self.server.media
        extra = {} if wanted is None else {"Range": f"bytes={wanted[0]}-{wanted[1]}"}
        stream = media.s3.get_object(Bucket=media.bucket, Key=key, **extra)["Body"]
        # Streamed in chunks: segments and MP4s are too big to hold per request.
        for chunk in iter(lambda: stream.read(256 * 1024), b""):
            self.wfile.write(chunk)

    def _local(self, path: Path, *, body: bool, token: str | None = None) -> None:
        try:
            content = path.read_bytes()
        except FileNotFoundError:  # a live segment deleted since it was found
            self._plain(404, b"Not found\n", body=body)
            return
        if token and path.suffix == ".m3u8":
            content = PrivateLive.carry(content, token)
        self.send_response(200)
        self._cors()
        self.send_header("Content-Type", LOCAL_CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
        # A live playlist changes every second; players must not cache it.
        self.send_header("Cache-Control", "no-cache" if path.suffix == ".m3u8" else "max-age=60")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if body:
            self.wfile.write(content)

    def _plain(self, status: int, text: bytes, *, body: bool, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(text)

    def _cors(self) -> None:
        # Players on any origin read these; Range must be readable for seeking.
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges")
