"""Who may fetch a private video's media: pure rules, shared by the API, the devstack's media server
and the edge in front of the media bucket on AWS.

A private video (`public: false`) is played in two steps, as on api.video:

1. a **private token** (a UUID minted by each `GET /videos/{id}`, single use) or a **playback JWT**
   (minted by the tenant's backend) is exchanged, once, by the embed page or `…/token/<t>/session`,
   for a **playback session**;
2. the session travels *in the path* of every media URL: `vod/<videoId>/token/<session>/<file>`.
   In the path rather than a query or a cookie because HLS players resolve segment URLs relative
   to the playlist's (a query would be dropped) and a cookie on the media domain is a third-party
   cookie inside another site's iframe (browsers block those).

A session is `<kid>.<expires>.<signature>`: an HMAC-SHA256 over the video id and the expiry, with
the key named `kid` (two keys are accepted during a rotation). It is cheap to check on every
playlist and segment request, needs no storage, and is bound to one video.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import unquote

from chalicelib.core.domain.errors import Forbidden
from chalicelib.playback.domain import geo

# api.video: a session token lives 24 h; a private token that nobody uses, a day as well.
SESSION_TTL = timedelta(hours=24)
PRIVATE_TOKEN_TTL = timedelta(hours=24)
_VIDEO_ID = r"vi[0-9A-Za-z]{22}"
_LIVE_STREAM_ID = r"li[0-9A-Za-z]{22}"
_SESSION = re.compile(r"^(?P<kid>[0-9A-Za-z_-]{1,32})\.(?P<expires>[0-9]{1,12})\.(?P<signature>[0-9A-Za-z_-]{43})$")
# A video's files, and a live stream's own files in the media bucket (its uploaded thumbnail): a
# live stream id, never an IVS channel id (`live/<channelId>/…` is the devstack's channel HLS,
# which IVS's own check guards), so the two live folders are told apart by the id.
_MEDIA_PATH = re.compile(
    rf"^(?P<folder>vod/(?P<video>{_VIDEO_ID})|live/(?P<stream>{_LIVE_STREAM_ID}))/(?:token/(?P<session>[^/]+)/)?(?P<rest>.+)$"
)
_MEDIA_FOLDERS = ("vod/", "live/")


class Denial(StrEnum):
    """Why a request for private media (or a private token exchange) is refused; counted by reason."""

    NO_TOKEN = "no-token"
    MALFORMED = "malformed-token"
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"
    EXPIRED = "expired"
    OTHER_VIDEO = "other-video"
    USED = "token-not-usable"
    REFERRER = "referrer-not-allowed"
    GEO = "geo-blocked"


DENIAL_DETAILS = {
    Denial.NO_TOKEN: "This video is private: its URL needs a token.",
    Denial.MALFORMED: "The token is not a private token or a playback session of this service.",
    Denial.UNKNOWN_KEY: "The playback session was signed with a key that is no longer valid.",
    Denial.BAD_SIGNATURE: "The playback session is not valid for this video.",
    Denial.EXPIRED: "The playback session has expired.",
    Denial.OTHER_VIDEO: "The token was issued for another video.",
    Denial.USED: "The private token is unknown, expired or already used; get the video again for a new one.",
    Denial.REFERRER: "This video may not be embedded on this site.",
    Denial.GEO: "This video is not available in your country.",
}


class PlaybackDenied(Forbidden):
    slug = "playback-denied"
    title = "Playback of this private video is not allowed with this token."


class GeoBlocked(Forbidden):
    """The project's geo restriction refuses the viewer's country (Videoplane extension)."""

    slug = "geo-blocked"
    title = "This video is not available in your country."


@dataclass(frozen=True)
class SessionKey:
    kid: str
    secret: bytes


@dataclass(frozen=True)
class MediaDecision:
    """What the media server (or the edge) does with a request: serve `key`, or refuse."""

    key: str | None
    denial: Denial | None = None
    # The video's id, or the live stream's (its sessions are signed over its id the same way).
    video_id: str | None = None


def new_private_token() -> str:
    return str(uuid.uuid4())


def is_private_token(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def issue_session(video_id: str, now: datetime, key: SessionKey, ttl: timedelta = SESSION_TTL) -> str:
    expires = int((now + ttl).timestamp())
    return f"{key.kid}.{expires}.{_signature(key.secret, video_id, expires)}"


def check_session(session: str, video_id: str, now: datetime, keys: dict[str, bytes]) -> Denial | None:
    """None when `session` lets its holder fetch `video_id`'s media at `now`; else why not."""
    match = _SESSION.fullmatch(session)
    if match is None:
        return Denial.MALFORMED
    secret = keys.get(match["kid"])
    if secret is None:
        return Denial.UNKNOWN_KEY
    expires = int(match["expires"])
    # A signature over another video's id fails like a forged one: the session names no video.
    if not hmac.compare_digest(match["signature"], _signature(secret, video_id, expires)):
        return Denial.BAD_SIGNATURE
    if now.timestamp() >= expires:
        return Denial.EXPIRED
    return None


