"""Playback JWT rules (chalicelib/playback/domain/playback_keys.py): what a tenant's token opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from chalicelib.playback.domain import playback_keys
from chalicelib.playback.domain.access import Denial

NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
VIDEO = "vi" + "a" * 22


@pytest.fixture(scope="module")
def key() -> tuple[playback_keys.PlaybackKey, str]:
    return playback_keys.new_key("pr" + "0" * 22, NOW)


def sign(key: tuple[playback_keys.PlaybackKey, str], **claims: Any) -> str:
    public, private = key
    payload = {"sub": VIDEO, "exp": int((NOW + timedelta(minutes=5)).timestamp()), **claims}
    return jwt.encode(payload, private, algorithm="ES256", headers={"kid": public.key_id})


@pytest.mark.parametrize(
    ("header", "origin"),
    [
        ("https://Shop.example/products/1?x=1", "https://shop.example"),
        ("http://127.0.0.1:8080/post", "http://127.0.0.1:8080"),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
        ("https://[::1", None),
    ],
)
def test_origin_of_a_referer(header: str | None, origin: str | None) -> None:
    assert playback_keys.origin_of(header) == origin


def test_a_token_with_an_audience_opens_only_there(key: tuple[playback_keys.PlaybackKey, str]) -> None:
    token = sign(key, aud=["https://shop.example/"])
    keys = [key[0]]
    assert playback_keys.verify(token, VIDEO, keys, NOW, "https://shop.example").denial is None
    for origin in ("https://shop.example.evil", "http://shop.example", None):
        assert playback_keys.verify(token, VIDEO, keys, NOW, origin).denial is Denial.REFERRER


def test_exp_and_sub_are_required(key: tuple[playback_keys.PlaybackKey, str]) -> None:
    public, private = key
    without_exp = jwt.encode({"sub": VIDEO}, private, algorithm="ES256", headers={"kid": public.key_id})
    assert playback_keys.verify(without_exp, VIDEO, [public], NOW, None).denial is Denial.MALFORMED
    expired = sign(key, exp=int(NOW.timestamp()))
    assert playback_keys.verify(expired, VIDEO, [public], NOW, None).denial is Denial.EXPIRED
    verdict = playback_keys.verify(sign(key), VIDEO, [public], NOW, None)
    assert verdict.denial is None and verdict.expires == int((NOW + timedelta(minutes=5)).timestamp())


def test_only_es256_with_a_known_kid(key: tuple[playback_keys.PlaybackKey, str]) -> None:
    public, _ = key
    hs256 = jwt.encode(
        {"sub": VIDEO, "exp": 2**40},
        "a shared secret of thirty-two b!",
        algorithm="HS256",
        headers={"kid": public.key_id},
    )
    assert playback_keys.verify(hs256, VIDEO, [public], NOW, None).denial is Denial.MALFORMED
    assert playback_keys.verify(sign(key), VIDEO, [], NOW, None).denial is Denial.UNKNOWN_KEY
