"""The analytics context's composition root: beacons to Firehose, /data through Athena (the
devstack points the Athena client at its DuckDB plane). No rules here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.wiring import component, rate_limiter, settings, table

if TYPE_CHECKING:
    from chalicelib.analytics.services.beacons import BeaconService
    from chalicelib.analytics.services.metrics import MetricsService
    from chalicelib.analytics.services.rollup import RollupService
    from chalicelib.analytics.services.sessions import SessionsService
    from chalicelib.analytics.services.usage import UsageService

BEACONS_RATE_CLASS = "beacons"
# The rollup's INSERT of one hour may take minutes (its function's timeout is 300 s: infra/settings.py).
ROLLUP_TIMEOUT_SECONDS = 240.0


@component
def beacon_service() -> BeaconService:
    import time

    from chalicelib.analytics.adapters.firehose import FirehoseEventSink
    from chalicelib.analytics.adapters.media import DynamoMediaDirectory
    from chalicelib.analytics.adapters.useragents import UaParserViewers
    from chalicelib.analytics.services.beacons import BeaconService
    from chalicelib.core import config

    return BeaconService(
        DynamoMediaDirectory(table()),
        FirehoseEventSink(config.firehose(), settings().analytics_stream),
        UaParserViewers(),
        now_ms=lambda: int(time.time() * 1000),
        limit=_count_beacon,
    )


def _count_beacon(project_id: str) -> None:
    rate_limiter().check(project_id, BEACONS_RATE_CLASS)


@component
def metrics_service() -> MetricsService:
    import os

    from chalicelib.analytics.adapters.athena import AthenaQueries
    from chalicelib.analytics.adapters.tags import DynamoTaggedVideos
    from chalicelib.analytics.services.metrics import MetricsService
    from chalicelib.core import config, resources
    from chalicelib.core.clock import utc_now

    current = settings()
    return MetricsService(
        AthenaQueries(config.athena(), current.analytics_database, current.analytics_workgroup),
        utc_now,
        DynamoTaggedVideos(table()),
        rollup=os.environ.get(resources.ANALYTICS_ROLLUP_ENV) == "1",
    )


@component
def usage_service() -> UsageService:
    from chalicelib.analytics.adapters.athena import AthenaQueries
    from chalicelib.analytics.adapters.rooms import DynamoRoomSessions
    from chalicelib.analytics.adapters.usage import DynamoProjectDirectory, DynamoUsageCounters, S3MediaStorage
    from chalicelib.analytics.services.usage import UsageService
    from chalicelib.core import config
    from chalicelib.core.clock import utc_now

    current = settings()
    return UsageService(
        DynamoUsageCounters(table()),
        AthenaQueries(config.athena(), current.analytics_database, current.analytics_workgroup),
        S3MediaStorage(table(), config.s3(), current.media_bucket, current.uploads_bucket),
        DynamoProjectDirectory(table()),
        DynamoRoomSessions(table()),
        utc_now,
        quota_minutes=current.usage_quota_minutes,
    )


@component
def rollup_service() -> RollupService:
    from chalicelib.analytics.adapters.athena import AthenaQueries
    from chalicelib.analytics.adapters.rollup import S3RollupRuns
    from chalicelib.analytics.services.rollup import RollupService
    from chalicelib.core import config
    from chalicelib.core.clock import utc_now
    from chalicelib.core.wiring import bucket

    current = settings()
    return RollupService(
        AthenaQueries(
            config.athena(), current.analytics_database, current.analytics_workgroup, timeout=ROLLUP_TIMEOUT_SECONDS
        ),
        S3RollupRuns(bucket(current.analytics_bucket)),
        utc_now,
    )


@component
def sessions_service() -> SessionsService:
    from chalicelib.analytics.adapters.athena import AthenaQueries
    from chalicelib.analytics.adapters.media import DynamoMediaDirectory
    from chalicelib.analytics.services.sessions import SessionsService
    from chalicelib.core import config

    current = settings()
    return SessionsService(
        AthenaQueries(config.athena(), current.analytics_database, current.analytics_workgroup),
        DynamoMediaDirectory(table()),
    )
