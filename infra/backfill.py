"""One-off data backfills a deployed stack needs after an upgrade.

    python -m infra.backfill video-listing [--stack videoplane]

`video-listing`: the listing index (GSI2) that `GET /videos`, `GET /discarded/videos` and
`GET /tags` read holds only video items that carry its keys. Videos written by this version have
them; run this once after deploying it, so that videos written before appear in lists again
(`chalicelib.vod.adapters.videos.backfill_listing`: a Scan of the table, then one conditional
UpdateItem per video without the keys). Idempotent, and safe while the API serves: an item written
meanwhile already has its keys and is left alone. `make deploy` runs it. Uses the caller's AWS credentials.
"""

from __future__ import annotations

import argparse
import sys

from infra.app import DEFAULT_STACK_NAME
from infra.keys import TABLE_OUTPUT, secret_arn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["video-listing"])
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME, help="CloudFormation stack name")
    args = parser.parse_args(argv)
    import boto3  # region and credentials: the caller's usual AWS configuration

    from chalicelib.core.adapters.dynamodb import Table
    from chalicelib.vod.adapters.videos import backfill_listing

    table_name = secret_arn(args.stack, boto3.client("cloudformation"), TABLE_OUTPUT)
    print(f"{backfill_listing(Table(boto3.client('dynamodb'), table_name))} video(s) given their listing keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
