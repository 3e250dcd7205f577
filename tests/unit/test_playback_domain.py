"""Players and the embed page: the pure rules (colour grammar, logo limits, what changed, sorting;
what a viewer may see, oEmbed URLs and sizes, JSON inside a script element)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.core.domain.images import ImageFormat, ImageInfo
from chalicelib.playback.domain import embed, players
from chalicelib.playback.domain.embed import PageTheme, PublicVideo, TextTrack
from chalicelib.playback.domain.players import Logo, PlayerCreation, PlayerQuery, PlayerUpdate, Theme

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
PLAYER_BASE = "https://media.example/embed"
VIDEO_ID = "vi" + "a" * 22


@pytest.mark.parametrize(
    "colour",
    ["rgba(255, 255, 255, .95)", "rgba(1,2,3,1)", "rgb(0, 0, 0)", "rgba(0, 0, 0, 0)", "#fff", "#FF0000", "#11223344"],
)
def test_colours_as_api_video_writes_them_are_accepted(colour: str) -> None:
    assert PlayerCreation.model_validate({"text": colour}).text == colour


@pytest.mark.parametrize(
    "colour",
    ["red", "rgba(256, 0, 0, 1)", "rgba(0, 0, 0, 2)", "#ff00", "rgba(0,0,0,1);}body{x:y", "url(//x)", ""],
)
def test_anything_else_could_escape_the_style_sheet_and_is_refused(colour: str) -> None:
    with pytest.raises(ValidationError):
        PlayerCreation.model_validate({"trackPlayed": colour})


def test_a_new_player_has_api_videos_defaults_and_an_update_merges() -> None:
    player = players.new_player("p1", PlayerCreation.model_validate({"name": "n", "forceLoop": True}), NOW)
    assert player.player_id.startswith("pl") and len(player.player_id) == 24
    assert player.theme == Theme(force_loop=True)
    later = NOW + timedelta(seconds=5)
    updated = players.apply_update(player, PlayerUpdate.model_validate({"hideTitle": True, "text": "#000"}), later)
    assert updated.theme.force_loop and updated.theme.hide_title and updated.theme.text == "#000"
    assert (updated.name, updated.updated_at, updated.version) == ("n", later, 2)
    assert players.changed_fields(player, updated) == ["text", "hideTitle"]
    assert players.changed_fields(updated, updated) == []
    logo = Logo(key="players/x/logo-a.png", content_type="image/png", width=1, height=1, size=10)
    assert players.changed_fields(updated, players.with_logo(updated, logo, later)) == ["assets"]
    assert PlayerUpdate.model_validate({"name": None}).null_violations() == ["name"]


def test_logo_limits_are_read_from_the_image() -> None:
    def image(width: int, height: int) -> ImageInfo:
        return ImageInfo(ImageFormat.PNG, width, height)

    assert players.logo_problem(image(200, 100), players.LOGO_MAX_BYTES) is None
    assert players.logo_problem(image(201, 100), 10) is not None
    assert players.logo_problem(image(200, 101), 10) is not None
    assert players.logo_problem(image(10, 10), players.LOGO_MAX_BYTES + 1) is not None
    assert players.logo_key("pl1", image(1, 1), "abc") == "players/pl1/logo-abc.png"
    assert players.is_logo_link("https://example.com/a?b=c")
    for link in ("javascript:alert(1)", 'https://x/"onmouseover=', "ftp://x", "https://" + "a" * 2048):
        assert not players.is_logo_link(link)


def test_listing_sorts_by_name_case_blind_and_by_dates() -> None:
    def make(name: str | None, minutes: int) -> players.Player:
        created = NOW + timedelta(minutes=minutes)
        return players.Player(
            project_id="p", player_id=f"pl{minutes}", name=name, created_at=created, updated_at=created
        )

    listed = [make("beta", 1), make(None, 2), make("Alpha", 3)]
    by_name = players.select(listed, PlayerQuery.model_validate({"sortBy": "name"}))
    assert [p.name for p in by_name] == [None, "Alpha", "beta"]
    newest = players.select(listed, PlayerQuery.model_validate({"sortBy": "createdAt", "sortOrder": "desc"}))
    assert [p.name for p in newest] == ["Alpha", None, "beta"]


def video(**fields: object) -> PublicVideo:
    base: dict[str, object] = {
        "project_id": "prj",
        "video_id": VIDEO_ID,
        "title": "A title",
        "public": True,
        "discarded": False,
        "playable": True,
    }
    return PublicVideo.model_validate({**base, **fields})


def test_only_public_videos_that_are_not_discarded_are_viewable() -> None:
    assert embed.viewable(video())
    assert not embed.viewable(video(public=False))
    assert not embed.viewable(video(discarded=True))
    assert not embed.viewable(None)


def test_the_page_config_names_media_urls_and_never_the_project() -> None:
    look = PageTheme(theme=Theme(track_played="#ff0000"), logo_url="https://m/players/x.png", logo_link=None)
    config = embed.page_config(
        video(thumbnail_file="thumbnail-1.jpg", captions=(TextTrack(language="fr", default=True),)),
        look,
        "https://m/",
    )
    assert config["hls"] == f"https://m/vod/{VIDEO_ID}/hls/manifest.m3u8"
    assert config["poster"] == f"https://m/vod/{VIDEO_ID}/thumbnail-1.jpg"
    assert config["captions"] == [
        {"srclang": "fr", "label": "fr", "src": f"https://m/vod/{VIDEO_ID}/captions/fr.vtt", "default": True}
    ]
    assert config["theme"]["trackPlayed"] == "#ff0000" and config["theme"]["enableControls"] is True
    assert config["logo"] == {"src": "https://m/players/x.png", "link": None}
    assert "prj" not in json.dumps(config)
    assert "--vp-trackPlayed:#ff0000;" in embed.style_variables(config)


def test_a_stored_colour_that_breaks_the_grammar_falls_back_to_the_default() -> None:
    tampered = Theme(text="red;}*{display:none")
    assert embed.colours(tampered)["text"] == Theme().text


def test_json_in_a_script_element_cannot_close_it() -> None:
    text = embed.script_json({"title": "</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"title": "</script><!-- & -->"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{PLAYER_BASE}/vod/{VIDEO_ID}", VIDEO_ID),
        (f"{PLAYER_BASE}/vod/{VIDEO_ID}?x=1#autoplay", VIDEO_ID),
        (f"https://other.example/embed/vod/{VIDEO_ID}", None),
        (f"http://media.example/embed/vod/{VIDEO_ID}", None),
        (f"{PLAYER_BASE}/vod/{VIDEO_ID}/data", None),
        (f"{PLAYER_BASE}/live/li{'a' * 22}", None),
        ("http://[::1", None),
        ("not a url", None),
    ],
)
def test_oembed_accepts_only_this_deployments_player_urls(url: str, expected: str | None) -> None:
    assert embed.video_id_of(url, PLAYER_BASE) == expected


def test_oembed_size_is_16_9_within_the_consumers_bounds() -> None:
    assert embed.oembed_size(None, None) == (640, 360)
    assert embed.oembed_size(320, None) == (320, 180)
    assert embed.oembed_size(None, 90) == (160, 90)
    assert embed.oembed_size(1920, 1080) == (640, 360)
    snippet = embed.iframe('https://m/embed/vod/x"><script>', "320", "180")
    assert '"><script>' not in snippet and 'width="320"' in snippet
