"""The CloudFormation custom resource behind private live playback on AWS (infra.live_playback_key):
the stack's P-384 key pair for IVS playback JWTs.

Create and Update *ensure* the pair, and never rotate it: the private key lives in the stack's
secret (PEM); one that already holds a P-384 key is kept, else a new key is generated and written
there (PutSecretValue, keyed by CloudFormation's request id, so a retried request writes once).
The public half is imported into IVS (ImportPlaybackKeyPair) under a name derived from it
(`<prefix>-<16 hex of SHA-256 of the public key>`), found again by that name (ListPlaybackKeyPairs)
when it is already there: a retry, an update, or a stack whose pair was imported before. The
physical id is the pair's ARN. Delete removes the pair (DeletePlaybackKeyPair; one already gone
counts) and, when the whole stack is being deleted (DescribeStacks), every pair of its name prefix
(a rotated key's, infra/keys_live.py); it leaves the secret, which the stack retains.

Neither key is in the template or in the response: CloudFormation sees the secret's ARN, the name
prefix and the pair's ARN. The module runs alone in its Lambda function (infra.live_playback_key
zips it beside the app's wheels): boto3, cryptography and the standard library only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import urllib.request
from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

KEY_PAIR_ARN = "KeyPairArn"
# CloudFormation's custom resource protocol: the response is a PUT of this JSON to the presigned URL.
SUCCESS, FAILED = "SUCCESS", "FAILED"
NAME_HASH_CHARS = 16
LIST_PAGE_SIZE = 100


def handler(
    event: dict[str, Any], context: Any, secrets: Any = None, ivs: Any = None, cloudformation: Any = None
) -> None:
    """Lambda's entry point: does the request and always answers CloudFormation (a failure too,
    or the stack would wait an hour for the response)."""
    physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    try:
        secrets, ivs = secrets or _client("secretsmanager"), ivs or _client("ivs")
        physical_id = respond_to(event, secrets, ivs, cloudformation)
        status, reason = SUCCESS, "done"
    except Exception as error:
        logger.exception("playback key pair %s failed", event.get("RequestType"))
        status, reason = FAILED, f"{type(error).__name__}: {error}"[:500]
    send(event, status, reason, physical_id)


def respond_to(event: dict[str, Any], secrets: Any, ivs: Any, cloudformation: Any = None) -> str:
    """The request's work; returns the physical id."""
    properties = event["ResourceProperties"]
    if event["RequestType"] == "Delete":
        delete_pair(ivs, event.get("PhysicalResourceId", ""))
        # After a rotation (infra/keys_live.py) the physical id names the retired pair, and the
        # pair in use is unknown to CloudFormation: the stack's delete sweeps every pair it named.
        # Not on the Delete that follows an update moving to the rotated pair (the stack lives on).
        if stack_deleting(cloudformation or _client("cloudformation"), event["StackId"]):
            for arn in stack_pairs(ivs, properties["NamePrefix"]).values():
                delete_pair(ivs, arn)
        return str(event.get("PhysicalResourceId", ""))
    return ensure_pair(secrets, ivs, properties["SecretId"], properties["NamePrefix"], event["RequestId"])


def stack_deleting(cloudformation: Any, stack_id: str) -> bool:
    (stack,) = cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
    return str(stack["StackStatus"]) == "DELETE_IN_PROGRESS"


def stack_pairs(ivs: Any, prefix: str) -> dict[str, str]:
    """The imported pairs named as this provider names them (`<prefix>-<16 hex>`), name → ARN."""
    pairs: dict[str, str] = {}
    for pair in listed_pairs(ivs):
        name = str(pair.get("name", ""))
        suffix = name.removeprefix(f"{prefix}-")
        if suffix != name and len(suffix) == NAME_HASH_CHARS:
            pairs[name] = str(pair["arn"])
    return pairs


def ensure_pair(secrets: Any, ivs: Any, secret_id: str, prefix: str, request_id: str) -> str:
    """The ARN of the imported pair whose private half is in the secret (made if need be)."""
    key = stored_key(secrets, secret_id)
    if key is None:
        key = ec.generate_private_key(ec.SECP384R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()  # fmt: skip
        secrets.put_secret_value(SecretId=secret_id, SecretString=pem, ClientRequestToken=request_id)
        logger.info("generated the live playback key")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    name = pair_name(prefix, public_pem)
    arn = find_pair(ivs, name)
    if arn is None:
        try:
            arn = ivs.import_playback_key_pair(publicKeyMaterial=public_pem, name=name)["keyPair"]["arn"]
        except ivs.exceptions.ConflictException:
            arn = find_pair(ivs, name)  # imported meanwhile (a concurrent retry)
            if arn is None:
                raise
    return str(arn)


def stored_key(secrets: Any, secret_id: str) -> ec.EllipticCurvePrivateKey | None:
    """The secret's P-384 private key, or None while it holds the placeholder the stack created."""
    value = secrets.get_secret_value(SecretId=secret_id).get("SecretString", "")
    if "-----BEGIN" not in value:
        return None
    key = serialization.load_pem_private_key(value.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp384r1":
        # Never overwrite what someone put there: a wrong key is an operator's to fix.
        raise ValueError("the live playback key secret holds a key that is not EC P-384")
    return key


def name_prefix(stack_name: str) -> str:
    """The prefix of a stack's pair names (the custom resource's `NamePrefix`, infra/keys_live.py)."""
    return f"{stack_name}-live"


def pair_name(prefix: str, public_pem: str) -> str:
    """IVS's name of the pair: the same key always gets the same name (names are not unique in IVS)."""
    digest = hashlib.sha256(public_pem.encode()).hexdigest()[:NAME_HASH_CHARS]
    return f"{prefix[: 128 - NAME_HASH_CHARS - 1]}-{digest}"


def find_pair(ivs: Any, name: str) -> str | None:
    return next((str(pair["arn"]) for pair in listed_pairs(ivs) if pair.get("name") == name), None)


def listed_pairs(ivs: Any) -> Iterator[dict[str, Any]]:
    """Every imported pair, page by page (the next page read only when wanted)."""
    token: str | None = None
    while True:
        page = ivs.list_playback_key_pairs(maxResults=LIST_PAGE_SIZE, **({"nextToken": token} if token else {}))
        yield from page.get("keyPairs", [])
        token = page.get("nextToken")
        if not token:
            return


def delete_pair(ivs: Any, physical_id: str) -> None:
    """A create that failed has the logical id as its physical id: nothing was imported."""
    if ":playback-key/" not in physical_id:
        return
    with contextlib.suppress(ivs.exceptions.ResourceNotFoundException):
        ivs.delete_playback_key_pair(arn=physical_id)


def send(event: dict[str, Any], status: str, reason: str, physical_id: str) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": True,
            "Data": {KEY_PAIR_ARN: physical_id} if status == SUCCESS else {},
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def _client(service: str) -> Any:
    import boto3

    return boto3.client(service)  # type: ignore[call-overload]
