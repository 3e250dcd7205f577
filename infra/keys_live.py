"""Rotating the IVS playback key of private live streams (docs/live.md, "The playback key on AWS").

    python -m infra.keys_live rotate [--stack videoplane] [--secret-id ARN] [--wait]
    python -m infra.keys_live retire [--stack videoplane] [--secret-id ARN]

The stack's custom resource (infra/ivs_key_provider.py) makes the key once and never rotates it.
IVS verifies a playback JWT with any imported pair, so a rotation overlaps the two keys:

1. `rotate` imports the public half of a new P-384 key into IVS (ImportPlaybackKeyPair), named as
   the provider names pairs (`<stack>-live-<16 hex of SHA-256>`, so a later deploy finds it), then
   puts the new PEM in the secret (PutSecretValue). JWTs signed with either key now play.
2. The functions that sign re-read the secret within `LIVE_PLAYBACK_KEY_CACHE` (5 minutes), and a
   JWT lives `IVS_TOKEN_TTL` (10 minutes): after `RETIRE_AFTER` from the secret's new version, no
   valid JWT is signed with the old key any more.
3. `retire` deletes every pair of the stack's name prefix but the one of the key in the secret
   (DeletePlaybackKeyPair): the old pair, and a pair left by a `rotate` that failed before it wrote
   the secret. It refuses before `RETIRE_AFTER` has passed since the secret's version was written.
   `rotate --wait` sleeps that long and retires.

`rotate` refuses while the prefix has more than one pair (a rotation not retired yet): IVS allows
few pairs per account and region. Uses the caller's AWS credentials (ivs:ImportPlaybackKeyPair,
ListPlaybackKeyPairs, DeletePlaybackKeyPair; secretsmanager:GetSecretValue, PutSecretValue).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.playback.domain.ivs_tokens import IVS_TOKEN_TTL, LIVE_PLAYBACK_KEY_CACHE
from infra import ivs_key_provider
from infra.app import DEFAULT_STACK_NAME
from infra.keys import secret_arn

SECRET_OUTPUT = "LivePlaybackKeySecretArn"
# Clocks differ a little between IVS, Lambda and this machine.
RETIRE_AFTER = IVS_TOKEN_TTL + LIVE_PLAYBACK_KEY_CACHE + timedelta(minutes=1)


class RotationRefused(Exception):
    """The rotation step cannot run now; the message says why and what to do."""


@dataclass(frozen=True)
class Rotation:
    new_pair: str
    old_pair: str | None
    retire_at: datetime


def rotate(secrets: Any, ivs: Any, secret_id: str, prefix: str, now: datetime) -> Rotation:
    """Steps 1 of the rotation: the new pair imported, then its private half in the secret."""
    current = ivs_key_provider.stored_key(secrets, secret_id)
    if current is None:
        raise RotationRefused("the secret holds no key yet: deploy the stack first")
    pairs = ivs_key_provider.stack_pairs(ivs, prefix)
    if len(pairs) > 1:
        raise RotationRefused(f"{len(pairs)} key pairs are imported: run `retire` first")
    old_pair = pairs.get(ivs_key_provider.pair_name(prefix, public_pem(current)))
    key = ec.generate_private_key(ec.SECP384R1())
    name = ivs_key_provider.pair_name(prefix, public_pem(key))
    new_pair = ivs.import_playback_key_pair(publicKeyMaterial=public_pem(key), name=name)["keyPair"]["arn"]
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    # Written after the import: a JWT signed with the new key must never meet IVS without its pair.
    secrets.put_secret_value(SecretId=secret_id, SecretString=pem, ClientRequestToken=str(uuid.uuid4()))
    return Rotation(new_pair=str(new_pair), old_pair=old_pair, retire_at=now + RETIRE_AFTER)


def retire(secrets: Any, ivs: Any, secret_id: str, prefix: str, now: datetime) -> list[str]:
    """Step 3: deletes the prefix's pairs other than the secret's key's; returns their ARNs."""
    stored = secrets.get_secret_value(SecretId=secret_id)
    written = stored["CreatedDate"]
    if now < written + RETIRE_AFTER:
        raise RotationRefused(f"the key was replaced at {written:%H:%M:%S %Z}: retire after {written + RETIRE_AFTER}")
    current = ivs_key_provider.stored_key(secrets, secret_id)
    if current is None:
        raise RotationRefused("the secret holds no key: nothing to keep, nothing retired")
    keep = ivs_key_provider.pair_name(prefix, public_pem(current))
    pairs = ivs_key_provider.stack_pairs(ivs, prefix)
    if keep not in pairs:
        # Never leave the stack without the pair that verifies what the functions sign.
        raise RotationRefused(f"the secret's key has no pair ({keep}): run a deploy to import it")
    retired = [arn for name, arn in pairs.items() if name != keep]
    for arn in retired:
        ivs_key_provider.delete_pair(ivs, arn)
    return retired


def public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["rotate", "retire"])
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME, help="CloudFormation stack name")
    parser.add_argument("--secret-id", help=f"the secret's ARN (default: the stack's {SECRET_OUTPUT} output)")
    parser.add_argument("--wait", action="store_true", help="rotate, wait until the old key can go, retire it")
    args = parser.parse_args(argv)
    import boto3  # region and credentials: the caller's usual AWS configuration

    secret_id = args.secret_id or secret_arn(args.stack, boto3.client("cloudformation"), SECRET_OUTPUT)
    secrets, ivs = boto3.client("secretsmanager"), boto3.client("ivs")
    prefix = ivs_key_provider.name_prefix(args.stack)
    try:
        if args.command == "rotate":
            rotation = rotate(secrets, ivs, secret_id, prefix, datetime.now(UTC))
            print(f"imported {rotation.new_pair} and wrote its key; old pair {rotation.old_pair or '(none found)'}")
            if not args.wait:
                print(f"run `python -m infra.keys_live retire --stack {args.stack}` after {rotation.retire_at}")
                return 0
            time.sleep(max(0.0, (rotation.retire_at - datetime.now(UTC)).total_seconds()) + 1)
        for arn in retire(secrets, ivs, secret_id, prefix, datetime.now(UTC)):
            print(f"deleted {arn}")
    except RotationRefused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
