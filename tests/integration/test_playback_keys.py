"""Playback signing keys and playback JWTs through the Chalice app on moto: a tenant's backend
signs with the private key it was shown once (PyJWT here, as a backend would), the page verifies
against the project's keys, and revocation stops the key at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.core.clock import utc_now
from tests.integration.conftest import ApiClient
from tests.integration.test_embed_api import PLAYER_BASE, page_config, public_get
from tests.integration.test_private_playback import denials, private_video

EMBEDDER = "https://shop.example"


@pytest.fixture(autouse=True)
def player_base(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.PLAYER_BASE_URL_ENV, PLAYER_BASE)
    core_wiring.reset()


def new_key(tenant: ApiClient) -> dict[str, Any]:
    response = tenant.call("POST", "/playback-keys")
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def sign(key: dict[str, Any], video_id: str, lifetime: timedelta = timedelta(minutes=5), **claims: Any) -> str:
    payload = {"sub": video_id, "exp": int((utc_now() + lifetime).timestamp()), **claims}
    return jwt.encode(payload, key["privateKey"], algorithm="ES256", headers={"kid": key["playbackKeyId"]})


def page(client: Client, video_id: str, token: str, referer: str | None = None) -> Any:
    return client.http.get(f"/embed/vod/{video_id}?token={token}", headers={"referer": referer} if referer else {})


def test_keys_are_created_listed_published_and_revoked(chalice_client: Client, tenant: ApiClient) -> None:
    first, second = new_key(tenant), new_key(tenant)
    assert first["privateKey"].startswith("-----BEGIN PRIVATE KEY-----")
    assert first["publicKey"]["kid"] == first["playbackKeyId"] and first["publicKey"]["alg"] == "ES256"
    listed = tenant.call("GET", "/playback-keys").json_body["data"]
    assert [k["playbackKeyId"] for k in listed] == [first["playbackKeyId"], second["playbackKeyId"]]
    assert all("privateKey" not in k for k in listed)
    jwks = public_get(chalice_client, f"/.well-known/playback-jwks/{tenant.project_id}").json_body
    assert [k["kid"] for k in jwks["keys"]] == [first["playbackKeyId"], second["playbackKeyId"]]
    # A verifier that only has the JWKS accepts the backend's token (what the edge could do).
    token = sign(first, "vi" + "0" * 22)
    public = jwt.PyJWK(jwks["keys"][0])
    assert jwt.decode(token, public, algorithms=["ES256"])["sub"] == "vi" + "0" * 22

    assert tenant.call("DELETE", f"/playback-keys/{first['playbackKeyId']}").status_code == 204
    assert tenant.call("DELETE", f"/playback-keys/{first['playbackKeyId']}").status_code == 404
    jwks = public_get(chalice_client, f"/.well-known/playback-jwks/{tenant.project_id}").json_body
    assert [k["kid"] for k in jwks["keys"]] == [second["playbackKeyId"]]
    audited = tenant.call("GET", f"/audit-events?resourceType=playback_key&resourceId={first['playbackKeyId']}")
    assert sorted(e["action"] for e in audited.json_body["data"]) == ["playback_key.create", "playback_key.delete"]


def test_at_most_five_keys(tenant: ApiClient) -> None:
    for _ in range(5):
        new_key(tenant)
    refused = tenant.call("POST", "/playback-keys")
    assert refused.status_code == 400 and refused.json_body["type"].endswith("invalid-payload")


def test_a_signed_jwt_plays_a_private_video_until_it_expires_or_its_key_goes(
    chalice_client: Client, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    video_id, _ = private_video(tenant)
    key = new_key(tenant)
    token = sign(key, video_id)
    for _ in range(2):  # not single use: valid until `exp`
        response = page(chalice_client, video_id, token)
        assert response.status_code == 200, response.body
    assert "/token/" in page_config(response)["hls"]

    expired = sign(key, video_id, lifetime=timedelta(seconds=-1))
    other_video, _ = private_video(tenant)
    foreign_key = new_key(other_tenant)
    forged = sign({**foreign_key, "playbackKeyId": key["playbackKeyId"]}, video_id)
    for bad, reason in (
        (expired, "expired"),
        (sign(key, other_video), "other-video"),
        (forged, "bad-signature"),
        (sign(foreign_key, video_id), "unknown-key"),
        ("a.b.c", "malformed-token"),
    ):
        refused = page(chalice_client, video_id, bad)
        assert refused.status_code == 403, (reason, refused.body)
    counted = denials(tenant.project_id)
    for reason in ("expired", "other-video", "bad-signature", "unknown-key", "malformed-token"):
        assert counted.get(reason) == 1, counted

    tenant.call("DELETE", f"/playback-keys/{key['playbackKeyId']}")
    assert page(chalice_client, video_id, token).status_code == 403


def test_aud_limits_the_embedding_sites(chalice_client: Client, tenant: ApiClient) -> None:
    video_id, _ = private_video(tenant)
    key = new_key(tenant)
    token = sign(key, video_id, aud=[EMBEDDER])
    assert page(chalice_client, video_id, token, referer=f"{EMBEDDER}/products/1").status_code == 200
    for referer in ("https://evil.example/", None, "https://shop.example.evil.example/"):
        refused = page(chalice_client, video_id, token, referer=referer)
        assert refused.status_code == 403 and refused.json_body["detail"].startswith("This video may not be embedded")
    assert denials(tenant.project_id) == {"referrer-not-allowed": 3}
