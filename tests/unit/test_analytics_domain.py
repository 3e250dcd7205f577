"""Analytics rules: beacon parsing and the records they become (ours and api.video's v2), /data's
names, timeframes, intervals and filters, User-Agent parsing, and the beacon service's checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.analytics.adapters.useragents import MAX_USER_AGENT, UaParserViewers
from chalicelib.analytics.domain import data
from chalicelib.analytics.domain.beacons import (
    MAX_CLIENT_LAG_MS,
    MAX_EVENTS_PER_BEACON,
    Beacon,
    EventRecord,
    Viewer,
    WatchBeacon,
    event_time,
    records_from_beacon,
    records_from_watch,
)
from chalicelib.analytics.domain.data import Special
from chalicelib.analytics.domain.geography import continent_of
from chalicelib.analytics.domain.queries import Dimension, Filters, Interval, Measure
from chalicelib.analytics.services.beacons import BeaconService
from chalicelib.core.domain.errors import InvalidInput, NotFound, UnrecognizedRequestUrl

VIDEO = "vi" + "a" * 22
LIVE = "li" + "b" * 22
PLAYER = "pl" + "c" * 22
PROJECT = "pr" + "d" * 22
RECEIVED = 1_796_000_000_000
VIEWER = Viewer("computer", "Linux", "Chrome", "FR", "EU")


def beacon(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "session": "session-00000001",
        "media": VIDEO,
        "player": PLAYER,
        "referrer": "https://example.com/",
        "sentAt": RECEIVED,
        "events": [{"type": "play", "at": RECEIVED - 1000}],
    }
    body.update(overrides)
    return body


# -- beacons ------------------------------------------------------------------------------------


def test_a_beacon_becomes_one_record_per_event_with_the_viewer_and_the_servers_day() -> None:
    parsed = Beacon.model_validate(
        beacon(
            events=[
                {"type": "play", "at": RECEIVED - 3000},
                {"type": "start", "at": RECEIVED - 2500, "startupMs": 500},
                {"type": "heartbeat", "at": RECEIVED - 500, "playhead": 2.0, "watched": 2.0},
            ]
        )
    )
    records = records_from_beacon(parsed, PROJECT, VIEWER, RECEIVED)
    assert [r.event for r in records] == ["play", "start", "heartbeat"]
    assert [r.ts for r in records] == [RECEIVED - 3000, RECEIVED - 2500, RECEIVED - 500]
    assert records[1].startup_ms == 500 and records[2].watched == 2.0
    first = records[0]
    assert (first.project, first.dt, first.media_type, first.source) == (PROJECT, "2026-11-30", "video", "videoplane")
    assert (first.country, first.continent, first.browser, first.player_id) == ("FR", "EU", "Chrome", PLAYER)
    assert set(first.as_json()) == set(EventRecord.__dataclass_fields__)


def test_live_stream_media_is_typed_as_such() -> None:
    records = records_from_beacon(Beacon.model_validate(beacon(media=LIVE)), PROJECT, VIEWER, RECEIVED)
    assert records[0].media_type == "live-stream"


@pytest.mark.parametrize(
    ("client_at", "client_sent", "expected"),
    [
        (RECEIVED - 1000, RECEIVED, RECEIVED - 1000),  # spacing kept
        (RECEIVED + 5000, RECEIVED, RECEIVED),  # never in the future
        (0, RECEIVED, RECEIVED - MAX_CLIENT_LAG_MS),  # never far in the past
        (10, 20, RECEIVED - 10),  # a wrong client clock: only the spacing counts
    ],
)
def test_event_time_is_the_servers_minus_the_clamped_client_lag(
    client_at: int, client_sent: int, expected: int
) -> None:
    assert event_time(client_at, client_sent, RECEIVED) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        {"media": "vi-not-an-id"},
        {"media": "pr" + "a" * 22},  # not a media
        {"session": "short"},
        {"session": "x" * 15},
        {"session": "x" * 65},
        {"player": "player-1"},
        {"referrer": "r" * 2049},
        {"events": []},
        {"events": [{"type": "play", "at": 1}] * (MAX_EVENTS_PER_BEACON + 1)},
        {"events": [{"type": "hack", "at": 1}]},
        {"events": [{"type": "play", "at": -1}]},
        {"events": [{"type": "play", "at": 1, "watched": -1}]},
        {"events": [{"type": "play", "at": 1, "project": "pr" + "x" * 22}]},  # cannot pick a project
        {"project": "pr" + "x" * 22},
    ],
)
def test_hostile_beacons_are_refused(hostile: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Beacon.model_validate(beacon(**hostile))


def watch(events: list[dict[str, Any]], sat: int = RECEIVED) -> WatchBeacon:
    return WatchBeacon.model_validate({"sat": sat, "sid": "session-v2-000001", "mid": VIDEO, "ref": "", "eve": events})


def test_api_video_v2_events_become_ours_with_startup_time_and_watch_time() -> None:
    t = RECEIVED - 20_000
    records = records_from_watch(
        watch(
            [
                {"eat": t, "typ": 1},  # loaded
                {"eat": t + 1000, "typ": 2},  # play
                {"eat": t + 1400, "typ": 4, "vti": 0.1},  # first time update: start, 400 ms
                {"eat": t + 4400, "typ": 4, "vti": 3.1, "vhe": 720},
                {"eat": t + 5000, "typ": 3, "vti": 3.7},  # pause
                {"eat": t + 9000, "typ": 2},  # resume
                {"eat": t + 11000, "typ": 6, "vti": 5.7},  # ended
            ]
        ),
        PROJECT,
        VIEWER,
        RECEIVED,
    )
    assert [r.event for r in records] == ["impression", "play", "start", "heartbeat", "pause", "resume", "end"]
    assert records[2].startup_ms == 400
    assert records[3].rendition == "720p"
    # Playing: play → pause (4 s) and resume → end (2 s); nothing while paused.
    assert sum(r.watched for r in records) == pytest.approx(6.0)
    assert {r.source for r in records} == {"api.video-v2"}


def test_a_v2_beacon_that_opens_playing_counts_one_period_before_it() -> None:
    records = records_from_watch(watch([{"eat": RECEIVED - 100, "typ": 4, "pau": False}]), PROJECT, VIEWER, RECEIVED)
    assert [r.event for r in records] == ["heartbeat"]
    assert records[0].watched == pytest.approx(4.9)


# -- /data names and rules ----------------------------------------------------------------------


def test_metric_and_aggregation_names_map_to_measures_and_unknown_ones_are_404() -> None:
    assert data.aggregation_of("play", "count") == Measure.PLAYS
    assert data.aggregation_of("play", "total") == Special.PLAY_TOTAL
    assert data.aggregation_of("ccv", "live") == Special.CCV_LIVE
    assert data.aggregation_of("watch-time", "sum") == Measure.WATCH_TIME_SUM
    for metric, aggregation in (("play", "sum"), ("views", "count"), ("watch-time", "count")):
        with pytest.raises(UnrecognizedRequestUrl):
            data.aggregation_of(metric, aggregation)
    assert data.bucket_metric("play-rate") == Measure.PLAY_RATE
    # Videoplane's QoE extension.
    assert data.aggregation_of("startup-time", "p95") == Measure.STARTUP_TIME_P95
    assert data.aggregation_of("rebuffer", "percentage") == Measure.REBUFFER_PERCENTAGE
    assert data.bucket_metric("exit-before-start-rate") == Measure.EXITS_BEFORE_START_RATE
    with pytest.raises(UnrecognizedRequestUrl):
        data.aggregation_of("startup-time", "p99")
    with pytest.raises(UnrecognizedRequestUrl):
        data.bucket_metric("watch-time")


def test_breakdowns_and_play_total_only_by_media() -> None:
    assert data.dimension_of("country", Measure.PLAYS) == Dimension.COUNTRY
    assert data.dimension_of("media-id", Special.PLAY_TOTAL) == Dimension.MEDIA_ID
    for breakdown, metric in (("country", Special.PLAY_TOTAL), ("referrer", Measure.PLAYS)):
        with pytest.raises(UnrecognizedRequestUrl):
            data.dimension_of(breakdown, metric)


NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_timeframe_defaults_to_the_last_day_and_keeps_inside_the_retention() -> None:
    frame = data.timeframe(None, None, NOW)
    assert (frame.start, frame.end) == (NOW - timedelta(days=1), NOW)
    naive = data.timeframe(datetime(2026, 12, 5, 8, 0), datetime(2026, 12, 5, 9, 0), NOW)
    assert naive.start.tzinfo == UTC and naive.end_ms - naive.start_ms == 3600_000
    for start, end in ((NOW - timedelta(days=31), None), (NOW, NOW), (NOW, NOW - timedelta(hours=1))):
        with pytest.raises(InvalidInput):
            data.timeframe(start, end, NOW)


def test_interval_defaults_by_timeframe_and_minutes_only_within_an_hour() -> None:
    hour = data.Timeframe(NOW - timedelta(hours=1), NOW)
    week = data.Timeframe(NOW - timedelta(days=7), NOW)
    assert data.interval_of(None, hour) == Interval.HOUR
    assert data.interval_of(None, week) == Interval.DAY
    assert data.interval_of("minute", hour) == Interval.MINUTE
    for value, frame in (("minute", week), ("week", hour)):
        with pytest.raises(InvalidInput):
            data.interval_of(value, frame)


def test_view_duration() -> None:
    assert data.view_seconds(None) == 5
    assert data.view_seconds("30s") == 30
    with pytest.raises(InvalidInput):
        data.view_seconds("7s")


def test_filters_read_the_sdks_deep_objects_and_refuse_the_rest() -> None:
    query = {
        "filterBy[mediaId][]": [VIDEO, LIVE],
        "filterBy[country]": ["FR"],
        "filterBy[continent][]": ["EU"],
        "filterBy[mediaType]": ["video"],
        "filterBy[browser][]": ["Chrome"],
        "from": ["2026-12-05"],
    }
    assert data.filters_of(query) == Filters(
        media_ids=(VIDEO, LIVE), media_type="video", continents=("EU",), countries=("FR",), browsers=("Chrome",)
    )
    assert data.filters_of({"filterBy[mediaId]": [VIDEO]}, totals_only=True) == Filters(media_ids=(VIDEO,))
    for hostile in (
        {"filterBy[country]": ["fr"]},
        {"filterBy[country]": ["FRA"]},
        {"filterBy[continent]": ["XX"]},
        {"filterBy[mediaType]": ["audio"]},
        {"filterBy[project]": ["pr1"]},
        {"filterBy[referrer]": ["a\nb"]},
        {"filterBy[referrer]": ["r" * 2049]},
        {"filterBy[browser][]": ["b"] * 101},
        {"filterBy[tag]": ["a\x7fb"]},
    ):
        with pytest.raises(InvalidInput):
            data.filters_of(hostile)
    for totals_only in ({"filterBy[country]": ["FR"]}, {"filterBy[tag]": ["news"]}):
        with pytest.raises(InvalidInput):
            data.filters_of(totals_only, totals_only=True)


def test_a_tag_filter_takes_one_value_and_becomes_the_media_carrying_it() -> None:
    asked = data.filters_of({"filterBy[tag]": ["Old", "News"], "filterBy[mediaId][]": [VIDEO, LIVE]})
    assert (asked.tag, asked.tagged_media) == ("News", None)
    with pytest.raises(ValueError, match="looked up"):
        asked.conditions()  # never queried before the service looks the tag up
    other = "vi" + "z" * 22
    assert data.tagged(asked, [other, VIDEO]).conditions()[-1] == f"media_id IN ('{VIDEO}')"
    assert data.tagged(asked, []).conditions()[-1] == "1 = 0"
    assert data.tagged(data.filters_of({"filterBy[tag]": ["News"]}), [other, VIDEO]).tagged_media == (VIDEO, other)
    with pytest.raises(InvalidInput):
        data.tagged(asked, [VIDEO] * (data.MAX_TAGGED_MEDIA + 1))


def test_unique_applies_to_views_only() -> None:
    assert data.uniquely(Measure.VIEWS, True) == Measure.UNIQUE_VIEWS
    assert data.uniquely(Measure.VIEWS, False) == Measure.VIEWS
    assert data.uniquely(Measure.CCV_PEAK, True) == Measure.CCV_PEAK
    assert data.uniquely(Measure.PLAYS, True) == Measure.PLAYS


# -- User-Agents --------------------------------------------------------------------------------

CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SMART_TV = (
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 "
    "Chrome/76.0.3809.146 TV Safari/537.36"
)
PLAYSTATION = "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)"
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize(
    ("user_agent", "device", "system", "browser"),
    [
        (CHROME_LINUX, "computer", "Linux", "Chrome"),
        (WINDOWS_FIREFOX, "computer", "Windows", "Firefox"),
        (IPHONE, "phone", "iOS", "Mobile Safari"),
        (IPAD, "tablet", "iOS", "Mobile Safari"),
        (ANDROID_PHONE, "phone", "Android", "Chrome Mobile"),
        (ANDROID_TABLET, "tablet", "Android", "Chrome"),
        (SMART_TV, "tv", None, None),
        (PLAYSTATION, "console", None, None),
        (BOT, "unknown", None, "Googlebot"),
        ("", "unknown", "unknown", "unknown"),
        ("\x00<script>", "unknown", "unknown", "unknown"),
    ],
)
def test_user_agents_give_api_videos_device_types(
    user_agent: str, device: str, system: str | None, browser: str | None
) -> None:
    viewer = UaParserViewers().viewer(user_agent, "fr")
    assert viewer.device_type == device
    if system is not None:
        assert viewer.operating_system == system
    if browser is not None:
        assert viewer.browser == browser
    assert (viewer.country, viewer.continent) == ("FR", "EU")


def test_a_huge_user_agent_is_cut_and_bad_countries_are_dropped() -> None:
    viewer = UaParserViewers().viewer(CHROME_LINUX + "x" * 100_000, "F1")
    assert viewer.browser == "Chrome" and len(CHROME_LINUX) < MAX_USER_AGENT
    assert (viewer.country, viewer.continent) == ("", "")
    assert UaParserViewers().viewer(CHROME_LINUX, "XX").continent == ""
    assert continent_of("NZ") == "AZ" and continent_of("BR") == "SA"


# -- the beacon service -------------------------------------------------------------------------


class Media:
    def __init__(self, owners: dict[str, str]) -> None:
        self.owners = owners
        self.lookups = 0

    def project_of(self, media_id: str) -> str | None:
        self.lookups += 1
        return self.owners.get(media_id)


class Sink:
    def __init__(self) -> None:
        self.records: list[EventRecord] = []

    def put(self, records: Any) -> None:
        self.records.extend(records)


class Viewers:
    def viewer(self, user_agent: str, country: str) -> Viewer:
        return VIEWER


def service(media: Media, sink: Sink, counted: list[str]) -> BeaconService:
    return BeaconService(media, sink, Viewers(), now_ms=lambda: RECEIVED, limit=counted.append)


def test_beacons_are_stored_under_the_medias_project_and_counted_against_it() -> None:
    media, sink = Media({VIDEO: PROJECT}), Sink()
    counted: list[str] = []
    beacons = service(media, sink, counted)
    assert beacons.collect(Beacon.model_validate(beacon()), CHROME_LINUX, "FR") == 1
    assert beacons.collect(Beacon.model_validate(beacon()), CHROME_LINUX, "FR") == 1
    assert [r.project for r in sink.records] == [PROJECT, PROJECT]
    assert counted == [PROJECT, PROJECT]
    assert media.lookups == 1  # a media's project never changes: remembered


def test_beacons_for_unknown_media_are_404_and_neither_stored_nor_counted() -> None:
    sink = Sink()
    counted: list[str] = []
    with pytest.raises(NotFound):
        service(Media({}), sink, counted).collect(Beacon.model_validate(beacon()), CHROME_LINUX, "FR")
    assert sink.records == [] and counted == []


def test_a_beacon_over_the_projects_limit_is_not_stored() -> None:
    class Limited(Exception):
        pass

    def refuse(project_id: str) -> None:
        raise Limited(project_id)

    sink = Sink()
    beacons = BeaconService(Media({VIDEO: PROJECT}), sink, Viewers(), now_ms=lambda: RECEIVED, limit=refuse)
    with pytest.raises(Limited):
        beacons.collect_watch(watch([{"eat": RECEIVED, "typ": 1}]), CHROME_LINUX, "FR")
    assert sink.records == []
