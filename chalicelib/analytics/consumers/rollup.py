"""The hourly rollup on AWS (docs/analytics.md, "The hourly rollup"): at minute 5, the hour that
ended is rolled up by Athena's INSERT INTO, replacing an earlier run of the same hour. Queries
read an hour from the rollup once it ended `queries.ROLLUP_DELAY_MS` (15 min) ago.

The devstack runs no schedule here: its Athena plane rolls up every file it reads."""

from __future__ import annotations

from chalice import Blueprint, Cron
from chalice.app import CloudWatchEvent

from chalicelib.analytics import wiring
from chalicelib.core.observability import logger
from chalicelib.core.permissions import (
    ANALYTICS_CATALOG_READ,
    ANALYTICS_CATALOG_WRITE,
    ANALYTICS_OBJECTS_QUERY,
    ANALYTICS_QUERIES,
    ANALYTICS_ROLLUP_REPLACE,
    declare,
)

bp = Blueprint(__name__)
declare(
    "roll_up_analytics_hour",
    (ANALYTICS_QUERIES, ANALYTICS_CATALOG_READ, ANALYTICS_CATALOG_WRITE, ANALYTICS_OBJECTS_QUERY,
     ANALYTICS_ROLLUP_REPLACE),
)  # fmt: skip


@bp.schedule(Cron(5, "*", "*", "*", "?", "*"))
def roll_up_analytics_hour(event: CloudWatchEvent) -> None:
    run = wiring.rollup_service().roll()
    logger.info("analytics hour rolled up", extra={"executionId": run.execution_id, "files": len(run.files)})
