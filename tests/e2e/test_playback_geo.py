"""A project's geo restriction on a devstack over HTTP: the devstack has no GeoIP and honours the
`CloudFront-Viewer-Country` header a client sends, so it shows the rule, not real geolocation."""

from __future__ import annotations

import pytest
import requests

from .support import Api, Devstack, assert_problem, marker

pytestmark = pytest.mark.e2e


def test_the_devstack_refuses_the_page_by_the_viewer_country_header(devstack: Devstack, api: Api) -> None:
    # A project of its own: a restriction of the shared dev project would reach the other tests.
    tenant = devstack.create_project(f"geo {marker()}")
    policy = api.ok("PUT", "/playback-geo", tenant.api_key, json={"mode": "deny", "countries": ["RU"]})
    assert policy == {"mode": "deny", "countries": ["RU"]}
    player = api.create_video(tenant.api_key, title=f"geo {marker()}")["assets"]["player"]

    refused = requests.get(player, headers={"CloudFront-Viewer-Country": "RU"}, timeout=15)
    assert_problem(refused, 403, "geo-blocked", "CloudFront-Viewer-Country")
    assert requests.get(player, headers={"CloudFront-Viewer-Country": "FR"}, timeout=15).status_code == 200
    assert requests.get(player, timeout=15).status_code == 200  # unknown country: a deny list admits
