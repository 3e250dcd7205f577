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
