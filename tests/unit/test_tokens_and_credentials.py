from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from chalicelib.core import ids
from chalicelib.core.domain.access import Permission, Principal, Role, role_allows
from chalicelib.core.domain.errors import InvalidAccessToken, InvalidAuthorizationHeader, MissingAuthorizationHeader
from chalicelib.platform.domain import tokens
from chalicelib.platform.domain.credentials import API_KEY_PREFIX, issue_secret, parse_api_key, parse_refresh_token
from chalicelib.platform.services.auth import parse_authorization

NOW = datetime.now(UTC).replace(microsecond=0)
PRINCIPAL = Principal(project_id=ids.new_id("pr"), key_id=ids.new_id("key"), role=Role.OPERATOR)


def keyset() -> tokens.SigningKeySet:
    return tokens.rotate(None, NOW, timedelta(hours=2))


def test_issued_token_verifies_and_carries_kid() -> None:
    keys = keyset()
    token = tokens.issue_access_token(PRINCIPAL, keys, NOW, timedelta(hours=1), "vp")
    assert jwt.get_unverified_header(token)["kid"] == keys.active_kid
    assert tokens.verify_access_token(token, keys, "vp") == PRINCIPAL


def test_rotation_keeps_old_tokens_valid_and_signs_with_new_key() -> None:
    old = keyset()
    token = tokens.issue_access_token(PRINCIPAL, old, NOW, timedelta(hours=1), "vp")
    rotated = tokens.rotate(old, NOW + timedelta(minutes=5), timedelta(hours=2))
    assert rotated.active_kid != old.active_kid
    assert tokens.verify_access_token(token, rotated, "vp") == PRINCIPAL
    pruned = tokens.rotate(rotated, NOW + timedelta(hours=3), timedelta(hours=2))
    with pytest.raises(InvalidAccessToken):
        tokens.verify_access_token(token, pruned, "vp")


def test_keyset_survives_json_round_trip() -> None:
    keys = keyset()
    assert tokens.SigningKeySet.from_json(keys.to_json()) == keys


@pytest.mark.parametrize("tamper", ["expired", "issuer", "alg-none", "unknown-kid", "garbage", "other-secret"])
def test_bad_tokens_are_refused(tamper: str) -> None:
    keys = keyset()
    secret = keys.active().secret
    expires = int((NOW + timedelta(hours=1)).timestamp())
    claims = {"iss": "vp", "aud": tokens.AUDIENCE, "sub": PRINCIPAL.key_id, "pid": PRINCIPAL.project_id,
              "role": "admin", "iat": int(NOW.timestamp()), "exp": expires}  # fmt: skip
    header = {"kid": keys.active_kid}
    if tamper == "expired":
        claims["exp"] = int((NOW - timedelta(minutes=5)).timestamp())
        token = jwt.encode(claims, secret, algorithm="HS256", headers=header)
    elif tamper == "issuer":
        token = jwt.encode({**claims, "iss": "evil"}, secret, algorithm="HS256", headers=header)
    elif tamper == "alg-none":
        token = jwt.encode(claims, None, algorithm="none", headers=header)  # type: ignore[arg-type]
    elif tamper == "unknown-kid":
        token = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": "sk-unknown"})
    elif tamper == "other-secret":
        token = jwt.encode(claims, b"x" * 32, algorithm="HS256", headers=header)
    else:
        token = "not.a.jwt"
    with pytest.raises(InvalidAccessToken):
        tokens.verify_access_token(token, keys, "vp")


def test_api_key_format_round_trips_and_rejects_tampering() -> None:
    issued = issue_secret(API_KEY_PREFIX, PRINCIPAL.project_id, PRINCIPAL.key_id)
    parsed = parse_api_key(issued.value)
    assert parsed is not None and parsed.project_id == PRINCIPAL.project_id
    assert ids.secrets_match(parsed.secret, issued.secret_hash)
    # Another last character (a random secret ends in "x" one time in 62).
    tampered = parsed.secret[:-1] + ("y" if parsed.secret.endswith("x") else "x")
    assert not ids.secrets_match(tampered, issued.secret_hash)
    assert parse_api_key(issued.value + "x") is None
    assert parse_api_key("vpk_short") is None
    assert parse_refresh_token(issued.value) is None


def test_authorization_header_schemes() -> None:
    assert parse_authorization("Bearer abc").value == "abc"
    assert parse_authorization("bearer abc").scheme == "bearer"
    basic = base64.b64encode(b"vpk_key:").decode()
    assert parse_authorization(f"Basic {basic}").value == "vpk_key"
    with pytest.raises(MissingAuthorizationHeader):
        parse_authorization(None)
    for bad in ("Token abc", "Bearer", "Basic !!!", f"Basic {base64.b64encode(b':pw').decode()}"):
        with pytest.raises(InvalidAuthorizationHeader):
            parse_authorization(bad)


def test_enablex_basic_carries_the_project_id_as_user_and_the_key_as_password() -> None:
    key = issue_secret(API_KEY_PREFIX, PRINCIPAL.project_id, PRINCIPAL.key_id).value
    enablex = parse_authorization("Basic " + base64.b64encode(f"{PRINCIPAL.project_id}:{key}".encode()).decode())
    assert (enablex.scheme, enablex.value, enablex.project_id) == ("basic", key, PRINCIPAL.project_id)
    # Videoplane's own Basic (the key as the user name) names no project; a password that is not a
    # key leaves the user name as the key (refused later as an unknown one).
    own = parse_authorization("Basic " + base64.b64encode(f"{key}:anything".encode()).decode())
    assert (own.value, own.project_id) == (key, None)
    other = parse_authorization("Basic " + base64.b64encode(b"app-id:app-key").decode())
    assert (other.value, other.project_id) == ("app-id", None)


def test_roles() -> None:
    assert role_allows(Role.VIEWER, Permission.READ) and not role_allows(Role.VIEWER, Permission.WRITE)
    assert role_allows(Role.OPERATOR, Permission.WRITE) and not role_allows(Role.OPERATOR, Permission.ADMIN)
    assert all(role_allows(Role.ADMIN, p) for p in Permission)
