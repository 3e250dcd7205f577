"""The official api.video SDK (1.4.7), unchanged, against the devstack: videos, discarded videos, tags."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import apivideo
import pytest
from apivideo.apis import PlayerThemesApi, TagsApi, VideosApi
from apivideo.exceptions import NotFoundException, UnauthorizedException
from apivideo.model.discarded_video_update_payload import DiscardedVideoUpdatePayload
from apivideo.model.metadata import Metadata
from apivideo.model.player_theme_creation_payload import PlayerThemeCreationPayload
from apivideo.model.video_creation_payload import VideoCreationPayload
from apivideo.model.video_update_payload import VideoUpdatePayload

from .support import DOCS, VIDEO_ID, Api, Devstack, random_id

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def player_id(sdk: Any) -> str:
    """A video's playerId must name a player of its project."""
    return str(PlayerThemesApi(sdk).create(PlayerThemeCreationPayload(name="videos")).player_id)


def near_now(moment: datetime, slack: timedelta = timedelta(minutes=2)) -> bool:
    return abs(datetime.now(UTC) - moment) < slack


def create(videos: Any, title: str, **fields: Any) -> Any:
    return videos.create(VideoCreationPayload(title=title, **fields))


def titles(listing: Any) -> list[str]:
    return [v.title for v in listing.data]


def rels(listing: Any) -> dict[str, str]:
    return {link.rel: link.uri for link in listing.pagination.links}


def test_create_then_get_round_trips_every_field(sdk: Any, mark: str, player_id: str) -> None:
    videos = VideosApi(sdk)
    created = create(
        videos,
        f"{mark} full",
        description="A description",
        public=False,
        panoramic=True,
        mp4_support=False,
        player_id=player_id,
        tags=[f"{mark}-a", f"{mark}-b"],
        metadata=[Metadata(key="author", value="Jane"), Metadata(key="format", value="tutorial")],
        language="fr",
    )

    assert VIDEO_ID.match(created.video_id)
    fetched = videos.get(created.video_id)
    for video in (created, fetched):
        assert video.video_id == created.video_id
        assert video.title == f"{mark} full"
        assert video.description == "A description"
        assert (video.public, video.panoramic, video.mp4_support) == (False, True, False)
        assert video.player_id == player_id
        assert video.tags == [f"{mark}-a", f"{mark}-b"]
        assert [(m.key, m.value) for m in video.metadata] == [("author", "Jane"), ("format", "tutorial")]
        assert video.language == "fr"
        assert video.language_origin == "api"
        assert video.discarded is False
        assert video.discarded_at is None and video.deletes_at is None
        assert near_now(video.created_at) and video.updated_at == video.created_at
        assert video.source.uri == f"/videos/{created.video_id}/source"


def test_create_applies_api_video_defaults(sdk: Any, mark: str) -> None:
    video = create(VideosApi(sdk), f"{mark} defaults")

    assert (video.public, video.panoramic, video.mp4_support) == (True, False, True)
    assert video.tags == [] and video.metadata == []
    assert video.get("player_id") is None


def test_status_of_a_video_without_source(sdk: Any, mark: str) -> None:
    videos = VideosApi(sdk)
    video = create(videos, f"{mark} status")

    status = videos.get_status(video.video_id)

    assert status.encoding.playable is False
    assert status.encoding.qualities == []


def test_get_of_a_missing_video_raises_not_found(sdk: Any) -> None:
    with pytest.raises(NotFoundException) as raised:
        VideosApi(sdk).get(random_id("vi"))

    assert raised.value.status == 404
    body = json.loads(raised.value.body)
    assert body["type"] == DOCS + "resource-not-found"
    assert body["name"] == "videoId"


