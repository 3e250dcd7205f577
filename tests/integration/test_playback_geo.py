"""Geo restrictions per project through the Chalice app on moto: the setting (validation, audit,
retries, isolation) and its enforcement on the embed page, its data, the private token exchange
and oEmbed, from the `CloudFront-Viewer-Country` header as CloudFront forwards it (the devstack
honours the header a client sends)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from chalice.test import Client

from chalicelib.core import config, resources
from chalicelib.core import wiring as core_wiring
from tests.integration.conftest import ApiClient
from tests.integration.test_embed_api import PLAYER_BASE
from tests.integration.test_private_playback import denials, private_video, token_of


@pytest.fixture(autouse=True)
def player_base(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.PLAYER_BASE_URL_ENV, PLAYER_BASE)
    core_wiring.reset()


def viewer(client: Client, path: str, country: str | None) -> Any:
    headers = {} if country is None else {"CloudFront-Viewer-Country": country}
    return client.http.get(path, headers=headers)


def test_the_setting_is_validated_audited_idempotent_and_per_project(
    tenant: ApiClient, other_tenant: ApiClient
) -> None:
    assert tenant.call("GET", "/playback-geo").json_body == {"mode": "off", "countries": []}
    for body, name in (
        ({"mode": "allow", "countries": ["fr"]}, "countries[0]"),
        ({"mode": "allow", "countries": ["FRA"]}, "countries[0]"),
        ({"mode": "allow", "countries": []}, "countries"),
        ({"mode": "allow"}, "countries"),
        ({"mode": "block", "countries": ["FR"]}, "mode"),
        ({"mode": "deny", "countries": ["FR"], "extra": 1}, "extra"),
        ({"mode": "deny", "countries": ["FR"] * 250}, "countries"),
    ):
        refused = tenant.call("PUT", "/playback-geo", body)
        assert refused.status_code == 400, (body, refused.body)
        assert refused.json_body["status"] == 400 and refused.json_body["type"].startswith("https://")
        assert name in refused.json_body.get("name", ""), refused.json_body
    # A PUT replaces the whole policy: a retry (or the same policy in another order) changes and audits nothing.
    first = tenant.call("PUT", "/playback-geo", {"mode": "deny", "countries": ["RU", "CN", "RU"]})
    again = tenant.call("PUT", "/playback-geo", {"mode": "deny", "countries": ["CN", "RU"]})
    assert first.status_code == 200 and first.json_body == {"mode": "deny", "countries": ["CN", "RU"]}
    assert again.status_code == 200 and again.json_body == first.json_body
    assert tenant.call("PUT", "/playback-geo", {"mode": "off"}).json_body == {"mode": "off", "countries": []}

    audit = tenant.call("GET", f"/audit-events?resourceType=playback_geo&resourceId={tenant.project_id}")
    entries = audit.json_body["data"]
    assert [e["action"] for e in entries] == ["playback_geo.update", "playback_geo.update"]
    changes = {(e["before"]["mode"], e["after"]["mode"], tuple(e["after"]["countries"])) for e in entries}
    assert changes == {("off", "deny", ("CN", "RU")), ("deny", "off", ())}
    # Another project has its own (none), and its change does not touch this one.
    assert other_tenant.call("GET", "/playback-geo").json_body == {"mode": "off", "countries": []}
    other_tenant.call("PUT", "/playback-geo", {"mode": "allow", "countries": ["JP"]})
    assert tenant.call("GET", "/playback-geo").json_body == {"mode": "off", "countries": []}


def test_a_deny_list_refuses_its_countries_on_the_page_data_and_oembed(
    chalice_client: Client, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    video_id = tenant.call("POST", "/videos", {"title": "Match"}).json_body["videoId"]
    unrelated = other_tenant.call("POST", "/videos", {"title": "Elsewhere"}).json_body["videoId"]
    page, data = f"/embed/vod/{video_id}", f"/embed/vod/{video_id}/data"
    oembed = f"/oembed?url={quote(f'{PLAYER_BASE}/vod/{video_id}', safe='')}"
    assert viewer(chalice_client, page, "RU").status_code == 200  # no restriction yet
    tenant.call("PUT", "/playback-geo", {"mode": "deny", "countries": ["RU"]})

    for path in (page, data, oembed):
        refused = viewer(chalice_client, path, "RU")
        assert refused.status_code == 403, (path, refused.body)
        assert refused.json_body["type"].endswith("geo-blocked")
        assert refused.json_body["name"] == "CloudFront-Viewer-Country"
        assert viewer(chalice_client, path, "ru").status_code == 403  # the header is read case-blind
        assert viewer(chalice_client, path, "FR").status_code == 200
        assert viewer(chalice_client, path, None).status_code == 200  # unknown: a deny list admits
    assert denials(tenant.project_id) == {"geo-blocked": 6}
    # Another project's videos are not restricted by it.
    assert viewer(chalice_client, f"/embed/vod/{unrelated}", "RU").status_code == 200
    tenant.call("PUT", "/playback-geo", {"mode": "off", "countries": ["RU"]})
    assert viewer(chalice_client, page, "RU").status_code == 200


def test_an_allow_list_admits_only_its_countries_and_refuses_before_a_token_is_used(
    chalice_client: Client, tenant: ApiClient
) -> None:
    tenant.call("PUT", "/playback-geo", {"mode": "allow", "countries": ["FR", "BE"]})
    public_id = tenant.call("POST", "/videos", {"title": "Licensed"}).json_body["videoId"]
    assert viewer(chalice_client, f"/embed/vod/{public_id}", "BE").status_code == 200
    assert viewer(chalice_client, f"/embed/vod/{public_id}", "US").status_code == 403
    assert viewer(chalice_client, f"/embed/vod/{public_id}", None).status_code == 403  # unknown: refused
    assert viewer(chalice_client, f"/embed/vod/{public_id}", "garbage").status_code == 403

    video_id, assets = private_video(tenant)
    token = token_of(assets["player"])
    # A private video stays unknown to a stranger, wherever they are.
    assert viewer(chalice_client, f"/embed/vod/{video_id}", "US").status_code == 404
    for path in (f"/embed/vod/{video_id}?token={token}", f"/embed/vod/{video_id}/token/{token}/session"):
        assert viewer(chalice_client, path, "US").json_body["type"].endswith("geo-blocked")
    # The refusals did not use the token up: a viewer in France still exchanges it.
    session = viewer(chalice_client, f"/embed/vod/{video_id}/token/{token}/session", "FR")
    assert session.status_code == 200, session.body
    avh = session.json_body["session_token"]
    # A session opened in France is not a pass elsewhere.
    assert viewer(chalice_client, f"/embed/vod/{video_id}/data?avh={avh}", "US").status_code == 403
    assert viewer(chalice_client, f"/embed/vod/{video_id}/data?avh={avh}", "FR").status_code == 200


# -- the country is believed only through the CDN (AWS: the secret origin header) ----------------
ORIGIN_VALUE = "Zq8originsecretvalueofaboutfortyeightcharacters0"


@pytest.fixture
def through_cdn_only(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """As deployed: the origin secret in Secrets Manager, no trust in a client's header; counts the
    secret's reads."""
    arn = boto3.client("secretsmanager").create_secret(Name="videoplane-cdn-origin", SecretString=ORIGIN_VALUE)["ARN"]
    monkeypatch.setenv(resources.CDN_ORIGIN_SECRET_ENV, arn)
    monkeypatch.delenv(resources.TRUST_VIEWER_COUNTRY_ENV, raising=False)
    core_wiring.reset()
    reads = {"count": 0}
    real = config.secretsmanager

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(real(), name)

        def get_secret_value(self, **kwargs: Any) -> Any:
            reads["count"] += kwargs.get("SecretId") == arn
            return real().get_secret_value(**kwargs)

    monkeypatch.setattr(config, "secretsmanager", Counting)
    yield reads
    core_wiring.reset()


