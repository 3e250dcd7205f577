"""Call quality samples: the public stats endpoint a participant's client posts getStats() figures to
(docs/rooms.md, "Call quality"). Rules: chalicelib.rooms.domain.quality."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.core.clock import epoch_seconds
from chalicelib.core.domain.errors import NotFound, TooManyRequests
from chalicelib.rooms.domain import quality
from chalicelib.rooms.domain.errors import JoinTokenRevoked
from chalicelib.rooms.domain.quality import SAMPLE_SECONDS, StatsReport
from chalicelib.rooms.domain.rooms import Room
from chalicelib.rooms.ports import QualityRepository


class QualityService:
    def __init__(
        self,
        rooms_: Callable[[str, str], Room],
        repository: QualityRepository,
        clock: Callable[[], datetime],
        issuer: str,
    ) -> None:
        # The ready room of a project, or NotFound (RoomService.find).
        self.rooms = rooms_
        self.repository = repository
        self.clock = clock
        self.issuer = issuer

    def report(self, report: StatsReport) -> None:
        """Stores one interval of a participant's figures. The project, room, session and participant
        come only from the stats token, verified with the room's key."""
        now = self.clock()
        addressed = quality.stats_address(report.token)
        try:
            room = self.rooms(addressed.project_id, addressed.room_id)
        except NotFound as error:
            raise JoinTokenRevoked(detail="The room no longer exists.") from error
        claims = quality.verify_stats(report.token, room.token_key(), self.issuer, now)
        if not self.repository.add(
            claims.project_id, claims.session_id, quality.sample(claims.participant_id, report, now)
        ):
            retry = SAMPLE_SECONDS - epoch_seconds(now) % SAMPLE_SECONDS
            raise TooManyRequests(
                detail=f"One sample per {SAMPLE_SECONDS} seconds.", headers={"Retry-After": str(retry)}
            )
