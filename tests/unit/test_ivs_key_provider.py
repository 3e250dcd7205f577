"""The custom resource that makes the stack's IVS playback key pair (infra/ivs_key_provider.py):
Secrets Manager on moto, IVS through botocore's Stubber and the strict model walk, and its answers
to CloudFormation as the PUTs it sends."""

from __future__ import annotations

import contextlib
import io
import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import jwt
import pytest
from botocore.stub import Stubber
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from moto import mock_aws

from chalicelib.playback.domain import ivs_tokens
from infra import ivs_key_provider
from tests.unit import strict_model

PAIR = "arn:aws:ivs:us-east-1:123456789012:playback-key/AbCdEf123456"
PREFIX = "videoplane-live"
REQUEST_ID = "5f0c1e0a-8d53-4a0e-9bd0-3b7f2d1c9a01"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")


@pytest.fixture
def secret_id(secrets: Any) -> str:
    # As the stack creates it: a generated placeholder.
    return str(secrets.create_secret(Name="live-playback-key", SecretString="Zx81placeholder0000")["ARN"])


class Responses:
    """CloudFormation's presigned URL: each PUT the handler sends (unit tests open no socket)."""

    url = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=y"

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def urlopen(self, request: urllib.request.Request, timeout: float) -> Any:
        assert request.full_url == self.url and request.get_method() == "PUT" and timeout > 0
        assert request.get_header("Content-type") == ""  # the presigned URL is signed without one
        assert isinstance(request.data, bytes)
        self.bodies.append(json.loads(request.data))
        return contextlib.nullcontext(io.BytesIO(b""))


@pytest.fixture
def responses(monkeypatch: pytest.MonkeyPatch) -> Responses:
    found = Responses()
    monkeypatch.setattr(ivs_key_provider.urllib.request, "urlopen", found.urlopen)
    return found


def ivs() -> Any:
    return boto3.client("ivs", region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit")


def checked(stubber: Stubber, operation: str, response: dict[str, Any], params: dict[str, Any]) -> None:
    if not isinstance(params, ImportOf):
        assert strict_model.findings("ivs", operation, params) == [], params
    stubber.add_response(
        "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_"), response, params
    )


class Kept:
    """Equal to any value, which it keeps."""

    value: Any = None

    def __eq__(self, other: object) -> bool:
        self.value = other
        return True

    __hash__ = None  # type: ignore[assignment]


class ImportOf(dict[str, Any]):
    """The ImportPlaybackKeyPair request, whatever key it carries (made inside the call), kept to be
    checked after: against the model's strict walk and the secret."""

    def __init__(self) -> None:
        super().__init__(publicKeyMaterial=Kept(), name=Kept())

    @property
    def params(self) -> dict[str, Any]:
        found = {k: v.value for k, v in self.items()}
        assert strict_model.findings("ivs", "ImportPlaybackKeyPair", found) == [], found
        return found


def event(request_type: str, secret_id: str, url: str, physical_id: str | None = None) -> dict[str, Any]:
    found = {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/videoplane/1",
        "RequestId": REQUEST_ID,
        "LogicalResourceId": "LivePlaybackKeyKeyPair",
        "ResourceType": "Custom::IvsPlaybackKeyPair",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", "SecretId": secret_id, "NamePrefix": PREFIX},
    }
    if physical_id is not None:
        found["PhysicalResourceId"] = physical_id
    return found


def pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem_of(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def versions(secrets: Any, secret_id: str) -> int:
    return len(secrets.list_secret_version_ids(SecretId=secret_id)["Versions"])


def test_create_makes_a_key_keeps_it_in_the_secret_and_imports_its_public_half(
    secrets: Any, secret_id: str, responses: Responses
) -> None:
    client = ivs()
    imported = ImportOf()
    with Stubber(client) as stubber:
        checked(stubber, "ListPlaybackKeyPairs", {"keyPairs": []}, {"maxResults": 100})
        checked(stubber, "ImportPlaybackKeyPair", {"keyPair": {"arn": PAIR, "name": "n"}}, imported)
        ivs_key_provider.handler(event("Create", secret_id, responses.url), None, secrets, client)
        stubber.assert_no_pending_responses()
    (answer,) = responses.bodies
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == PAIR
    assert answer["Data"] == {"KeyPairArn": PAIR} and answer["RequestId"] == REQUEST_ID
    # The private key went to the secret, never into the answer.
    private_pem = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    assert "PRIVATE KEY" not in json.dumps(answer)
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1"
    assert imported.params["publicKeyMaterial"] == public_pem_of(key)
    assert imported.params["name"] == ivs_key_provider.pair_name(PREFIX, public_pem_of(key))
    assert imported.params["name"].startswith(f"{PREFIX}-")
    # What the app signs with that secret verifies with what IVS was given.
    token = ivs_tokens.ivs_token("arn:aws:ivs:us-east-1:1:channel/x", private_pem, datetime.now(UTC))
    public_key = serialization.load_pem_public_key(imported.params["publicKeyMaterial"].encode())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    claims = jwt.decode(token, public_key, algorithms=["ES384"])
    assert claims[ivs_tokens.CHANNEL_CLAIM] == "arn:aws:ivs:us-east-1:1:channel/x"


def test_update_keeps_the_key_and_finds_the_pair_by_its_name(
    secrets: Any, secret_id: str, responses: Responses
) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    secrets.put_secret_value(SecretId=secret_id, SecretString=pem_of(key))
    before = versions(secrets, secret_id)
    name = ivs_key_provider.pair_name(PREFIX, public_pem_of(key))
    client = ivs()
    with Stubber(client) as stubber:
        other = {"arn": PAIR.replace("AbCdEf", "OtHeR0"), "name": "someone-else"}
        checked(stubber, "ListPlaybackKeyPairs", {"keyPairs": [other], "nextToken": "page2"}, {"maxResults": 100})
        listed = {"keyPairs": [{"arn": PAIR, "name": name}]}
        checked(stubber, "ListPlaybackKeyPairs", listed, {"maxResults": 100, "nextToken": "page2"})
        ivs_key_provider.handler(event("Update", secret_id, responses.url, PAIR), None, secrets, client)
        stubber.assert_no_pending_responses()
    assert responses.bodies[0]["Status"] == "SUCCESS" and responses.bodies[0]["PhysicalResourceId"] == PAIR
    assert secrets.get_secret_value(SecretId=secret_id)["SecretString"] == pem_of(key)
    assert versions(secrets, secret_id) == before  # nothing written: never rotated by an update


def test_a_pair_deleted_out_of_band_is_imported_again_with_the_same_key(
    secrets: Any, secret_id: str, responses: Responses
) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    secrets.put_secret_value(SecretId=secret_id, SecretString=pem_of(key))
    client = ivs()
    with Stubber(client) as stubber:
        checked(stubber, "ListPlaybackKeyPairs", {"keyPairs": []}, {"maxResults": 100})
        request = {
            "publicKeyMaterial": public_pem_of(key),
            "name": ivs_key_provider.pair_name(PREFIX, public_pem_of(key)),
        }
        checked(stubber, "ImportPlaybackKeyPair", {"keyPair": {"arn": PAIR}}, request)
        ivs_key_provider.handler(event("Update", secret_id, responses.url, PAIR), None, secrets, client)
        stubber.assert_no_pending_responses()
    assert responses.bodies[0]["Status"] == "SUCCESS"
    assert secrets.get_secret_value(SecretId=secret_id)["SecretString"] == pem_of(key)


def test_a_retried_create_reuses_the_key_its_first_attempt_wrote(secrets: Any, secret_id: str) -> None:
    client = ivs()
    first = ImportOf()
    with Stubber(client) as stubber:
        checked(stubber, "ListPlaybackKeyPairs", {"keyPairs": []}, {"maxResults": 100})
        checked(stubber, "ImportPlaybackKeyPair", {"keyPair": {"arn": PAIR}}, first)
        checked(stubber, "ListPlaybackKeyPairs", {"keyPairs": []}, {"maxResults": 100})
        # The first import's pair is not listed yet: IVS refuses the same key again, then lists it.
        stubber.add_client_error("import_playback_key_pair", "ConflictException", http_status_code=409)
        ivs_key_provider.ensure_pair(secrets, client, secret_id, PREFIX, REQUEST_ID)
        name = first.params["name"]
        checked(stubber, "ListPlaybackKeyPairs", {"keyPairs": [{"arn": PAIR, "name": name}]}, {"maxResults": 100})
        assert ivs_key_provider.ensure_pair(secrets, client, secret_id, PREFIX, REQUEST_ID) == PAIR
        stubber.assert_no_pending_responses()
    assert versions(secrets, secret_id) == 2  # the placeholder and the one key


def stacks() -> Any:
    return boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit"
    )


def stack_status(stubber: Stubber, status: str) -> None:
    stack = {"StackName": "videoplane", "CreationTime": datetime(2026, 12, 1, tzinfo=UTC), "StackStatus": status}
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": event("Delete", "", "")["StackId"]})


