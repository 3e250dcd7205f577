"""Writes the OpenAPI 3.1 description that `GET /openapi.json` serves, from the code: every route
of the app (app.py), the direct-to-S3 upload routes, the models each view declares.

    python -m devstack.openapi

A test fails when the served file and the code differ, so they cannot drift.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core.api.openapi import build
from chalicelib.platform.api.api_docs import DESCRIPTION
from chalicelib.vod.api.uploads import DIRECT_UPLOAD_OPERATIONS

TITLE = "Videoplane API"
VERSION = "1.0.0"
SUMMARY = (
    "A multi-tenant video API deployed in your own AWS account, wire-compatible with api.video's public "
    "API (its SDKs work unchanged; operationIds and field names are api.video's where it has the "
    "operation). Errors are api.video problem JSON; POST and PATCH take an Idempotency-Key."
)


def description() -> dict[str, Any]:
    from app import app  # the whole route table: every context's blueprints

    return build(app, title=TITLE, version=VERSION, description=SUMMARY, extra=DIRECT_UPLOAD_OPERATIONS)


def rendered() -> str:
    return json.dumps(description(), indent=1, sort_keys=True) + "\n"


def main() -> None:
    DESCRIPTION.write_text(rendered(), encoding="utf-8")
    print(f"wrote {DESCRIPTION}")


if __name__ == "__main__":
    main()
