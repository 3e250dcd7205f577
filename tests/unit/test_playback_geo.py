"""The geo rule: a deny list refuses its countries and admits an unknown viewer, an allow list
admits only its countries and refuses an unknown one, `off` admits everyone."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.playback.domain import geo

VECTORS = [
    ("off", (), None, True),
    ("off", ("FR",), "FR", True),
    ("deny", ("RU", "CN"), "RU", False),
    ("deny", ("RU", "CN"), "FR", True),
    ("deny", ("RU",), None, True),
    ("allow", ("FR", "BE"), "BE", True),
    ("allow", ("FR", "BE"), "US", False),
    ("allow", ("FR",), None, False),
    # Not placed by the CDN (a direct call to the API): any restriction refuses it.
    ("off", ("FR",), geo.UNVERIFIED, True),
    ("deny", ("RU",), geo.UNVERIFIED, False),
    ("allow", ("FR",), geo.UNVERIFIED, False),
]


@pytest.mark.parametrize(("mode", "countries", "country", "expected"), VECTORS)
def test_the_rule(mode: str, countries: tuple[str, ...], country: str | None, expected: bool) -> None:
    assert geo.geo_allowed(mode, countries, country) is expected


@pytest.mark.parametrize(
    ("header", "country"),
    [("FR", "FR"), (" fr ", "FR"), (None, None), ("", None), ("FRA", None), ("F1", None), ("É", None)],
)
def test_the_viewer_country_is_two_letters_or_unknown(header: str | None, country: str | None) -> None:
    assert geo.viewer_country(header) == country


def test_a_restriction_is_normalised_and_checked() -> None:
    restriction = geo.GeoRestriction(mode="deny", countries=["RU", "CN", "RU"])
    policy = geo.with_restriction("pr1", restriction, None)  # type: ignore[arg-type]
    assert policy.countries == ("CN", "RU") and not geo.allowed(policy, "CN") and geo.allowed(policy, "FR")
    assert geo.allowed(geo.unrestricted("pr1"), None)
    for bad in ({"mode": "allow"}, {"mode": "allow", "countries": []}, {"mode": "deny", "countries": ["fr"]}):
        with pytest.raises(ValidationError):
            geo.GeoRestriction.model_validate(bad)


def test_the_country_is_believed_only_with_the_origin_secret() -> None:
    from chalicelib.playback.services.geo import ViewerCountries

    reads: list[int] = []

    def secret() -> str:
        reads.append(1)
        return "s3cret"

    through = ViewerCountries(trust_all=False, origin_secret=secret)
    assert through.country("fr", "s3cret") == "FR"
    assert through.country(None, "s3cret") is None
    assert through.country("FR", "s3cre") == geo.UNVERIFIED
    assert through.country("FR", "s3cret ") == geo.UNVERIFIED
    assert len(reads) == 4
    # No header: unverified without reading the secret.
    assert through.country("FR", None) == geo.UNVERIFIED and len(reads) == 4
    # No secret configured (and no trust): nothing is believed.
    assert ViewerCountries(trust_all=False, origin_secret=None).country("FR", "s3cret") == geo.UNVERIFIED
    # The devstack: the header as sent.
    assert ViewerCountries(trust_all=True, origin_secret=None).country("fr", None) == "FR"


@pytest.mark.parametrize(
    ("mode", "countries", "value"),
    [("deny", ("CN", "RU"), "deny:CN,RU"), ("allow", ("FR",), "allow:FR"), ("off", ("FR",), None)],
)
def test_the_edge_value_is_compact_and_reads_back(mode: str, countries: tuple[str, ...], value: str | None) -> None:
    from chalicelib.playback.domain.edge import geo_value, parse_geo_value

    assert geo_value(mode, countries) == value
    if value is not None:
        assert parse_geo_value(value) == (mode, countries)
