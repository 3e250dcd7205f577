"""A project's geo restriction (Videoplane extension): the countries whose viewers may play its
videos (docs/playback.md, "Geo restrictions")."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.playback import wiring
from chalicelib.playback.domain.geo import GeoPolicy, GeoRestriction

bp = Blueprint(__name__)
TAG = "Playback geo restriction"


def present(policy: GeoPolicy) -> dict[str, Any]:
    return {"mode": policy.mode, "countries": list(policy.countries)}


@endpoint(
    bp, "/playback-geo", "GET", permission=Permission.READ, authorizer=api_key_authorizer,
    response="PlaybackGeo", tag=TAG,
)  # fmt: skip
def get_playback_geo(call: Call) -> Any:
    """The project's geo restriction (`off` when it has none)"""
    return present(wiring.geo_service().get(call.actor))


@endpoint(
    bp, "/playback-geo", "PUT", permission=Permission.WRITE, authorizer=api_key_authorizer,
    body=GeoRestriction, response="PlaybackGeo", tag=TAG,
)  # fmt: skip
def put_playback_geo(call: Call) -> Any:
    """Replaces the project's geo restriction: `allow` or `deny` the listed countries (ISO 3166-1 alpha-2), or `off`"""
    return present(wiring.geo_service().set(call.actor, call.body(GeoRestriction)))
