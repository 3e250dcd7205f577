"""Whether a player exists, for a live stream's `playerId`. Players belong to the playback context;
the live context reads only the presence of their item (layout: chalicelib/playback/adapters/records.py,
docs/data-model.md), never their contents, as chalicelib/vod/adapters/players.py does for videos.
tests/integration/test_live_streams_api.py holds the layouts together."""

from __future__ import annotations

from chalicelib.core.adapters.dynamodb import Table, project_partition

PLAYER_COLLECTION = "PLAYER"


class DynamoPlayerDirectory:
    def __init__(self, table: Table) -> None:
        self.table = table

    def exists(self, project_id: str, player_id: str) -> bool:
        return self.table.get(project_partition(project_id, PLAYER_COLLECTION), player_id) is not None
