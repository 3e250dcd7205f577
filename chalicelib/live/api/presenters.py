"""Entity -> wire shapes, field for field as the api.video SDK 1.4.7 LiveStream model reads them,
plus Videoplane's `ingest` and `status` (unknown keys the SDK discards)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.clock import to_atom, utc_now
from chalicelib.core.config import get_settings
from chalicelib.live import wiring
from chalicelib.live.domain import broadcasts, restreams
from chalicelib.live.domain.live_streams import LiveStream, ingest_points


def shown(s: LiveStream) -> dict[str, Any]:
    """The wire shape; a private stream's assets carry a new single-use token each time (api.video)."""
    if s.public:
        return live_stream(s)
    return live_stream(s, wiring.private_tokens().mint(s.project_id, s.live_stream_id, utc_now()))


def live_stream(s: LiveStream, private_token: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "liveStreamId": s.live_stream_id,
        "name": s.name,
        "streamKey": s.stream_key.value if s.stream_key else None,
        "record": s.record,
        "public": s.public,
        "assets": assets(s) if private_token is None else private_assets(s, private_token),
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
        # An uploaded one (POST /live-streams/{id}/thumbnail), else where the live frame would be.
        "thumbnail": (
            f"{settings.media_base_url.rstrip('/')}/{s.thumbnail.key}" if s.thumbnail else f"{media}/thumbnail.jpg"
        ),
    }


def private_assets(s: LiveStream, token: str) -> dict[str, str]:
    """A private stream's: the player page takes the token (`?token=`, used up there), and `hls`
    and `thumbnail` are the playback context's routes that use it up and redirect to the channel
    with a playback JWT, and to the thumbnail through a playback session (a private stream's files
    on the media domain are refused without one, as a private video's; api.video's private live
    URLs are alike in spirit: a token per view)."""
    player_base = f"{get_settings().player_base_url.rstrip('/')}/live/{s.live_stream_id}"
    player = f"{player_base}?token={token}"
    return {
        **assets(s),
        "hls": f"{player_base}/token/{token}/hls/manifest.m3u8",
        "iframe": (
            f'<iframe src="{player}" width="100%" height="100%" frameborder="0" scrolling="no" allowfullscreen="">'
            "</iframe>"
        ),
        "player": player,
        "thumbnail": f"{player_base}/token/{token}/thumbnail.jpg",
    }
