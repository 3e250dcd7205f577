"""The edge check's store (CloudFront KeyValueStore) from the playback adapter: botocore's Stubber
(types, required members) and the strict model walk (bounds, patterns) for every call; the ETag
dance (IfMatch, ConflictException → read it again) and ClientError codes as domain errors.

moto has no `cloudfront-keyvaluestore`; the client is stubbed, so it never signs (on AWS it signs
with SigV4A, which needs botocore's CRT extra)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.core import ids
from chalicelib.playback.adapters.edge_store import KeyValueStoreEdge
from chalicelib.playback.domain.edge import EdgeStoreUnavailable, private_entry, session_key_entry
from tests.unit import strict_model
from tests.unit.test_ivs_channels import strict_model_name

SERVICE = "cloudfront-keyvaluestore"
ARN = "arn:aws:cloudfront::123456789012:key-value-store/0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
VIDEO = ids.new_id("vi")
SIZES = {"ItemCount": 1, "TotalSizeInBytes": 40}


def client() -> Any:
    # Stubber never sends; the client only needs a region and (unused) credentials.
    return boto3.client(  # type: ignore[call-overload]
        SERVICE, region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit"
    )


def checked(stubber: Stubber, operation: str, response: dict[str, Any], params: dict[str, Any]) -> None:
    assert strict_model.findings(SERVICE, operation, params) == [], params
    stubber.add_response(strict_model_name(operation), response, params)


def describe(stubber: Stubber, etag: str) -> None:
    checked(stubber, "DescribeKeyValueStore", {**SIZES, "KvsARN": ARN, "ETag": etag, "Created": "2026-12-06T09:00:00Z"},
            {"KvsARN": ARN})  # fmt: skip


def test_put_reads_the_etag_once_and_keeps_the_answers_etag() -> None:
    kvs = client()
    with Stubber(kvs) as stubber:
        describe(stubber, "E1")
        checked(stubber, "PutKey", {**SIZES, "ETag": "E2"},
                {"KvsARN": ARN, "Key": private_entry(VIDEO), "Value": "1", "IfMatch": "E1"})  # fmt: skip
        checked(stubber, "DeleteKey", {**SIZES, "ETag": "E3"},
                {"KvsARN": ARN, "Key": private_entry(VIDEO), "IfMatch": "E2"})  # fmt: skip
        store = KeyValueStoreEdge(kvs, ARN)
        store.put(private_entry(VIDEO), "1")
        store.delete(private_entry(VIDEO))
        stubber.assert_no_pending_responses()


def test_a_conflict_reads_the_etag_again_and_retries() -> None:
    kvs = client()
    with Stubber(kvs) as stubber:
        describe(stubber, "E1")
        stubber.add_client_error("put_key", "ConflictException", http_status_code=409)
        describe(stubber, "E5")
        checked(stubber, "PutKey", {**SIZES, "ETag": "E6"},
                {"KvsARN": ARN, "Key": session_key_entry("k2"), "Value": "c2VjcmV0", "IfMatch": "E5"})  # fmt: skip
        KeyValueStoreEdge(kvs, ARN).put(session_key_entry("k2"), "c2VjcmV0")
        stubber.assert_no_pending_responses()


def test_endless_conflicts_give_up() -> None:
    kvs = client()
    with Stubber(kvs) as stubber:
        for attempt in range(3):
            describe(stubber, f"E{attempt}")
            stubber.add_client_error("put_key", "ConflictException", http_status_code=409)
        with pytest.raises(EdgeStoreUnavailable, match="3 attempts"):
            KeyValueStoreEdge(kvs, ARN, attempts=3).put(private_entry(VIDEO), "1")
        stubber.assert_no_pending_responses()


def test_deleting_a_missing_key_is_done() -> None:
    kvs = client()
    with Stubber(kvs) as stubber:
        describe(stubber, "E1")
        stubber.add_client_error("delete_key", "ResourceNotFoundException", http_status_code=404)
        KeyValueStoreEdge(kvs, ARN).delete(private_entry(VIDEO))
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("operation", "code", "status"), [
    ("put_key", "AccessDeniedException", 403),
    ("put_key", "ServiceQuotaExceededException", 402),
    ("put_key", "ValidationException", 400),
    ("describe_key_value_store", "ResourceNotFoundException", 404),
])  # fmt: skip
def test_refusals_become_a_domain_error(operation: str, code: str, status: int) -> None:
    kvs = client()
    with Stubber(kvs) as stubber:
        if operation != "describe_key_value_store":
            describe(stubber, "E1")
        stubber.add_client_error(operation, code, http_status_code=status)
        with pytest.raises(EdgeStoreUnavailable, match=code):
            KeyValueStoreEdge(kvs, ARN).put(private_entry(VIDEO), "1")


def test_entries_fit_the_store_and_the_walker_catches_a_long_key() -> None:
    assert strict_model.findings(SERVICE, "PutKey", {"KvsARN": ARN, "Key": private_entry(VIDEO), "Value": "1",
                                                     "IfMatch": "E1"}) == []  # fmt: skip
    long = {"KvsARN": ARN, "Key": "k" * 1025, "Value": "1", "IfMatch": "E1"}
    assert any(f.startswith("Key") for f in strict_model.findings(SERVICE, "PutKey", long))


def test_put_many_batches_update_keys_and_threads_the_etag() -> None:
    """A project's videos and its policy: UpdateKeys with at most BATCH puts per call, each naming
    the ETag the previous call answered; a conflict on the second batch reads the ETag again."""
    from chalicelib.playback.adapters.edge_store import BATCH
    from chalicelib.playback.domain.edge import geo_project_entry, video_project_entry

    project = ids.new_id("pr")
    entries = {video_project_entry(ids.new_id("vi")): project for _ in range(BATCH)}
    entries[geo_project_entry(project)] = "deny:CN,RU"
    items = [{"Key": key, "Value": value} for key, value in entries.items()]
    kvs = client()
    with Stubber(kvs) as stubber:
        describe(stubber, "E1")
        checked(stubber, "UpdateKeys", {**SIZES, "ETag": "E2"}, {"KvsARN": ARN, "IfMatch": "E1", "Puts": items[:BATCH]})
        stubber.add_client_error("update_keys", "ConflictException", http_status_code=409)
        describe(stubber, "E7")
        checked(stubber, "UpdateKeys", {**SIZES, "ETag": "E8"}, {"KvsARN": ARN, "IfMatch": "E7", "Puts": items[BATCH:]})
        KeyValueStoreEdge(kvs, ARN).put_many(entries)
        stubber.assert_no_pending_responses()


def test_put_many_of_nothing_calls_nothing() -> None:
    kvs = client()
    with Stubber(kvs) as stubber:
        KeyValueStoreEdge(kvs, ARN).put_many({})
        stubber.assert_no_pending_responses()
