"""Entity -> wire shapes (camelCase, dates in ATOM)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.clock import to_atom
from chalicelib.rooms.domain.rooms import Room, window
from chalicelib.rooms.services.tokens import Admission, Minted


def room(r: Room) -> dict[str, Any]:
    s = r.settings
    settings: dict[str, Any] = {
        "mode": s.mode.value,
        "lifetime": s.lifetime.value,
        "duration": s.duration,
        "maxModerators": s.max_moderators,
        "maxParticipants": s.max_participants,
        "autoRecording": s.auto_recording,
        "quality": s.quality,
        "waitForModerator": s.wait_for_moderator,
    }
    if s.starts_at is not None:
        settings["startsAt"] = to_atom(s.starts_at)
    bounds = window(s)
    body: dict[str, Any] = {
        "roomId": r.room_id,
        "name": r.name,
        "ownerRef": r.owner_ref,
        "settings": settings,
        "createdAt": to_atom(r.created_at),
        "updatedAt": to_atom(r.updated_at),
    }
    if bounds is not None:
        body["joinable"] = {"from": to_atom(bounds[0]), "until": to_atom(bounds[1])}
    return body


def minted(m: Minted) -> dict[str, Any]:
    t = m.token
    return {
        "tokenId": t.token_id,
        "token": m.jwt,
        "roomId": t.room_id,
        "userRef": t.user_ref,
        "name": t.name,
        "role": t.role.value,
        "singleUse": t.single_use,
        "expiresAt": to_atom(t.expires_at),
    }


def admission(a: Admission) -> dict[str, Any]:
    stage = a.stage
    return {
        "roomId": a.room.room_id,
        "participantId": a.participant_id,
        "userRef": a.claims.user_ref,
        "name": a.claims.name,
        "role": a.claims.role.value,
        "capabilities": sorted(c.value for c in a.capabilities),
        "media": {
            "provider": "ivs-realtime",
            "participantToken": a.participant_token,
            # WHIP: POST an SDP offer here with `Authorization: Bearer <participantToken>`.
            "whipUrl": stage.whip_endpoint,
            "eventsUrl": stage.events_endpoint,
            "expiresAt": to_atom(a.expires_at) if a.expires_at else None,
        },
    }
