"""Signing keys of a deployed stack: the first key after `make deploy`, and every rotation after.

    python -m infra.keys seed   [--stack videoplane] [--secret-id ARN]   # first key only (make deploy)
    python -m infra.keys rotate [--stack videoplane] [--secret-id ARN]   # a new key (make rotate-keys)
    python -m infra.keys edge   [--stack videoplane]   # session keys, private videos and live streams at the edge

Uses the caller's AWS credentials. It runs the same rotation as the devstack bootstrap
(`chalicelib.platform.services.auth.rotate_signing_keys`): a new key becomes active and older keys stay
for twice the access-token lifetime, so tokens already issued keep verifying. Functions pick the
new key set up within `signing_key_cache_seconds` (5 minutes by default).

The stack creates the secret as an empty key set (CloudFormation cannot generate the nested
JSON); `seed` adds the first key when there is none and is what `make deploy` runs every time.

`edge` does the same for private videos (docs/playback.md): the first playback session keys when
there are none (the daily rotation function takes over), copied to the edge's KeyValueStore, and
every private video and private live stream (its thumbnail) already in the table listed in that
store (a stack that had private ones before its store existed, or before live streams were
listed). Idempotent; it needs botocore's CRT (awscrt, in requirements.txt).
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from infra.app import DEFAULT_STACK_NAME

SECRET_OUTPUT = "SigningSecretArn"
PLAYBACK_SECRET_OUTPUT = "PlaybackSessionSecretArn"
EDGE_STORE_OUTPUT = "PlaybackEdgeStoreArn"
TABLE_OUTPUT = "TableName"


def secret_arn(stack_name: str, cloudformation: Any, key: str = SECRET_OUTPUT) -> str:
    """The value of the stack's output `key` (the signing secret's ARN by default)."""
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == key:
            return str(output["OutputValue"])
    raise LookupError(f"stack {stack_name} has no {key} output")


def seed_edge(
    secret_id: str, store_arn: str, table_name: str, secretsmanager: Any, kvs: Any, dynamodb: Any
) -> tuple[int, int]:
    """First playback session keys (secret and store) when there are none, and every private video
    and private live stream listed in the store; returns how many of each are listed."""
    from chalicelib.core.adapters.dynamodb import Table
    from chalicelib.core.clock import utc_now
    from chalicelib.playback.adapters.edge_store import KeyValueStoreEdge
    from chalicelib.playback.adapters.geo import DynamoGeoPolicies
    from chalicelib.playback.adapters.live_streams import DynamoPublicLiveStreams
    from chalicelib.playback.adapters.session_keys import SecretsManagerSessionKeys
    from chalicelib.playback.adapters.videos import DynamoPublicVideos
    from chalicelib.playback.services.edge import EdgeService
    from chalicelib.playback.services.session_keys import SessionKeyService

    store = KeyValueStoreEdge(kvs, store_arn)
    SessionKeyService(SecretsManagerSessionKeys(secretsmanager, secret_id, 0), store, utc_now).ensure()
    table = Table(dynamodb, table_name)
    videos, live_streams = DynamoPublicVideos(table), DynamoPublicLiveStreams(table)
    edge = EdgeService(videos, store, DynamoGeoPolicies(table), live_streams)
    return edge.backfill(videos.private_video_ids()), edge.backfill_live(live_streams.private_live_stream_ids())


def rotate(secret_id: str, secretsmanager: Any) -> Any:
    """Rotate the key set in `secret_id`; returns the new `SigningKeySet`."""
    from chalicelib.core.clock import utc_now
    from chalicelib.core.config import Settings
    from chalicelib.platform.adapters.signing_keys import SecretsManagerKeyStore
    from chalicelib.platform.services.auth import rotate_signing_keys

    access_ttl = timedelta(seconds=Settings.model_fields["access_token_ttl_seconds"].default)
    return rotate_signing_keys(SecretsManagerKeyStore(secretsmanager, secret_id, 0), utc_now(), access_ttl)


def seed(secret_id: str, secretsmanager: Any) -> Any:
    """Rotate only if the key set has no active key yet (the secret as the stack created it)."""
    from chalicelib.platform.adapters.signing_keys import SecretsManagerKeyStore

    current = SecretsManagerKeyStore(secretsmanager, secret_id, 0).load(refresh=True)
    if current.active_kid and any(key.kid == current.active_kid for key in current.keys):
        return current
    return rotate(secret_id, secretsmanager)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["seed", "rotate", "edge"])
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME, help="CloudFormation stack name")
    parser.add_argument("--secret-id", help="the secret ARN (default: the stack's SigningSecretArn output)")
    args = parser.parse_args(argv)
    import boto3  # region and credentials: the caller's usual AWS configuration

    if args.command == "edge":
        stacks = boto3.client("cloudformation")
        outputs = [
            secret_arn(args.stack, stacks, key) for key in (PLAYBACK_SECRET_OUTPUT, EDGE_STORE_OUTPUT, TABLE_OUTPUT)
        ]
        clients = [boto3.client(name) for name in ("secretsmanager", "cloudfront-keyvaluestore", "dynamodb")]
        videos, live_streams = seed_edge(*outputs, *clients)
        print(f"{videos} private video(s) and {live_streams} private live stream(s) listed at the edge")
        return 0
    secret_id = args.secret_id or secret_arn(args.stack, boto3.client("cloudformation"))
    keyset = (rotate if args.command == "rotate" else seed)(secret_id, boto3.client("secretsmanager"))
    print(f"{secret_id}: active key {keyset.active_kid}, {len(keyset.keys)} key(s) verify")
    return 0


if __name__ == "__main__":
    sys.exit(main())