def test_delete_removes_the_pair_and_leaves_the_secret(secrets: Any, secret_id: str, responses: Responses) -> None:
    client, cloudformation = ivs(), stacks()
    with Stubber(client) as stubber, Stubber(cloudformation) as stack_stubber:
        # The Delete that follows an update moving to another pair (the stack lives on).
        checked(stubber, "DeletePlaybackKeyPair", {}, {"arn": PAIR})
        stack_status(stack_stubber, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        ivs_key_provider.handler(event("Delete", secret_id, responses.url, PAIR), None, secrets, client, cloudformation)
        # Already gone: done.
        stubber.add_client_error("delete_playback_key_pair", "ResourceNotFoundException", http_status_code=404)
        stack_status(stack_stubber, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        ivs_key_provider.handler(event("Delete", secret_id, responses.url, PAIR), None, secrets, client, cloudformation)
        # A create that failed left no pair: no IVS call at all.
        stack_status(stack_stubber, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        ivs_key_provider.handler(
            event("Delete", secret_id, responses.url, "LivePlaybackKeyKeyPair"), None, secrets, client, cloudformation
        )
        stubber.assert_no_pending_responses()
        stack_stubber.assert_no_pending_responses()
    assert [body["Status"] for body in responses.bodies] == ["SUCCESS"] * 3
    assert [body["PhysicalResourceId"] for body in responses.bodies] == [PAIR, PAIR, "LivePlaybackKeyKeyPair"]
    assert secrets.get_secret_value(SecretId=secret_id)["SecretString"].startswith("Zx81")


def test_a_secret_holding_another_kind_of_key_fails_the_deploy_and_is_left_alone(
    secrets: Any, secret_id: str, responses: Responses
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    secrets.put_secret_value(SecretId=secret_id, SecretString=other_pem)
    client = ivs()
    with Stubber(client) as stubber:
        ivs_key_provider.handler(event("Create", secret_id, responses.url), None, secrets, client)
        stubber.assert_no_pending_responses()
    (answer,) = responses.bodies
    assert answer["Status"] == "FAILED" and "not EC P-384" in answer["Reason"]
    assert answer["PhysicalResourceId"] == "LivePlaybackKeyKeyPair" and answer["Data"] == {}
    assert secrets.get_secret_value(SecretId=secret_id)["SecretString"] == other_pem


def test_pair_names_fit_ivs_and_name_the_key() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    name = ivs_key_provider.pair_name("x" * 300, public_pem_of(key))
    assert (
        len(name) == 128
        and strict_model.findings("ivs", "ImportPlaybackKeyPair", {"publicKeyMaterial": "k", "name": name}) == []
    )
    assert name == ivs_key_provider.pair_name("x" * 300, public_pem_of(key))
    assert name != ivs_key_provider.pair_name("x" * 300, public_pem_of(ec.generate_private_key(ec.SECP384R1())))
    # Smithy patterns are unanchored (the walker searches); IVS means the whole name.
    assert re.fullmatch("[a-zA-Z0-9-_]{1,128}", name) and re.fullmatch("[a-zA-Z0-9-_]*", f"{PREFIX}-0a")


ROTATED = "arn:aws:ivs:us-east-1:123456789012:playback-key/Rotated00001"


def test_the_stacks_delete_also_deletes_a_rotated_pair(secrets: Any, secret_id: str, responses: Responses) -> None:
    """After a rotation (infra/keys_live.py) the physical id names the retired pair: the stack's
    delete sweeps the pairs named with its prefix, and leaves others' alone."""
    client, cloudformation = ivs(), stacks()
    rotated = {"arn": ROTATED, "name": f"{PREFIX}-0123456789abcdef"}
    others = [
        {"arn": "arn:aws:ivs:us-east-1:123456789012:playback-key/Other0000002", "name": f"{PREFIX}-2-0123456789abcdef"},
        {"arn": "arn:aws:ivs:us-east-1:123456789012:playback-key/Manual000003", "name": f"{PREFIX}-manual"},
    ]
    with Stubber(client) as stubber, Stubber(cloudformation) as stack_stubber:
        stubber.add_client_error("delete_playback_key_pair", "ResourceNotFoundException", http_status_code=404)
        stack_status(stack_stubber, "DELETE_IN_PROGRESS")
        checked(stubber, "ListPlaybackKeyPairs", {"keyPairs": others, "nextToken": "p2"}, {"maxResults": 100})
        checked(stubber, "ListPlaybackKeyPairs", {"keyPairs": [rotated]}, {"maxResults": 100, "nextToken": "p2"})
        checked(stubber, "DeletePlaybackKeyPair", {}, {"arn": ROTATED})
        ivs_key_provider.handler(event("Delete", secret_id, responses.url, PAIR), None, secrets, client, cloudformation)
        stubber.assert_no_pending_responses()
        stack_stubber.assert_no_pending_responses()
    assert [body["Status"] for body in responses.bodies] == ["SUCCESS"]
