"""One structured logger for the whole app (Powertools JSON lines)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

# Not the Chalice app name: Logger(service=X) reuses the stdlib logger X, which Chalice also
# configures, and every line would be printed twice.
logger = Logger(service="videoplane-api")


def pipeline_stage(video_id: str, name: str, **fields: object) -> None:
    """One structured line per VOD pipeline step (benchmarks/time_to_playable.py reads them)."""
    logger.info("pipeline stage", extra={"videoId": video_id, "stage": name, **fields})
