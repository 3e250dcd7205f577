"""Entity -> wire shapes, field for field as the api.video SDK 1.4.7 LiveStream model reads them,
plus Videoplane's `ingest` and `status` (unknown keys the SDK discards)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.clock import to_atom
from chalicelib.core.config import get_settings
from chalicelib.live import wiring
from chalicelib.live.domain import broadcasts, restreams
from chalicelib.live.domain.live_streams import LiveStream, ingest_points


def live_stream(s: LiveStream) -> dict[str, Any]:
    body: dict[str, Any] = {
        "liveStreamId": s.live_stream_id,
        "name": s.name,
        "streamKey": s.stream_key.value if s.stream_key else None,
        "record": s.record,
        "public": s.public,
        "assets": assets(s),
        "broadcasting": s.broadcasting,
        # Required by the SDK (a missing `restreams` is a TypeError), so always a list.
        "restreams": [{"name": r.name, "serverUrl": r.server_url, "streamKey": r.stream_key} for r in s.restreams],
        "createdAt": to_atom(s.created_at),
        "updatedAt": to_atom(s.updated_at),
        "ingest": ingest_points(s, wiring.ingest_templates()),
        # Videoplane: seconds a dropped encoder has to come back and continue the broadcast.
        "reconnectWindow": s.reconnect_window_seconds,
        "status": {**_atoms(broadcasts.status(s)), "restreams": [_atoms(r) for r in restreams.statuses(s)]},
    }
    # Omitted rather than null: a plain string in the SDK model.
    if s.player_id is not None:
        body["playerId"] = s.player_id
    return body


def _atoms(body: dict[str, Any]) -> dict[str, Any]:
    return {k: to_atom(v) if isinstance(v, datetime) else v for k, v in body.items()}


def assets(s: LiveStream) -> dict[str, str]:
    settings = get_settings()
    player = f"{settings.player_base_url.rstrip('/')}/live/{s.live_stream_id}"
    media = f"{settings.media_base_url.rstrip('/')}/live/{s.live_stream_id}"
    return {
        # The channel's own playback URL (IVS's CDN on AWS; the devstack's media server locally).
        "hls": s.channel.playback_url if s.channel and s.channel.playback_url else f"{media}/index.m3u8",
        "iframe": (
            f'<iframe src="{player}" width="100%" height="100%" frameborder="0" scrolling="no" allowfullscreen="">'
            "</iframe>"
        ),
        "player": player,
        "thumbnail": f"{media}/thumbnail.jpg",
    }
