"""Item layouts of players (docs/data-model.md)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.adapters.dynamodb import PK, SK, project_partition
from chalicelib.core.adapters.records import item_body
from chalicelib.playback.domain.players import Player

ENTITY = "player"
# The VOD context checks a video's `playerId` against this layout (chalicelib/vod/adapters/players.py).
COLLECTION = "PLAYER"


def player_key(project_id: str, player_id: str) -> tuple[str, str]:
    return project_partition(project_id, COLLECTION), player_id


def player_item(player: Player) -> dict[str, Any]:
    pk, sk = player_key(player.project_id, player.player_id)
    return {PK: pk, SK: sk, "entity": ENTITY, **player.model_dump(mode="json")}


def player_from_item(item: dict[str, Any]) -> Player:
    return Player.model_validate(item_body(item))