def test_list_paginates_with_links_and_totals(sdk: Any, api: Api, mark: str) -> None:
    videos = VideosApi(sdk)
    expected = [f"{mark} page {i:02d}" for i in range(7)]
    for title in reversed(expected):
        create(videos, title)

    pages = [videos.list(title=mark, sort_by="title", sort_order="asc", page_size=3, current_page=n) for n in (1, 2, 3)]

    for number, page in enumerate(pages, start=1):
        pagination = page.pagination
        assert (pagination.current_page, pagination.page_size) == (number, 3)
        assert (pagination.items_total, pagination.pages_total) == (7, 3)
        assert pagination.current_page_items == len(page.data)
        links = rels(page)
        assert links["self"].startswith("/videos?") and f"currentPage={number}" in links["self"]
        assert "currentPage=1" in links["first"] and "currentPage=3" in links["last"]
        assert all("pageSize=3" in uri and f"title={mark}" in uri for uri in links.values())
        assert ("previous" in links) == (number > 1)
        assert ("next" in links) == (number < 3)
    assert [len(p.data) for p in pages] == [3, 3, 1]
    assert [t for p in pages for t in titles(p)] == expected

    # The `next` link is usable as is.
    followed = api.ok("GET", rels(pages[0])["next"], sdk.api_key)
    assert [v["title"] for v in followed["data"]] == titles(pages[1])

    beyond = videos.list(title=mark, page_size=3, current_page=4)
    assert beyond.data == [] and beyond.pagination.items_total == 7


def test_list_filters_by_title_tags_and_metadata(sdk: Any, mark: str) -> None:
    videos = VideosApi(sdk)
    t1, t2, t3 = f"{mark}-t1", f"{mark}-t2", f"{mark}-t3"
    create(videos, f"{mark} alpha", tags=[t1, t2], metadata=[Metadata(key="env", value="prod")])
    create(videos, f"{mark} beta", tags=[t1], metadata=[Metadata(key="env", value="dev")])
    create(
        videos,
        f"{mark} gamma",
        tags=[t2, t3],
        metadata=[Metadata(key="env", value="prod"), Metadata(key="tier", value="gold")],
    )

    def found(**filters: Any) -> set[str]:
        listing = videos.list(title=filters.pop("title", mark), page_size=100, **filters)
        assert listing.pagination.items_total == len(listing.data)
        return {t.removeprefix(f"{mark} ") for t in titles(listing)}

    assert found() == {"alpha", "beta", "gamma"}
    assert found(title=f"{mark} bet") == {"beta"}
    assert found(title="no such title " + mark) == set()
    assert found(tags=[t1]) == {"alpha", "beta"}
    assert found(tags=[t1, t2]) == {"alpha"}
    assert found(tags=[t2]) == {"alpha", "gamma"}
    assert found(tags=[t3, t1]) == set()
    assert found(metadata={"env": "prod"}) == {"alpha", "gamma"}
    assert found(metadata={"env": "prod", "tier": "gold"}) == {"gamma"}
    assert found(metadata={"env": "staging"}) == set()
    assert found(tags=[t2], metadata={"env": "prod"}) == {"alpha", "gamma"}


def test_list_sorts_both_ways(sdk: Any, mark: str) -> None:
    videos = VideosApi(sdk)
    for word in ("bravo", "alpha", "delta", "charlie"):
        create(videos, f"{mark} {word}")

    ascending = titles(videos.list(title=mark, sort_by="title", sort_order="asc"))
    descending = titles(videos.list(title=mark, sort_by="title", sort_order="desc"))

    assert ascending == [f"{mark} {w}" for w in ("alpha", "bravo", "charlie", "delta")]
    assert descending == list(reversed(ascending))
    for field in ("createdAt", "publishedAt", "updatedAt"):
        attribute = {"createdAt": "created_at", "publishedAt": "published_at", "updatedAt": "updated_at"}[field]
        up = [getattr(v, attribute) for v in videos.list(title=mark, sort_by=field, sort_order="asc").data]
        down = [getattr(v, attribute) for v in videos.list(title=mark, sort_by=field, sort_order="desc").data]
        assert up == sorted(up) and down == sorted(down, reverse=True) and len(up) == 4


