"""The hourly rollup on AWS (the devstack's plane rolls every file it reads instead): the hour's
INSERT INTO through Athena, replacing what an earlier run of the same hour wrote (domain.rollup)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.analytics.domain import queries
from chalicelib.analytics.domain.rollup import RollupRun
from chalicelib.analytics.ports import RollupRuns, StatementRunner


class RollupService:
    def __init__(self, runner: StatementRunner, runs: RollupRuns, now: Callable[[], datetime]) -> None:
        self.runner = runner
        self.runs = runs
        self.now = now

    def roll(self, hour_ms: int | None = None) -> RollupRun:
        """Rolls up one hour (by default the last one that ended); a rerun replaces the earlier run's rows."""
        hour = queries.rollup_hour(int(self.now().timestamp() * 1000)) if hour_ms is None else hour_ms
        previous = self.runs.last(hour)
        if previous is not None:
            self.runs.remove(previous.files or self._written_by(previous.execution_id))
        started: list[str] = []

        def record_start(execution_id: str) -> None:
            # Recorded before the wait: a run that dies mid-way is still cleaned up by the next.
            started.append(execution_id)
            self.runs.record(hour, RollupRun(execution_id))

        manifest = self.runner.run(queries.rollup_insert_sql(hour), started=record_start)
        run = RollupRun(started[0], tuple(self.runs.written(manifest)) if manifest else ())
        self.runs.record(hour, run)
        return run

    def _written_by(self, execution_id: str) -> list[str]:
        manifest = self.runner.manifest_of(execution_id)
        return self.runs.written(manifest) if manifest else []
