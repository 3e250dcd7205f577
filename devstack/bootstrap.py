"""Creates every AWS resource from the definitions in chalicelib.resources (as infra/ does)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3

from chalicelib import resources
from chalicelib.adapters.signing_keys import SecretsManagerKeyStore
from chalicelib.clock import utc_now
from chalicelib.services.auth import rotate_signing_keys
from devstack.emulator import SIGNING_SECRET_ID, TABLE_NAME


def create_table(client: Any, name: str = TABLE_NAME) -> None:
    client.create_table(TableName=name, **resources.TABLE)
    client.get_waiter("table_exists").wait(TableName=name)
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": resources.TTL_ATTRIBUTE}
    )


def create_signing_secret(client: Any, secret_id: str = SIGNING_SECRET_ID) -> None:
    client.create_secret(Name=secret_id, Description="Videoplane access-token signing keys")
    rotate_signing_keys(SecretsManagerKeyStore(client, secret_id, 0), utc_now(), timedelta(hours=1))


def bootstrap() -> None:
    create_table(boto3.client("dynamodb"))
    create_signing_secret(boto3.client("secretsmanager"))