def session_expiry(session: str) -> int | None:
    match = _SESSION.fullmatch(session)
    return int(match["expires"]) if match else None


def media_decision(
    path: str, now: datetime, keys: dict[str, bytes], is_private: Callable[[str], bool]
) -> MediaDecision:
    """The object a media request may read. `path` is the URL path without its leading slash;
    `is_private(video_id)` is asked only for a path without a session.

    `vod/<id>/<file>` is served as is for a public video and refused for a private one;
    `vod/<id>/token/<session>/<file>` is `vod/<id>/<file>` once the session checks out (for a
    public video too, so a video made public keeps playing in open sessions). A live stream's
    files, `live/<liveStreamId>/…` (its thumbnail), follow the same rule with the stream's id.

    A path still percent-encoded (the edge sees the URI as sent; S3 decodes it into the key) is
    refused when it decodes under `vod/` or `live/`: media keys never need encoding, and
    `vod%2F<id>/…` or `%76od/<id>/…` would otherwise name a private video's object past the check."""
    if "%" in path and _encoded_media(path):
        return MediaDecision(key=None, denial=Denial.MALFORMED)
    match = _MEDIA_PATH.fullmatch(path)
    if match is None:
        return MediaDecision(key=path)
    video_id, session, rest = match["video"] or match["stream"], match["session"], match["rest"]
    key = f"{match['folder']}/{rest}"
    if session is None:
        if is_private(video_id):
            return MediaDecision(key=None, denial=Denial.NO_TOKEN, video_id=video_id)
        return MediaDecision(key=key, video_id=video_id)
    denial = check_session(session, video_id, now, keys)
    return MediaDecision(key=None if denial else key, denial=denial, video_id=video_id)


def geo_decision(
    decision: MediaDecision, country: str | None, restriction: Callable[[str], tuple[str, tuple[str, ...]] | None]
) -> MediaDecision:
    """`decision` unless the video's project restricts `country` (then `geo-blocked`, whatever the
    session or privacy: the edge function checks the country first). `restriction(video_id)` is the
    project's (mode, countries), None when the project restricts nothing."""
    if decision.video_id is None:
        return decision
    policy = restriction(decision.video_id)
    if policy is None or geo.geo_allowed(policy[0], policy[1], country):
        return decision
    return MediaDecision(key=None, denial=Denial.GEO, video_id=decision.video_id)


def _encoded_media(path: str) -> bool:
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return True  # not even decodable: never a media key
    return decoded.startswith(_MEDIA_FOLDERS)


def session_keys(setting: str) -> tuple[SessionKey, ...]:
    """Keys from `kid:base64url-secret,kid:…`, the signing one first (the others still verify,
    for the overlap of a rotation)."""
    keys = []
    for part in filter(None, (p.strip() for p in setting.split(","))):
        kid, _, secret = part.partition(":")
        keys.append(SessionKey(kid=kid, secret=base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))))
    return tuple(keys)


def _signature(secret: bytes, video_id: str, expires: int) -> str:
    digest = hmac.new(secret, f"{video_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
