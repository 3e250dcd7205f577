"""Geo restrictions per project (Videoplane extension): which viewers' countries may play the
project's videos. Pure rules; the API reads the viewer's country from CloudFront's
`CloudFront-Viewer-Country` header (on AWS the edge sets it; the devstack honours what a client
sends, it has no GeoIP).

A viewer whose country is unknown (no header, or not two letters) may play under a deny list and
may not under an allow list: a deny list keeps out the countries it names and nobody else, an allow
list (typically a licence: "only in FR and BE") admits only viewers shown to be in one of them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

GEO_BLOCKED = "geo-blocked"
VIEWER_COUNTRY_HEADER = "cloudfront-viewer-country"
# The country of a request that did not come through the CDN (AWS: no valid origin secret header):
# any header it carries may be forged, so a project that restricts countries refuses it, whatever
# its mode (an unknown country would pass a deny list, and a direct call could pose as unknown).
UNVERIFIED = "unverified"
# ISO 3166-1 has 249 alpha-2 codes.
COUNTRIES_MAX = 249
_ALPHA2 = re.compile(r"^[A-Z]{2}$")

GeoMode = Literal["allow", "deny", "off"]


def _alpha2(value: str) -> str:
    if not _ALPHA2.match(value):
        raise ValueError("A country is an ISO 3166-1 alpha-2 code in capitals, such as FR.")
    return value


Country = Annotated[str, AfterValidator(_alpha2)]


class GeoRestriction(BaseModel):
    """`PUT /playback-geo`: `allow` plays only in the listed countries, `deny` everywhere but them,
    `off` everywhere (the list is then kept, unused)."""

    model_config = ConfigDict(extra="forbid")
    mode: GeoMode
    countries: list[Country] = Field(default_factory=list, max_length=COUNTRIES_MAX, validate_default=True)

    @field_validator("countries")
    @classmethod
    def _allow_names_a_country(cls, countries: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("mode") == "allow" and not countries:
            raise ValueError("An allow list names at least one country (mode off lifts the restriction).")
        return countries


class GeoPolicy(BaseModel):
    """A project's stored restriction; `off` with no countries when it never set one."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    mode: GeoMode = "off"
    countries: tuple[str, ...] = ()
    updated_at: datetime | None = None


def unrestricted(project_id: str) -> GeoPolicy:
    return GeoPolicy(project_id=project_id)


def with_restriction(project_id: str, restriction: GeoRestriction, now: datetime) -> GeoPolicy:
    countries = tuple(sorted(dict.fromkeys(restriction.countries)))
    return GeoPolicy(project_id=project_id, mode=restriction.mode, countries=countries, updated_at=now)


def viewer_country(header: str | None) -> str | None:
    """The viewer's country from `CloudFront-Viewer-Country`, or None when absent or not a code."""
    if header is None:
        return None
    value = header.strip().upper()
    return value if _ALPHA2.match(value) else None


def geo_allowed(mode: str, countries: tuple[str, ...] | list[str], country: str | None) -> bool:
    """Whether a viewer in `country` (None: unknown, UNVERIFIED: not placed by the CDN) may play
    under this restriction."""
    if country == UNVERIFIED:
        return mode not in ("allow", "deny")
    if mode == "allow":
        return country is not None and country in countries
    if mode == "deny":
        return country is None or country not in countries
    return True


def allowed(policy: GeoPolicy, country: str | None) -> bool:
    return geo_allowed(policy.mode, policy.countries, country)


def snapshot(policy: GeoPolicy) -> dict[str, Any]:
    """The audit image."""
    return {"mode": policy.mode, "countries": list(policy.countries)}
