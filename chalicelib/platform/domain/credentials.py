"""API keys and refresh tokens: formats, parsing and entities.

Both carry the project and credential ids in clear so a lookup is one GetItem in the
project's own partition; the secret part is only ever stored as a SHA-256 hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.core import ids
from chalicelib.core.domain.access import Role

API_KEY_PREFIX = "vpk"
REFRESH_TOKEN_PREFIX = "vprt"
PROJECT_ID_PREFIX = "pr"
KEY_ID_PREFIX = "key"
REFRESH_ID_PREFIX = "rt"
SECRET_LENGTH = 40


@dataclass(frozen=True)
class ParsedCredential:
    project_id: str
    credential_id: str
    secret: str


def format_credential(prefix: str, project_id: str, credential_id: str, secret: str) -> str:
    return f"{prefix}_{project_id}_{credential_id}_{secret}"


def parse_credential(prefix: str, credential_id_prefix: str, value: str) -> ParsedCredential | None:
    parts = value.split("_")
    if len(parts) != 4 or parts[0] != prefix:
        return None
    _, project_id, credential_id, secret = parts
    if not (
        ids.is_id(project_id, PROJECT_ID_PREFIX)
        and ids.is_id(credential_id, credential_id_prefix)
        and len(secret) == SECRET_LENGTH
    ):
        return None
    return ParsedCredential(project_id, credential_id, secret)


def parse_api_key(value: str) -> ParsedCredential | None:
    return parse_credential(API_KEY_PREFIX, KEY_ID_PREFIX, value)


def parse_refresh_token(value: str) -> ParsedCredential | None:
    return parse_credential(REFRESH_TOKEN_PREFIX, REFRESH_ID_PREFIX, value)


@dataclass(frozen=True)
class IssuedSecret:
    """A credential as handed to its owner once; only `secret_hash` is stored."""

    credential_id: str
    value: str
    secret_hash: str


def issue_secret(prefix: str, project_id: str, credential_id: str) -> IssuedSecret:
    secret = ids.random_base62(SECRET_LENGTH)
    return IssuedSecret(
        credential_id=credential_id,
        value=format_credential(prefix, project_id, credential_id, secret),
        secret_hash=ids.hash_secret(secret),
    )


@dataclass(frozen=True)
class Project:
    project_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    project_id: str
    key_id: str
    name: str
    role: Role
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    version: int = 1

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class RefreshToken:
    project_id: str
    token_id: str
    key_id: str
    secret_hash: str
    expires_at: datetime
    used_at: datetime | None = None
    # The id of the first token of the login it descends from (its own id for that one).
    family_id: str = ""

    @property
    def family(self) -> str:
        return self.family_id or self.token_id  # tokens stored before families existed