def cdn(client: Client, path: str, country: str | None, origin: str | None) -> Any:
    headers = {} if country is None else {"CloudFront-Viewer-Country": country}
    if origin is not None:
        headers[resources.CDN_ORIGIN_HEADER] = origin
    return client.http.get(path, headers=headers)


def test_a_forged_country_off_the_cdn_is_refused_by_a_restricted_project(
    chalice_client: Client, tenant: ApiClient, other_tenant: ApiClient, through_cdn_only: dict[str, int]
) -> None:
    video_id = tenant.call("POST", "/videos", {"title": "Match"}).json_body["videoId"]
    free = other_tenant.call("POST", "/videos", {"title": "Free"}).json_body["videoId"]
    tenant.call("PUT", "/playback-geo", {"mode": "deny", "countries": ["RU"]})
    page = f"/embed/vod/{video_id}"
    # Through CloudFront (the secret header): the country counts.
    assert cdn(chalice_client, page, "FR", ORIGIN_VALUE).status_code == 200
    assert cdn(chalice_client, page, "RU", ORIGIN_VALUE).status_code == 403
    assert cdn(chalice_client, page, None, ORIGIN_VALUE).status_code == 200  # placed nowhere: a deny list admits
    # Straight to the API: a claimed country is not believed, and a restricted project refuses, even
    # under a deny list that an unknown country would pass.
    for origin in (None, "", "guess", ORIGIN_VALUE[:-1]):
        refused = cdn(chalice_client, page, "FR", origin)
        assert refused.status_code == 403 and refused.json_body["type"].endswith("geo-blocked"), origin
    # An unrestricted project's page is the same anywhere.
    assert cdn(chalice_client, f"/embed/vod/{free}", "FR", None).status_code == 200
    # The secret is read once and kept (a function instance's cache), not once per request.
    assert through_cdn_only["count"] == 1
