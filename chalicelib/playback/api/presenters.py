"""Entity -> wire shapes, field for field as the api.video SDK 1.4.7 PlayerTheme model reads them."""

from __future__ import annotations

from typing import Any

from chalicelib.core.clock import to_atom
from chalicelib.core.config import get_settings
from chalicelib.playback.domain.playback_keys import PlaybackKey
from chalicelib.playback.domain.players import Player


def player(p: Player) -> dict[str, Any]:
    return {
        "playerId": p.player_id,
        "name": p.name,
        **p.theme.model_dump(mode="json", by_alias=True),
        "createdAt": to_atom(p.created_at),
        "updatedAt": to_atom(p.updated_at),
        "assets": {"logo": logo_url(p), "link": p.logo.link if p.logo else None},
    }


def logo_url(p: Player) -> str | None:
    """Served from the media bucket through the CDN, like thumbnails."""
    if p.logo is None:
        return None
    return f"{get_settings().media_base_url.rstrip('/')}/{p.logo.key}"


def playback_key(k: PlaybackKey) -> dict[str, Any]:
    return {"playbackKeyId": k.key_id, "createdAt": to_atom(k.created_at), "publicKey": k.public_jwk}
