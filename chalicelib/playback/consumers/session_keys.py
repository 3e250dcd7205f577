"""Daily rotation of the playback session keys (services.session_keys): the pending key starts
signing, the signing one retires (it verifies until its last session has expired), a new key is
pending; the edge's store follows. On the devstack no secret is configured (its key is fixed,
VIDEOPLANE_PLAYBACK_SESSION_KEYS) and the run does nothing."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.core.observability import logger
from chalicelib.core.permissions import PLAYBACK_EDGE_WRITE, PLAYBACK_SESSION_KEYS_WRITE, declare
from chalicelib.playback import wiring

bp = Blueprint(__name__)
declare("rotate_playback_session_keys", (PLAYBACK_SESSION_KEYS_WRITE, PLAYBACK_EDGE_WRITE))


@bp.schedule(Rate(1, unit=Rate.DAYS))
def rotate_playback_session_keys(event: CloudWatchEvent) -> None:
    service = wiring.session_key_service()
    if service is None:
        return
    rotated = service.rotate()
    signing = rotated.signing
    logger.info(
        "playback session keys rotated",
        extra={"signing": signing.key.kid if signing else None, "keys": sorted(rotated.kids())},
    )
