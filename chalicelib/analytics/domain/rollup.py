"""A run of the hourly rollup on AWS: Athena's INSERT INTO of one hour, and the files it wrote.

Athena's INSERT INTO only appends, so a rerun of an hour (a retried schedule, a manual backfill)
would count its events twice. Each hour's run is recorded (its execution id as soon as it starts,
the files its data manifest lists once it succeeded), and a rerun first removes what the previous
run of the same hour wrote: the hour is replaced, never added twice."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RollupRun:
    execution_id: str
    # S3 keys in the analytics bucket; empty while the run has not finished (or wrote nothing).
    files: tuple[str, ...] = ()
