"""Ingest rules: `source` classification, part planning, messages, and the fetcher's redirect
re-checks with a fake resolver and fake connections (no socket is opened)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from chalicelib.core.domain.errors import InvalidInput
from chalicelib.core.domain.urlguard import Target
from chalicelib.vod.adapters.ingest import GuardedFetcher
from chalicelib.vod.domain import ingest
from chalicelib.vod.domain.ingest import (
    GIB,
    MIB,
    TIB,
    CopySource,
    FetchFailed,
    IngestKind,
    IngestMessage,
    UrlSource,
    plan_parts,
)

VIDEO_ID = "vi" + "A" * 22


# -- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://cdn.example.com/a.mp4", UrlSource("https://cdn.example.com/a.mp4")),
        ("HTTP://cdn.example.com/a.mp4?x=1", UrlSource("HTTP://cdn.example.com/a.mp4?x=1")),
        (VIDEO_ID, CopySource(VIDEO_ID)),
    ],
)
def test_source_is_a_url_or_a_video_id(value: str, expected: object) -> None:
    assert ingest.classify_source(value) == expected


@pytest.mark.parametrize(
    ("value", "title"),
    [
        ("ftp://example.com/a.mp4", "The source URL is not allowed."),
        ("file:///etc/passwd", "The source is not valid."),
        ("gopher://example.com/", "The source URL is not allowed."),
        ("vi123", "The source is not valid."),
        ("vi" + "A" * 21 + "!", "The source is not valid."),
        ("example.com/a.mp4", "The source is not valid."),
        ("", "The source is not valid."),
    ],
)
def test_anything_else_is_a_400_naming_source(value: str, title: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        ingest.classify_source(value)
    assert raised.value.first.name == "source"
    assert raised.value.first.title == title


def public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/",
        "http://[::ffff:169.254.169.254]/",
        "http://localhost:8080/",
        "http://10.0.0.1/",
        "http://100.64.0.1/",
        "https://user:pw@example.com/",
        "https://example.com:22/",
    ],
)
def test_source_urls_go_through_the_ssrf_guard(url: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        ingest.check_source_url(url, resolver=public)
    assert raised.value.first.name == "source"
    assert raised.value.first.title == "The source URL is not allowed."
    assert raised.value.first.detail


def test_a_public_source_url_passes_and_is_pinned() -> None:
    assert ingest.check_source_url("https://cdn.example.com/a.mp4", resolver=public).address == "93.184.216.34"


# -- part planning ----------------------------------------------------------------------------


def test_default_part_size_is_16_mib_for_small_files() -> None:
    plan = plan_parts(40 * MIB)
    assert (plan.part_size, plan.count) == (16 * MIB, 3)
    assert plan.sizes() == [(1, 16 * MIB), (2, 16 * MIB), (3, 8 * MIB)]


def test_a_tiny_file_is_one_part() -> None:
    assert plan_parts(1).sizes() == [(1, 1)]


def test_default_part_size_grows_to_stay_within_10000_parts() -> None:
    plan = plan_parts(5 * TIB)
    assert plan.count <= ingest.MAX_PARTS
    assert plan.part_size % MIB == 0
    assert ingest.MIN_PART_BYTES <= plan.part_size <= ingest.MAX_PART_BYTES
    assert sum(size for _, size in plan.sizes()) == 5 * TIB


def test_chosen_part_size_is_kept() -> None:
    plan = plan_parts(100 * MIB, 5 * MIB)
    assert (plan.part_size, plan.count) == (5 * MIB, 20)


@pytest.mark.parametrize(
    ("filesize", "part_size", "name"),
    [
        (0, None, "filesize"),
        (5 * TIB + 1, None, "filesize"),
        (100 * MIB, 5 * MIB - 1, "partSize"),
        (100 * MIB, 5 * GIB + 1, "partSize"),
        (10_001 * 5 * MIB, 5 * MIB, "partSize"),
    ],
)
def test_impossible_plans_are_refused(filesize: int, part_size: int | None, name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        plan_parts(filesize, part_size)
    assert raised.value.first.name == name


def test_missing_parts_are_the_absent_and_the_wrong_sized() -> None:
    plan = plan_parts(40 * MIB)
    assert ingest.missing_parts(plan, {1: 16 * MIB, 3: 8 * MIB}) == [2]
    assert ingest.missing_parts(plan, {1: 16 * MIB, 2: 15 * MIB, 3: 8 * MIB}) == [2]
    assert ingest.missing_parts(plan, {1: 16 * MIB, 2: 16 * MIB, 3: 8 * MIB}) == []


def test_copy_ranges_cover_the_object_within_s3_limits() -> None:
    size = 7 * GIB + 3
    ranges = ingest.copy_ranges(size)
    assert ranges[0][0] == 0
    assert ranges[-1][1] == size - 1
    assert all(b + 1 == c for (_, b), (c, _) in itertools.pairwise(ranges))
    assert len(ranges) <= ingest.MAX_PARTS


# -- messages ---------------------------------------------------------------------------------


def test_messages_round_trip_and_s3_notifications_are_not_messages() -> None:
    url = IngestMessage(IngestKind.URL, "p1", VIDEO_ID, url="https://x.example/a.mp4")
    copy = IngestMessage(IngestKind.COPY, "p1", VIDEO_ID, from_video_id="vi" + "B" * 22)
    assert IngestMessage.from_body(url.body()) == url
    assert IngestMessage.from_body(copy.body()) == copy
    assert '"ingest": "url"' in url.body()
    assert IngestMessage.from_body('{"Records": [], "ingest": "url"}') is None
    assert IngestMessage.from_body('{"Service": "Amazon S3", "Event": "s3:TestEvent"}') is None
    with pytest.raises(ValueError, match="origin"):
        IngestMessage.from_body('{"ingest": "url", "projectId": "p", "videoId": "v"}')


# -- redirects, re-checked on every hop --------------------------------------------------------


class FakeReply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def read(self, size: int = -1) -> bytes:
        chunk, self.body = self.body[:size], self.body[size:]
        return chunk


class FakeConnection:
    def __init__(self, reply: FakeReply) -> None:
        self.reply = reply
        self.requested: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method: str, path: str, headers: dict[str, str]) -> None:
        self.requested.append((method, path, headers))

    def getresponse(self) -> FakeReply:
        return self.reply

    def close(self) -> None:
        pass


class FakeWeb:
    """Hosts -> (DNS answer, reply); records every address a connection was opened to."""

    def __init__(self, sites: dict[str, tuple[Sequence[str], FakeReply]]) -> None:
        self.sites = sites
        self.connected: list[tuple[str, str]] = []

    def resolve(self, host: str, port: int) -> Sequence[str]:
        return self.sites[host][0]

    def connect(self, target: Target) -> Any:
        self.connected.append((target.host, target.address))
        return FakeConnection(self.sites[target.host][1])


def fetcher(web: FakeWeb) -> GuardedFetcher:
    guarded = GuardedFetcher(resolver=web.resolve)
    guarded.connect = web.connect
    return guarded


def redirect(location: str, status: int = 302) -> FakeReply:
    return FakeReply(status, {"Location": location})


def test_redirects_are_followed_and_each_hop_is_checked_and_pinned() -> None:
    web = FakeWeb(
        {
            "a.example": (["93.184.216.34"], redirect("https://b.example/file.mp4", 301)),
            "b.example": (["93.184.216.35"], redirect("//c.example/final.mp4", 307)),
            "c.example": (["93.184.216.36"], FakeReply(200, {"Content-Length": "5"}, b"hello")),
        }
    )
    download = fetcher(web).open("http://a.example/start")
    assert download.read(100) == b"hello"
    assert download.length == 5
    assert download.url == "https://c.example/final.mp4"
    assert web.connected == [("a.example", "93.184.216.34"), ("b.example", "93.184.216.35"),
                             ("c.example", "93.184.216.36")]  # fmt: skip


def test_relative_redirect_is_resolved_against_the_current_url() -> None:
    assert ingest.redirect_url("https://a.example/x/y.mp4", 302, "../z.mp4") == "https://a.example/z.mp4"
    assert ingest.redirect_url("https://a.example/x", 302, "//b.example/q") == "https://b.example/q"
    with pytest.raises(FetchFailed, match="without a Location"):
        ingest.redirect_url("https://a.example/x", 302, None)


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9001/", "http://rebound.example/", "ftp://x/"],
)
def test_a_redirect_to_a_refused_address_fails_without_connecting(location: str) -> None:
    web = FakeWeb(
        {
            "a.example": (["93.184.216.34"], redirect(location)),
            # Public when the user's URL was checked, private by the time the redirect points at it.
            "rebound.example": (["10.0.0.7"], FakeReply(200, {}, b"secret")),
        }
    )
    with pytest.raises(FetchFailed, match="Redirect 1 of the source URL is not allowed"):
        fetcher(web).open("https://a.example/start")
    assert web.connected == [("a.example", "93.184.216.34")]


def test_too_many_redirects_fail() -> None:
    web = FakeWeb({"loop.example": (["93.184.216.34"], redirect("https://loop.example/again"))})
    with pytest.raises(FetchFailed, match="more than 5 times"):
        fetcher(web).open("https://loop.example/")
    assert len(web.connected) == 6


def test_an_error_status_fails_with_the_status() -> None:
    web = FakeWeb({"a.example": (["93.184.216.34"], FakeReply(404, {}))})
    with pytest.raises(FetchFailed, match="HTTP 404"):
        fetcher(web).open("https://a.example/missing.mp4")
