"""One definition of every AWS resource's names, keys and indexes.

`infra/` builds CloudFormation from these and `devstack/` creates the same resources in the
emulator; the runtime reads only the environment variable names from here.
"""

from __future__ import annotations

from typing import Any

APP_NAME = "videoplane"

TABLE_ENV = "VIDEOPLANE_TABLE"
SIGNING_SECRET_ENV = "VIDEOPLANE_SIGNING_SECRET_ID"

PARTITION_KEY = "PK"
SORT_KEY = "SK"
GSI1 = "GSI1"
GSI1_PARTITION_KEY = "GSI1PK"
GSI1_SORT_KEY = "GSI1SK"
TTL_ATTRIBUTE = "ttl"

TABLE: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
        {"AttributeName": SORT_KEY, "AttributeType": "S"},
        {"AttributeName": GSI1_PARTITION_KEY, "AttributeType": "S"},
        {"AttributeName": GSI1_SORT_KEY, "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": GSI1,
            "KeySchema": [
                {"AttributeName": GSI1_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": GSI1_SORT_KEY, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
}

# API Gateway answers these itself, before any Lambda runs. The devstack gateway plays them
# from this table and infra writes them as AWS::ApiGateway::GatewayResponse.
# `$context.authorizer.*` is what the authorizer put in its Deny context.
_PROBLEM_FROM_AUTHORIZER = (
    '{"type":"https://docs.api.video/reference/$context.authorizer.problemSlug",'
    '"title":"$context.authorizer.problemTitle","name":"","status":401}'
)
GATEWAY_RESPONSES: dict[str, dict[str, Any]] = {
    # No Authorization header on a route with the authorizer: the authorizer is not called.
    "UNAUTHORIZED": {
        "status": 401,
        "template": (
            '{"type":"https://docs.api.video/reference/authentication-missing-authorization-header",'
            '"title":"The \\"Authorization\\" header is missing.","name":"","status":401}'
        ),
    },
    # The authorizer answered Deny: its context names the api.video problem.
    "ACCESS_DENIED": {"status": 401, "template": _PROBLEM_FROM_AUTHORIZER},
    "AUTHORIZER_FAILURE": {
        "status": 500,
        "template": (
            '{"type":"https://docs.api.video/reference/server-error","title":"Server error","name":"","status":500}'
        ),
    },
    # The body is over API Gateway's 10 MB payload limit.
    "REQUEST_TOO_LARGE": {
        "status": 413,
        "template": (
            '{"type":"https://docs.api.video/reference/request-too-large",'
            '"title":"The request body is larger than 10 MB.","name":"","status":413}'
        ),
    },
    # No resource matches the path.
    "MISSING_AUTHENTICATION_TOKEN": {
        "status": 404,
        "template": (
            '{"type":"https://docs.api.video/reference/unrecognized-request-url",'
            '"title":"Unrecognized request URL.","name":"","status":404}'
        ),
    },
}

AUTHORIZER_RESULT_TTL_SECONDS = 60
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
