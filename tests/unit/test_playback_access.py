"""The private playback rules (chalicelib/playback/domain/access.py): sessions and the media check
the media server and the edge apply to every playlist and segment request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.playback.domain import access
from chalicelib.playback.domain.access import Denial, SessionKey

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
VIDEO = "vi" + "a" * 22
OTHER = "vi" + "b" * 22
CURRENT = SessionKey("k2", b"current-secret-current-secret-32")
PREVIOUS = SessionKey("k1", b"previous-secret-previous-secret!")
KEYS = {CURRENT.kid: CURRENT.secret, PREVIOUS.kid: PREVIOUS.secret}


def never_private(video_id: str) -> bool:
    return False


def always_private(video_id: str) -> bool:
    return True


def test_a_session_opens_its_video_until_it_expires() -> None:
    session = access.issue_session(VIDEO, NOW, CURRENT, timedelta(minutes=5))
    assert access.check_session(session, VIDEO, NOW + timedelta(minutes=4, seconds=59), KEYS) is None
    assert access.check_session(session, VIDEO, NOW + timedelta(minutes=5), KEYS) is Denial.EXPIRED


def test_a_session_of_one_video_does_not_open_another() -> None:
    session = access.issue_session(VIDEO, NOW, CURRENT)
    assert access.check_session(session, OTHER, NOW, KEYS) is Denial.BAD_SIGNATURE


def test_rotation_keeps_the_previous_key_until_it_is_removed() -> None:
    old = access.issue_session(VIDEO, NOW, PREVIOUS)
    assert access.check_session(old, VIDEO, NOW, KEYS) is None
    assert access.check_session(old, VIDEO, NOW, {CURRENT.kid: CURRENT.secret}) is Denial.UNKNOWN_KEY


@pytest.mark.parametrize(
    "tampered",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # signature
        lambda s: s.replace(".", ".9", 1),  # a later expiry
        lambda s: "k1" + s[2:],  # another key's name
    ],
)
def test_a_tampered_session_is_refused(tampered: object) -> None:
    session = access.issue_session(VIDEO, NOW, CURRENT)
    changed = tampered(session)  # type: ignore[operator]
    assert access.check_session(changed, VIDEO, NOW, KEYS) in {Denial.BAD_SIGNATURE, Denial.MALFORMED}


@pytest.mark.parametrize("garbage", ["", "x", "k2.1.2.3", "k2.abc." + "a" * 43, "../../etc", "k2.1." + "a" * 42])
def test_garbage_is_malformed(garbage: str) -> None:
    assert access.check_session(garbage, VIDEO, NOW, KEYS) is Denial.MALFORMED


def test_public_media_is_served_as_is_and_private_media_needs_a_session() -> None:
    path = f"vod/{VIDEO}/hls/720p/segment_00001.ts"
    assert access.media_decision(path, NOW, KEYS, never_private).key == path
    refused = access.media_decision(path, NOW, KEYS, always_private)
    assert (refused.key, refused.denial) == (None, Denial.NO_TOKEN)

    session = access.issue_session(VIDEO, NOW, CURRENT)
    through = access.media_decision(f"vod/{VIDEO}/token/{session}/hls/720p/segment_00001.ts", NOW, KEYS, always_private)
    assert (through.key, through.denial) == (path, None)


def test_a_session_path_never_asks_whether_the_video_is_private() -> None:
    """The per-segment cost of a private video is one HMAC: no table read."""
    asked: list[str] = []

    def spy(video_id: str) -> bool:
        asked.append(video_id)
        return True

    session = access.issue_session(VIDEO, NOW, CURRENT)
    access.media_decision(f"vod/{VIDEO}/token/{session}/hls/manifest.m3u8", NOW, KEYS, spy)
    assert asked == []


def test_an_expired_or_foreign_session_path_is_refused() -> None:
    session = access.issue_session(VIDEO, NOW - timedelta(days=2), CURRENT)
    assert (
        access.media_decision(f"vod/{VIDEO}/token/{session}/a.ts", NOW, KEYS, always_private).denial is Denial.EXPIRED
    )
    fresh = access.issue_session(OTHER, NOW, CURRENT)
    decision = access.media_decision(f"vod/{VIDEO}/token/{fresh}/a.ts", NOW, KEYS, always_private)
    assert (decision.key, decision.denial) == (None, Denial.BAD_SIGNATURE)


def test_paths_outside_videos_are_left_alone() -> None:
    for path in ("players/pl1/logo-x.png", "live/li1/index.m3u8"):
        assert access.media_decision(path, NOW, KEYS, always_private).key == path


def test_session_keys_setting_lists_the_signing_key_first() -> None:
    keys = access.session_keys("new:bmV3LXNlY3JldA, old:b2xkLXNlY3JldA==,")
    assert [(k.kid, k.secret) for k in keys] == [("new", b"new-secret"), ("old", b"old-secret")]


def test_private_tokens_are_lowercase_uuids() -> None:
    token = access.new_private_token()
    assert access.is_private_token(token)
    assert not access.is_private_token(token.upper())
    assert not access.is_private_token("not-a-token")
