"""Deployment settings: per-function memory, timeout and reserved concurrency, retention, names.

Change a function's size in `OVERRIDES` (keyed by the Chalice function name); tests/infra fails
when a key there names no function.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from infra.model import FunctionSpec, Kind

STACK_ID = "Videoplane"
# CloudFormation refuses a template of more than 500 resources or 200 parameters. tests/infra keeps
# every stack (parent or nested) under STACK_RESOURCE_BUDGET, leaving room to grow between checks.
CLOUDFORMATION_MAX_RESOURCES = 500
CLOUDFORMATION_MAX_PARAMETERS = 200
STACK_RESOURCE_BUDGET = 400
API_STAGE = "api"
RUNTIME = "python3.11"
# Wheels in the code asset are built for this platform (pip --platform).
PIP_PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = "3.11"
POWERTOOLS_SERVICE_NAME = "videoplane-api"
# Set on every function. No pydantic plugin ships in the code asset, but without this pydantic scans
# the entry points of every distribution in /var/task when the first model is built: about 30-50 ms
# of each cold start (benchmarks/cold_start.py, which sets the same).
RUNTIME_ENVIRONMENT = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}
# A name of aws_cdk.aws_logs.RetentionDays.
LOG_RETENTION = "ONE_MONTH"
# API Gateway gives up on an integration after 29 s, so a route function must finish sooner.
API_INTEGRATION_TIMEOUT_SECONDS = 29
# SQS consumers: redrive to the DLQ after this many receives; visibility = 6 x function timeout.
MAX_RECEIVE_COUNT = 5
VISIBILITY_TIMEOUT_FACTOR = 6
# The access-log bucket (S3 server access logs, CloudFront standard logs) expires objects after this.
ACCESS_LOG_RETENTION_DAYS = 90
# A name of aws_cdk.aws_cloudfront.PriceClass: edge locations of North America and Europe only.
MEDIA_PRICE_CLASS = "PRICE_CLASS_100"
# Player pages live under the media domain at this path (VIDEOPLANE_PLAYER_BASE_URL); CloudFront
# forwards it to the API (infra.player).
PLAYER_PATH = "/embed"
# Added to the Chalice app's binary media types on the REST API. SDK uploads send
# multipart/form-data: as a binary type, API Gateway hands the body to the direct-upload S3
# integration unchanged (as text it would be re-encoded), and Lambda proxy routes receive it base64
# encoded (Chalice decodes it), as the devstack gateway does for every non-text type.
EXTRA_BINARY_MEDIA_TYPES = ("multipart/form-data",)
# Asynchronous targets (EventBridge rules, DynamoDB streams): retries before the DLQ.
RETRY_ATTEMPTS = 3


@dataclass(frozen=True)
class FunctionSettings:
    memory_mb: int
    timeout_seconds: int
    # None: no reservation (draws from the account's unreserved pool).
    reserved_concurrency: int | None


DEFAULTS: dict[Kind, FunctionSettings] = {
    "route": FunctionSettings(memory_mb=512, timeout_seconds=15, reserved_concurrency=10),
    "authorizer": FunctionSettings(memory_mb=512, timeout_seconds=5, reserved_concurrency=20),
    "consumer": FunctionSettings(memory_mb=512, timeout_seconds=60, reserved_concurrency=5),
    "lambda": FunctionSettings(memory_mb=512, timeout_seconds=60, reserved_concurrency=None),
}

# e.g. "create_video": {"memory_mb": 1024}
OVERRIDES: dict[str, dict[str, int | None]] = {
    # The REQUEST authorizer of the direct-to-S3 upload routes (an app.lambda_function): sized like the
    # TOKEN authorizer, with time for its table reads and writes (API Gateway waits at most 29 s).
    "authorize_upload": {"timeout_seconds": 10, "reserved_concurrency": 20},
    # Fetches a source from a URL into S3 (streamed, up to 30 GiB) or copies one: Lambda's maximum.
    "ingest_sources": {"timeout_seconds": 900},
    # Athena: the hour's INSERT INTO (chalicelib.analytics.wiring.ROLLUP_TIMEOUT_SECONDS), and one usage
    # query per project for the daily usage event.
    "roll_up_analytics_hour": {"timeout_seconds": 300},
    "report_daily_usage": {"timeout_seconds": 900},
}


def settings_for(spec: FunctionSpec, *, reserve: bool = True) -> FunctionSettings:
    chosen = replace(DEFAULTS[spec.kind], **OVERRIDES.get(spec.name, {}))  # type: ignore[arg-type]
    if spec.kind == "route" and chosen.timeout_seconds > API_INTEGRATION_TIMEOUT_SECONDS:
        raise ValueError(f"{spec.name}: a route function's timeout must be <= {API_INTEGRATION_TIMEOUT_SECONDS} s")
    return chosen if reserve else replace(chosen, reserved_concurrency=None)
