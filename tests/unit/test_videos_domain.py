from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.core import ids
from chalicelib.vod.domain import videos
from chalicelib.vod.domain.videos import (
    Metadata,
    SortField,
    SortOrder,
    TagQuery,
    VideoCreation,
    VideoQuery,
    VideoUpdate,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def make(title: str, tags: tuple[str, ...] = (), minutes: int = 0, **meta: str) -> videos.Video:
    payload = VideoCreation(title=title, tags=list(tags), metadata=[Metadata(key=k, value=v) for k, v in meta.items()])
    return videos.new_video("prA", payload, NOW + timedelta(minutes=minutes))


def test_new_video_has_api_video_id_and_defaults() -> None:
    video = make("Hello")
    assert ids.is_id(video.video_id, "vi") and len(video.video_id) == 24
    assert video.public and video.mp4_support and not video.panoramic
    assert video.created_at == video.updated_at == video.published_at == NOW
    assert video.version == 1


def test_duplicate_tags_are_kept_once_in_order() -> None:
    assert make("t", tags=("b", "a", "b")).tags == ("b", "a")


def test_update_replaces_arrays_and_bumps_version() -> None:
    video = make("t", tags=("a",), k="v")
    update = VideoUpdate.model_validate({"tags": ["x"], "metadata": [], "title": "new"})
    updated = videos.apply_update(video, update.changes(), NOW + timedelta(hours=1))
    assert updated.tags == ("x",) and updated.metadata == () and updated.title == "new"
    assert updated.version == 2 and updated.updated_at == NOW + timedelta(hours=1)
    assert updated.created_at == video.created_at


def test_absent_key_leaves_field_and_null_clears_nullable_field() -> None:
    video = videos.apply_update(make("t"), {"player_id": "pl" + "a" * 22, "language": "fr"}, NOW)
    update = VideoUpdate.model_validate({"playerId": None})
    cleared = videos.apply_update(video, update.changes(), NOW)
    assert cleared.player_id is None and cleared.language == "fr"
    assert update.null_violations() == []


def test_null_on_non_nullable_field_is_reported() -> None:
    assert VideoUpdate.model_validate({"title": None}).null_violations() == ["title"]


def test_language_sets_origin_and_accepts_sdk_false_for_norwegian() -> None:
    video = videos.apply_update(make("t"), VideoUpdate.model_validate({"language": "false"}).changes(), NOW)
    assert video.language == "false" and video.language_origin is videos.LanguageOrigin.API
    cleared = videos.apply_update(video, {"language": None}, NOW)
    assert cleared.language_origin is None


@pytest.mark.parametrize(
    "body",
    [{}, {"title": 1}, {"title": ""}, {"title": "t", "public": "yes"}, {"title": "t", "tags": "x"},
     {"title": "t", "metadata": [{"key": 1}]}, {"title": "t", "language": "xx"}, {"title": "x" * 257},
     {"title": "t", "clip": {"startTimecode": "1:2"}}, {"title": "t", "playerId": "nope"}],
)  # fmt: skip
def test_creation_payload_rejects_bad_input(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        VideoCreation.model_validate(body)


def test_discard_sets_90_day_deadline_and_restore_clears_it() -> None:
    discarded = videos.discard(make("t"), NOW)
    assert discarded.discarded and discarded.deletes_at == NOW + timedelta(days=90)
    restored = videos.restore(discarded, NOW)
    assert not restored.discarded and restored.deletes_at is None and restored.version == 3


def test_select_filters_title_substring_tags_all_of_and_metadata() -> None:
    a = make("Cats and dogs", ("pets", "fun"), 0, color="red")
    b = make("Dogs only", ("pets",), 1, color="blue")
    c = make("Birds", ("fun",), 2, color="red")
    every = [a, b, c]
    assert videos.select(every, VideoQuery(title="dog")) == [a, b]
    assert videos.select(every, VideoQuery(tags=["pets", "fun"])) == [a]
    assert videos.select(every, VideoQuery(metadata={"color": "red"})) == [a, c]
    assert videos.select(every, VideoQuery(metadata={"color": "red", "size": "xl"})) == []


def test_select_sorts_by_every_field_both_ways() -> None:
    older, newer = make("b", minutes=0), make("a", minutes=5)
    assert videos.select([newer, older], VideoQuery()) == [older, newer]
    assert videos.select([older, newer], VideoQuery(sortBy=SortField.TITLE)) == [newer, older]
    by_created_desc = VideoQuery(sortBy=SortField.CREATED_AT, sortOrder=SortOrder.DESC)
    assert videos.select([older, newer], by_created_desc) == [newer, older]


def test_unknown_sort_field_is_rejected() -> None:
    with pytest.raises(ValidationError):
        VideoQuery.model_validate({"sortBy": "duration"})


def test_tag_counts_match_accent_and_case_insensitively() -> None:
    every = [make("1", tags=("Café",)), make("2", tags=("café", "x")), make("3", tags=("Café",))]
    rows = videos.tag_counts(every, TagQuery(value="CAFE", sortBy="videoCount", sortOrder=SortOrder.DESC))
    assert rows == [("Café", 2), ("café", 1)]
