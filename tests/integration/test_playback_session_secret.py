"""Playback session keys from Secrets Manager (how a deployed stack runs; the devstack uses a fixed
key): the daily rotation function writes the secret and the edge's copy, the embed page signs with
the secret's signing key, and a session opened before a rotation keeps working after it."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.playback import wiring
from chalicelib.playback.consumers.session_keys import rotate_playback_session_keys
from chalicelib.playback.domain.edge import encode_secret, private_entry, session_key_entry
from chalicelib.playback.domain.session_keys import KeyState, SessionKeySet
from devstack.ivsplane import IvsPlane
from infra import keys
from tests.integration.conftest import ApiClient
from tests.integration.test_edge_privacy import MemoryStore
from tests.integration.test_embed_api import page_config, public_get
from tests.integration.test_live_streams_api import create as create_live_stream
from tests.integration.test_live_streams_api import ivs as ivs  # noqa: PLC0414 - the fixture
from tests.integration.test_private_playback import private_video, token_of

SCHEDULED: dict[str, Any] = {
    "version": "0",
    "id": "5e6f7a8b-0000-4000-8000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-06T03:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/rotate"],
    "detail": {},
}


@pytest.fixture
def edge(aws: None, monkeypatch: pytest.MonkeyPatch) -> MemoryStore:
    """The secret as the stack creates it (an empty key set and a filler), named in the functions'
    environment instead of the devstack's fixed key; the edge's store in memory."""
    arn = boto3.client("secretsmanager").create_secret(
        Name="videoplane-playback-session-keys", SecretString=json.dumps({"keys": [], "filler": "x1"})
    )["ARN"]
    monkeypatch.setenv(resources.PLAYBACK_SESSION_SECRET_ENV, arn)
    monkeypatch.delenv(resources.PLAYBACK_SESSION_KEYS_ENV, raising=False)
    core_wiring.reset()
    store = MemoryStore()
    monkeypatch.setattr(wiring, "edge_store", lambda: store)
    return store


def stored_keys() -> SessionKeySet:
    secret_id = core_wiring.settings().playback_session_secret_id
    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    return SessionKeySet.from_json(json.loads(value))


def session_of(chalice_client: Client, video_id: str, token: str) -> str:
    page = public_get(chalice_client, f"/embed/vod/{video_id}?token={token}")
    assert page.status_code == 200, page.body
    return str(page_config(page)["hls"]).split("/token/")[1].split("/")[0]


def test_without_keys_a_private_token_cannot_open_a_session(
    chalice_client: Client, tenant: ApiClient, edge: MemoryStore
) -> None:
    video_id, assets = private_video(tenant)
    refused = public_get(chalice_client, f"/embed/vod/{video_id}?token={token_of(assets['player'])}")
    assert refused.status_code == 403 and refused.json_body["name"] == "token"


def test_rotation_fills_the_secret_and_the_edge_and_sessions_survive_it(
    chalice_client: Client, tenant: ApiClient, edge: MemoryStore
) -> None:
    rotate_playback_session_keys(SCHEDULED, None)
    keys = stored_keys()
    assert [stored.state for stored in keys.keys] == [KeyState.SIGNING, KeyState.PENDING]
    assert edge.entries == {session_key_entry(k.kid): encode_secret(k.secret) for k in keys.verifying()}

    video_id, assets = private_video(tenant)
    session = session_of(chalice_client, video_id, token_of(assets["player"]))
    assert keys.signing is not None and session.startswith(f"{keys.signing.key.kid}.")

    rotate_playback_session_keys(SCHEDULED, None)
    core_wiring.reset()  # a function started after the rotation (others pick it up within 5 minutes)
    assert wiring.edge_store() is edge  # still the fixture's store: reset() clears caches only
    rotated = stored_keys()
    assert rotated.signing is not None and rotated.signing.key == keys.keys[1].key  # the pending key
    # The session signed with the retired key still opens the video's data ...
    data = public_get(chalice_client, f"/embed/vod/{video_id}/data?avh={session}")
    assert data.status_code == 200, data.body
    # ... and new sessions are signed with the promoted key, which the edge already has.
    fresh = session_of(
        chalice_client, video_id, token_of(tenant.call("GET", f"/videos/{video_id}").json_body["assets"]["player"])
    )
    assert fresh.startswith(f"{rotated.signing.key.kid}.")
    assert set(edge.entries) == {session_key_entry(kid) for kid in rotated.kids()}


def test_the_deploy_seeds_the_keys_and_lists_existing_private_videos_at_the_edge(
    ivs: IvsPlane, tenant: ApiClient, edge: MemoryStore
) -> None:
    """`python -m infra.keys edge` (make deploy): a stack whose private videos and live streams
    predate its store."""
    private, _ = private_video(tenant)
    tenant.call("POST", "/videos", {"title": "Public"})
    private_live = create_live_stream(tenant, public=False)["liveStreamId"]
    create_live_stream(tenant)
    kvs = boto3.client(
        "cloudfront-keyvaluestore", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    arn = "arn:aws:cloudfront::123456789012:key-value-store/0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
    sizes = {"ItemCount": 1, "TotalSizeInBytes": 60}
    settings = core_wiring.settings()
    with Stubber(kvs) as stubber:
        stubber.add_response(
            "describe_key_value_store", {**sizes, "KvsARN": arn, "ETag": "E1", "Created": "2026-12-06T09:00:00Z"},
            {"KvsARN": arn},
        )  # fmt: skip
        for etag in ("E1", "E2"):  # the signing and the pending key, before the secret names them
            stubber.add_response("put_key", {**sizes, "ETag": f"E{int(etag[1]) + 1}"},
                                 {"KvsARN": arn, "Key": ANY, "Value": ANY, "IfMatch": etag})  # fmt: skip
        stubber.add_response("put_key", {**sizes, "ETag": "E4"},
                             {"KvsARN": arn, "Key": private_entry(private), "Value": "1", "IfMatch": "E3"})  # fmt: skip
        live_entry = {"KvsARN": arn, "Key": private_entry(private_live), "Value": "1", "IfMatch": "E4"}
        stubber.add_response("put_key", {**sizes, "ETag": "E5"}, live_entry)
        listed = keys.seed_edge(
            settings.playback_session_secret_id, arn, settings.table_name,
            boto3.client("secretsmanager"), kvs, boto3.client("dynamodb"),
        )  # fmt: skip
        stubber.assert_no_pending_responses()
    assert listed == (1, 1)
    assert stored_keys().signing is not None
