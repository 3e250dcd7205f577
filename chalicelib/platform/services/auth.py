"""API key → access/refresh tokens, refresh rotation, and resolving a caller from a header."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.core import ids
from chalicelib.core.domain import audit
from chalicelib.core.domain.access import Principal
from chalicelib.core.domain.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidAccessToken,
    InvalidApiKey,
    InvalidAuthorizationHeader,
    InvalidRefreshToken,
    MissingAuthorizationHeader,
    NotFound,
)
from chalicelib.core.ports import AuditLog
from chalicelib.platform.domain import tokens
from chalicelib.platform.domain.credentials import (
    REFRESH_ID_PREFIX,
    REFRESH_TOKEN_PREFIX,
    ApiKey,
    RefreshToken,
    issue_secret,
    parse_api_key,
    parse_refresh_token,
)
from chalicelib.platform.ports import CredentialRepository, SigningKeyStore


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def to_wire(self) -> dict[str, object]:
        """Exactly the four keys the api.video SDK reads."""
        return {
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
        }


@dataclass(frozen=True)
class Credentials:
    scheme: str
    value: str
    # EnableX's form of Basic: APP_ID (the project id) as the user name, the API key as the password.
    project_id: str | None = None


def parse_authorization(header: str | None) -> Credentials:
    """`Bearer <jwt>`, `Basic base64(<api key>:)` or, as EnableX's app servers send it,
    `Basic base64(<project id>:<api key>)`; schemes are case-insensitive."""
    if header is None or not header.strip():
        raise MissingAuthorizationHeader()
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        return Credentials("bearer", value)
    if scheme == "basic" and value:
        try:
            # b64decode raises a plain ValueError (not binascii.Error) for non-ASCII text.
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise InvalidAuthorizationHeader() from exc
        username, _, password = decoded.partition(":")
        if parse_api_key(username) is None and parse_api_key(password) is not None:
            return Credentials("basic", password, project_id=username)
        if username:
            return Credentials("basic", username)
    raise InvalidAuthorizationHeader()


class AuthService:
    def __init__(
        self,
        credentials: CredentialRepository,
        keys: SigningKeyStore,
        audit_log: AuditLog,
        issuer: str,
        access_ttl: timedelta,
        refresh_ttl: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.credentials = credentials
        self.keys = keys
        self.audit_log = audit_log
        self.issuer = issuer
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.clock = clock

    def exchange_api_key(self, api_key: str, request_id: str) -> TokenPair:
        key = self._active_key(api_key, request_id)
        return self._issue(key)

    def refresh(self, refresh_token: str, request_id: str) -> TokenPair:
        parsed = parse_refresh_token(refresh_token)
        if parsed is None:
            raise InvalidRefreshToken()
        token = self.credentials.get_refresh_token(parsed.project_id, parsed.credential_id)
        now = self.clock()
        if token is None or not ids.secrets_match(parsed.secret, token.secret_hash):
            raise InvalidRefreshToken()
        if token.used_at is not None:
            self._revoke_family(token, now, request_id)
            raise InvalidRefreshToken()
        if token.expires_at <= now:
            self._record_failure(token.project_id, token.key_id, request_id, "refresh token expired")
            raise InvalidRefreshToken()
        if self.credentials.refresh_family_revoked(token.project_id, token.family):
            self._record_failure(token.project_id, token.key_id, request_id, "refresh token of a revoked family")
            raise InvalidRefreshToken()
        key = self.credentials.get_key(token.project_id, token.key_id)
        if key is None or not key.active:
            raise InvalidRefreshToken()
        pair, successor = self._new_pair(key, family_id=token.family)
        try:
            self.credentials.consume_refresh_token(token, now, successor)
        except Conflict as exc:
            # Another request used it first: two uses of one token, which is reuse too.
            self._revoke_family(token, now, request_id)
            raise InvalidRefreshToken() from exc
        return pair

    def _revoke_family(self, token: RefreshToken, now: datetime, request_id: str) -> None:
        """A used token presented again has leaked (RFC 9700 §4.14.2): the server cannot tell the
        owner's successor from the thief's, so every token of the login stops working. Access
        tokens already issued live out their short lifetime."""
        # Successors are issued for refresh_ttl at most, so the mark outlives every one of them.
        self.credentials.revoke_refresh_family(token.project_id, token.family, now, now + self.refresh_ttl)
        self._record_failure(token.project_id, token.key_id, request_id, "refresh token reused: its family revoked")

    def authenticate(self, authorization: str | None, request_id: str) -> Principal:
        """What the API Gateway authorizer runs: resolve the caller or raise an auth problem."""
        credentials = parse_authorization(authorization)
        if credentials.scheme == "basic":
            key = self._active_key(credentials.value, request_id)
            if credentials.project_id is not None and credentials.project_id != key.project_id:
                self._record_failure(key.project_id, key.key_id, request_id, "API key sent with another project id")
                raise InvalidApiKey()
            return Principal(project_id=key.project_id, key_id=key.key_id, role=key.role)
        principal = self._verify(credentials.value)
        current = self.credentials.get_key(principal.project_id, principal.key_id)
        if current is None or not current.active:
            self._record_failure(principal.project_id, principal.key_id, request_id, "access token of a revoked key")
            raise InvalidAccessToken()
        # The key's current role wins over the one in the token: a demotion or revocation applies
        # to a token as soon as API Gateway's cached authorization for it expires (60 s).
        return Principal(project_id=current.project_id, key_id=current.key_id, role=current.role)

    def _verify(self, token: str) -> Principal:
        keyset = self.keys.load()
        try:
            keyset.find(tokens.token_kid(token))
        except KeyError:
            # A key rotated in by another process since our cache was filled.
            keyset = self.keys.load(refresh=True)
        return tokens.verify_access_token(token, keyset, self.issuer)

    def _active_key(self, api_key: str, request_id: str) -> ApiKey:
        parsed = parse_api_key(api_key)
        if parsed is None:
            raise InvalidApiKey()
        key = self.credentials.get_key(parsed.project_id, parsed.credential_id)
        if key is None:
            raise InvalidApiKey()
        if not ids.secrets_match(parsed.secret, key.secret_hash):
            self._record_failure(key.project_id, key.key_id, request_id, "wrong secret for an existing API key")
            raise InvalidApiKey()
        if not key.active:
            self._record_failure(key.project_id, key.key_id, request_id, "revoked API key used")
            raise InvalidApiKey()
        return key

    def _issue(self, key: ApiKey) -> TokenPair:
        pair, refresh = self._new_pair(key)
        self.credentials.create_refresh_token(refresh)
        return pair

    def _new_pair(self, key: ApiKey, family_id: str = "") -> tuple[TokenPair, RefreshToken]:
        now = self.clock()
        principal = Principal(project_id=key.project_id, key_id=key.key_id, role=key.role)
        access = tokens.issue_access_token(principal, self.keys.load(), now, self.access_ttl, self.issuer)
        secret = issue_secret(REFRESH_TOKEN_PREFIX, key.project_id, ids.new_id(REFRESH_ID_PREFIX))
        refresh = RefreshToken(
            project_id=key.project_id,
            token_id=secret.credential_id,
            key_id=key.key_id,
            secret_hash=secret.secret_hash,
            expires_at=now + self.refresh_ttl,
            family_id=family_id or secret.credential_id,
        )
        pair = TokenPair(access, secret.value, int(self.access_ttl.total_seconds()))
        return pair, refresh

    def _record_failure(self, project_id: str, key_id: str, request_id: str, detail: str) -> None:
        self.audit_log.append(
            audit.record_event(
                project_id, key_id, request_id, "auth.failed", "apiKey", key_id, self.clock(), detail=detail
            )
        )


def rotate_signing_keys(store: SigningKeyStore, now: datetime, access_ttl: timedelta) -> tokens.SigningKeySet:
    """Adds a new active key and keeps the old ones long enough for every issued token to expire."""
    try:
        current: tokens.SigningKeySet | None = store.load(refresh=True)
    except NotFound:
        current = None
    keyset = tokens.rotate(current, now, retain=access_ttl * 2)
    store.store(keyset)
    return keyset


__all__ = ["AuthService", "AuthenticationFailed", "TokenPair", "parse_authorization", "rotate_signing_keys"]
