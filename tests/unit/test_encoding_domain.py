"""Source metadata, the rendition ladder, thumbnails and watermark placement."""

from __future__ import annotations

import pytest

from chalicelib.vod.domain.encoding import (
    QUALITIES,
    EncodingProfile,
    SourceMetadata,
    WatermarkPlacement,
    length_in_pixels,
    opacity_percent,
    renditions_for,
    thumbnail_time,
    watermark_box,
)


def video(width: int, height: int, rotation: int = 0, **extra: object) -> SourceMetadata:
    return SourceMetadata.model_validate(
        {"width": width, "height": height, "rotation": rotation, "video_codec": "h264", "duration": 10.0, **extra}
    )


def sizes(source: SourceMetadata, profile: EncodingProfile | None = None) -> list[tuple[str, int, int]]:
    ladder = renditions_for(source) if profile is None else renditions_for(source, profile)
    return [(rung.quality, rung.width, rung.height) for rung in ladder]


def test_full_hd_gets_every_rung_up_to_1080p() -> None:
    assert sizes(video(1920, 1080)) == [
        ("240p", 426, 240),
        ("360p", 640, 360),
        ("480p", 854, 480),
        ("720p", 1280, 720),
        ("1080p", 1920, 1080),
    ]


def test_720p_stops_at_720p() -> None:
    assert [quality for quality, _, _ in sizes(video(1280, 720))] == ["240p", "360p", "480p", "720p"]


def test_4k_gets_all_six() -> None:
    ladder = renditions_for(video(3840, 2160))
    assert tuple(rung.quality for rung in ladder) == QUALITIES
    assert (ladder[-1].width, ladder[-1].height, ladder[-1].max_bitrate) == (3840, 2160, 15_000_000)


def test_portrait_uses_the_rung_as_the_short_side() -> None:
    assert sizes(video(1080, 1920))[0] == ("240p", 240, 426)
    assert sizes(video(1080, 1920))[-1] == ("1080p", 1080, 1920)


def test_rotated_landscape_frames_are_portrait() -> None:
    source = video(1920, 1080, rotation=90)
    assert (source.display_width, source.display_height, source.aspect_ratio) == (1080, 1920, "9/16")
    assert sizes(source)[-1] == ("1080p", 1080, 1920)


def test_odd_sizes_give_even_aspect_correct_frames() -> None:
    assert sizes(video(853, 479)) == [("240p", 428, 240), ("360p", 642, 360)]


def test_tiny_sources_are_never_upscaled() -> None:
    assert sizes(video(160, 120)) == [("240p", 160, 120)]
    assert sizes(video(321, 241)) == [("240p", 320, 240)]
    assert sizes(video(99, 75)) == [("240p", 100, 76)]


def test_audio_only_has_no_renditions() -> None:
    audio = SourceMetadata(audio_codec="aac", duration=3.0)
    assert not audio.has_video
    assert audio.has_audio
    assert renditions_for(audio) == []


def test_profile_qualities_filter_the_ladder() -> None:
    profile = EncodingProfile(profile_id="p", name="small", qualities=("360p", "720p"))
    assert [quality for quality, _, _ in sizes(video(1920, 1080), profile)] == ["360p", "720p"]
    # A source below every selected rung still gets the lowest one, scaled down.
    assert sizes(video(426, 240), profile) == [("360p", 426, 240)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (video(1920, 1080, audio_codec="aac"), True),
        (video(1920, 1080), True),
        (video(1920, 1080, audio_codec="opus"), False),
        (video(1920, 1080, rotation=90, audio_codec="aac"), False),
        (SourceMetadata(width=1920, height=1080, video_codec="hevc"), False),
        (SourceMetadata(audio_codec="aac"), False),
    ],
)
def test_remuxable(source: SourceMetadata, expected: bool) -> None:
    assert source.remuxable is expected


def test_aspect_ratio_is_reduced() -> None:
    assert video(1920, 1080).aspect_ratio == "16/9"
    assert video(640, 480).aspect_ratio == "4/3"
    assert SourceMetadata().aspect_ratio is None


def test_thumbnail_time_stays_inside_the_source() -> None:
    assert thumbnail_time(video(640, 360)) == 2.0
    assert thumbnail_time(video(640, 360, duration=1.0)) == 0.5
    assert thumbnail_time(SourceMetadata()) == 0.0
    at_five = EncodingProfile(profile_id="p", name="p", thumbnail_at_seconds=5.0)
    assert thumbnail_time(video(640, 360, duration=3.0), at_five) == pytest.approx(2.7)


def test_lengths_and_opacity() -> None:
    assert length_in_pixels("10px", 640) == 10
    assert length_in_pixels("10%", 640) == 64
    assert length_in_pixels("12", 640) == 12
    assert opacity_percent("70%") == 70
    assert opacity_percent("0.5") == 50
    assert opacity_percent(None) == 100
    with pytest.raises(ValueError, match="Not a length"):
        length_in_pixels("ten", 640)


def test_watermark_box_from_top_left_and_bottom_right() -> None:
    top_left = WatermarkPlacement(image_url="s3://b/w.png", top="10px", left="5%", width="20%")
    assert watermark_box(top_left, 640, 360).model_dump() == {
        "x": 32,
        "y": 10,
        "width": 128,
        "height": None,
        "opacity": 100,
    }
    bottom_right = WatermarkPlacement(
        image_url="s3://b/w.png", bottom="10px", right="10px", width="100px", height="50px", opacity="50%"
    )
    assert watermark_box(bottom_right, 640, 360).model_dump() == {
        "x": 530,
        "y": 300,
        "width": 100,
        "height": 50,
        "opacity": 50,
    }