def test_update_changes_only_the_given_fields_and_null_clears_the_player(sdk: Any, mark: str, player_id: str) -> None:
    videos = VideosApi(sdk)
    original = create(
        videos,
        f"{mark} before",
        description="kept",
        player_id=player_id,
        tags=[f"{mark}-keep"],
        metadata=[Metadata(key="k", value="v")],
        public=False,
    )

    updated = videos.update(original.video_id, VideoUpdatePayload(title=f"{mark} after", player_id=None))

    for video in (updated, videos.get(original.video_id)):
        assert video.title == f"{mark} after"
        assert video.get("player_id") is None
        assert video.description == "kept"
        assert video.tags == [f"{mark}-keep"]
        assert [(m.key, m.value) for m in video.metadata] == [("k", "v")]
        assert video.public is False
        assert video.created_at == original.created_at
        assert video.updated_at >= original.updated_at

    replaced = videos.update(
        original.video_id,
        VideoUpdatePayload(tags=[f"{mark}-new"], metadata=[], public=True, player_id=player_id),
    )
    assert replaced.tags == [f"{mark}-new"]
    assert replaced.metadata == []
    assert replaced.public is True
    assert replaced.player_id == player_id
    assert replaced.title == f"{mark} after"


def test_delete_discards_for_90_days_and_restore_brings_it_back(sdk: Any, mark: str) -> None:
    videos = VideosApi(sdk)
    video = create(videos, f"{mark} doomed", tags=[f"{mark}-tag"])

    videos.delete(video.video_id)

    with pytest.raises(NotFoundException):
        videos.get(video.video_id)
    assert titles(videos.list(title=mark)) == []
    discarded_list = videos.list_discarded(title=mark)
    assert [v.video_id for v in discarded_list.data] == [video.video_id]
    assert discarded_list.pagination.items_total == 1
    discarded = videos.get_discarded(video.video_id)
    assert discarded.discarded is True
    assert near_now(discarded.discarded_at)
    assert discarded.deletes_at - discarded.discarded_at == timedelta(days=90)
    assert near_now(discarded.deletes_at - timedelta(days=90))
    assert discarded.title == f"{mark} doomed" and discarded.tags == [f"{mark}-tag"]

    restored = videos.update_discarded(video.video_id, DiscardedVideoUpdatePayload(discarded=False))

    assert restored.discarded is False
    assert restored.discarded_at is None and restored.deletes_at is None
    assert videos.get(video.video_id).title == f"{mark} doomed"
    assert [v.video_id for v in videos.list(title=mark).data] == [video.video_id]
    assert videos.list_discarded(title=mark).data == []
    with pytest.raises(NotFoundException):
        videos.get_discarded(video.video_id)


def test_tags_are_counted_over_live_videos(sdk: Any, mark: str) -> None:
    videos, tags = VideosApi(sdk), TagsApi(sdk)
    common, rare = f"{mark}-common", f"{mark}-rare"
    first = create(videos, f"{mark} 1", tags=[common, rare])
    create(videos, f"{mark} 2", tags=[common])
    create(videos, f"{mark} 3", tags=[common])

    def counts(value: str = mark, **params: Any) -> list[tuple[str, int]]:
        listing = tags.list(value=value, **params)
        return [(row.value, int(row.video_count)) for row in listing.data]

    assert counts() == [(common, 3), (rare, 1)]
    assert counts(sort_by="videoCount", sort_order="asc") == [(rare, 1), (common, 3)]
    assert counts(sort_by="value", sort_order="desc") == [(rare, 1), (common, 3)]
    assert counts(value=rare.upper()) == [(rare, 1)]

    videos.delete(first.video_id)

    assert counts() == [(common, 2)]
    assert tags.list(value=mark).pagination.items_total == 1


def test_sdk_refresh_rotates_the_tokens(sdk: Any) -> None:
    access, refresh = sdk._access_token, sdk._refresh_token

    sdk.refresh_token()

    assert sdk._access_token != access and sdk._refresh_token != refresh
    assert VideosApi(sdk).list(page_size=1).pagination.current_page == 1


def test_sdk_with_a_wrong_key_fails_to_connect(devstack: Devstack) -> None:
    client = apivideo.AuthenticatedApiClient("not-a-key")
    client.configuration.host = devstack.api_url

    with pytest.raises(UnauthorizedException) as raised, client:
        pass

    assert raised.value.status == 401
    body = raised.value.body
    assert json.loads(body.decode() if isinstance(body, bytes) else body)["type"] == (
        DOCS + "authentication-invalid-api-key"
    )
