"""The playback context's composition root: players and the public video read, over the shared
table and the media bucket. No rules here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.wiring import component, media_bucket, table

if TYPE_CHECKING:
    from chalicelib.playback.services.players import PlayerService


@component
def player_service() -> PlayerService:
    from chalicelib.core.clock import utc_now
    from chalicelib.playback.adapters.players import DynamoPlayerRepository
    from chalicelib.playback.services.players import PlayerService

    return PlayerService(DynamoPlayerRepository(table()), media_bucket(), utc_now)
