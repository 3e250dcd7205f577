"""What the edge in front of the media bucket knows (AWS: a CloudFront KeyValueStore read by the
CloudFront Function infra/edge/playback_check.js): which videos are private and the session keys
that still verify. Pure names and values; the store adapter writes them.

- `private/<videoId>` → `1`, present exactly while the video is private (`public: false`);
- `session-key/<kid>` → the key's secret, base64url without padding (as in the setting).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from chalicelib.playback.domain.access import SessionKey

PRIVATE_PREFIX = "private/"
SESSION_KEY_PREFIX = "session-key/"
PRIVATE_VALUE = "1"


def private_entry(video_id: str) -> str:
    return f"{PRIVATE_PREFIX}{video_id}"


def session_key_entry(kid: str) -> str:
    return f"{SESSION_KEY_PREFIX}{kid}"


def encode_secret(secret: bytes) -> str:
    return base64.urlsafe_b64encode(secret).rstrip(b"=").decode()


def edge_entries(private_videos: Iterable[str], keys: Iterable[SessionKey]) -> dict[str, str]:
    """The whole store for these private videos and session keys."""
    entries = {private_entry(video_id): PRIVATE_VALUE for video_id in private_videos}
    entries.update({session_key_entry(key.kid): encode_secret(key.secret) for key in keys})
    return entries


class EdgeStoreUnavailable(Exception):
    """The edge store could not be written (the message is retried, then parked in its DLQ)."""


# -- geo restrictions on media (docs/playback.md, "Geo restrictions") ------------------------------
# `geo-project/<projectId>` → `deny:CN,RU` or `allow:FR` while the project restricts playback;
# `project/<videoId>` → `<projectId>` for the videos of such projects only (the store holds 5 MB:
# listing every video would spend it on videos nobody restricts).
GEO_PROJECT_PREFIX = "geo-project/"
VIDEO_PROJECT_PREFIX = "project/"


def geo_project_entry(project_id: str) -> str:
    return f"{GEO_PROJECT_PREFIX}{project_id}"


def video_project_entry(video_id: str) -> str:
    return f"{VIDEO_PROJECT_PREFIX}{video_id}"


def geo_value(mode: str, countries: Iterable[str]) -> str | None:
    """The compact policy the edge reads; None when the project restricts nothing (`off`)."""
    if mode not in ("allow", "deny"):
        return None
    return f"{mode}:{','.join(countries)}"


def parse_geo_value(value: str) -> tuple[str, tuple[str, ...]]:
    """(mode, countries) of a stored value, the inverse of `geo_value` (the media server's rule)."""
    mode, _, countries = value.partition(":")
    return mode, tuple(country for country in countries.split(",") if country)
