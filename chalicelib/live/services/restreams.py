"""Restream relays carried out: the plan of domain/restreams.py is written with the stream's change
(by the broadcast and live stream services), then its relays are started and stopped here; and the
relays' own reports are applied to the stream."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.core import ids
from chalicelib.core.domain.errors import Conflict
from chalicelib.core.observability import logger
from chalicelib.live.domain import restreams
from chalicelib.live.domain.live_streams import LiveStream, Relay
from chalicelib.live.domain.restreams import RelayPlan, RelayReport
from chalicelib.live.ports import LiveStreamRepository, RestreamRelays

RELAY_ID_PREFIX = "rl"
APPLY_ATTEMPTS = 5


class RestreamService:
    def __init__(
        self,
        repository: LiveStreamRepository,
        relays: Callable[[], RestreamRelays],
        clock: Callable[[], datetime],
        new_id: Callable[[], str] = lambda: ids.new_id(RELAY_ID_PREFIX),
    ) -> None:
        self.repository = repository
        # Built on first use: most changes of a stream touch no relay.
        self.relays = relays
        self.clock = clock
        self.new_id = new_id

    def plan(self, stream: LiveStream) -> RelayPlan:
        return restreams.plan(stream, self.clock(), self.new_id)

    def carry_out(self, stream: LiveStream, stop: tuple[Relay, ...]) -> None:
        """After the stream (with its planned relays) was written: stops the relays taken out, and
        starts every relay that has not reported yet, the new ones and any whose start was lost (a
        start is idempotent per relay, so a repeat runs no second relay)."""
        for relay in stop:
            try:
                self.relays().stop(relay)
            except Exception:  # noqa: BLE001 - a relay left running ends when its source does
                logger.warning("restream relay not stopped", extra={"relayId": relay.relay_id}, exc_info=True)
        for relay, target in restreams.unlaunched(stream):
            self.relays().start(stream, relay, target)
            logger.info(
                "restream relay started", extra={"liveStreamId": stream.live_stream_id, "relayId": relay.relay_id}
            )

    def on_report(self, report: RelayReport) -> bool:
        """Applies a relay's state report; False when it changed nothing (late, repeated, gone)."""
        for _ in range(APPLY_ATTEMPTS):
            stream = self.repository.get(report.project_id, report.live_stream_id)
            updated = restreams.apply_report(stream, report) if stream is not None else None
            if stream is None or updated is None:
                return False
            try:
                self.repository.record_broadcast(updated, stream.version, [])
            except Conflict:
                continue
            logger.info(
                "restream relay state",
                extra={"liveStreamId": report.live_stream_id, "relayId": report.relay_id, "state": report.state.value},
            )
            return True
        raise Conflict(name="liveStreamId")
