"""Item layouts of rooms, join tokens and joins (docs/data-model.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.core.adapters.dynamodb import PK, SK, project_partition
from chalicelib.core.adapters.records import TTL, item_body
from chalicelib.core.clock import epoch_seconds, from_atom, to_atom
from chalicelib.rooms.domain.rooms import Room
from chalicelib.rooms.domain.tokens import Join, JoinToken, Role

ROOM_ENTITY = "room"
# Joins are kept for the session and call-record slices to read.
JOIN_RETENTION = timedelta(days=30)


def room_key(project_id: str, room_id: str) -> tuple[str, str]:
    return project_partition(project_id, "ROOM"), room_id


def room_item(room: Room) -> dict[str, Any]:
    pk, sk = room_key(room.project_id, room.room_id)
    # A provisioning room expires (DynamoDB TTL); its removal releases the stage by name.
    ttl = epoch_seconds(room.expires_at) if room.expires_at else None
    return {PK: pk, SK: sk, "entity": ROOM_ENTITY, TTL: ttl, **room.model_dump(mode="json")}


def room_from_item(item: dict[str, Any]) -> Room:
    return Room.model_validate(item_body(item))


def token_key(project_id: str, room_id: str, token_id: str) -> tuple[str, str]:
    return project_partition(project_id, f"ROOM_TOKEN#{room_id}"), token_id


def token_item(token: JoinToken) -> dict[str, Any]:
    pk, sk = token_key(token.project_id, token.room_id, token.token_id)
    # Gone with its expiry: an expired token is refused from its own claims.
    return {
        PK: pk,
        SK: sk,
        "entity": "roomToken",
        TTL: epoch_seconds(token.expires_at),
        **token.model_dump(mode="json"),
    }


def token_from_item(item: dict[str, Any]) -> JoinToken:
    return JoinToken.model_validate(item_body(item))


def join_partition(project_id: str, room_id: str) -> str:
    return project_partition(project_id, f"ROOM_JOIN#{room_id}")


def join_item(join: Join) -> dict[str, Any]:
    return {
        PK: join_partition(join.project_id, join.room_id),
        # Time first, so "joins since" is a key range.
        SK: f"{to_atom(join.joined_at)}#{join.participant_id}",
        "entity": "roomJoin",
        TTL: epoch_seconds(join.joined_at + JOIN_RETENTION),
        "participantId": join.participant_id,
        "tokenId": join.token_id,
        "userRef": join.user_ref,
        "role": join.role.value,
        "joinedAt": to_atom(join.joined_at),
    }


def join_from_item(item: dict[str, Any]) -> Join:
    _, project_id, _, room_id = item[PK].split("#")
    return Join(
        project_id=project_id,
        room_id=room_id,
        participant_id=item["participantId"],
        token_id=item["tokenId"],
        user_ref=item["userRef"],
        role=Role(item["role"]),
        joined_at=from_atom(item["joinedAt"]),
    )
