"""Projects (tenants) and their API keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from chalicelib.core import ids
from chalicelib.core.domain import audit
from chalicelib.core.domain.access import Actor, Role
from chalicelib.core.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.platform.domain.credentials import (
    API_KEY_PREFIX,
    KEY_ID_PREFIX,
    PROJECT_ID_PREFIX,
    ApiKey,
    Project,
    issue_secret,
)
from chalicelib.platform.ports import CredentialRepository

KeyName = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]


class KeyCreation(BaseModel):
    name: KeyName = "API key"
    role: Role = Role.OPERATOR


class KeyUpdate(BaseModel):
    name: KeyName | None = None
    role: Role | None = None


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    value: str


def key_snapshot(key: ApiKey) -> dict[str, object]:
    """What the audit log and the API show of a key: never its hash."""
    return {"keyId": key.key_id, "name": key.name, "role": key.role.value, "revoked": not key.active}


class ProjectService:
    def __init__(self, credentials: CredentialRepository, clock: Callable[[], datetime]) -> None:
        self.credentials = credentials
        self.clock = clock

    def create_project(self, name: str) -> IssuedKey:
        if not name.strip() or len(name) > 128:
            raise InvalidInput([Problem("invalid-attribute", "The project name must be 1 to 128 characters.", "name")])
        now = self.clock()
        project = Project(project_id=ids.new_id(PROJECT_ID_PREFIX), name=name.strip(), created_at=now)
        issued = self._new_key(project.project_id, KeyCreation(name="first admin key", role=Role.ADMIN))
        self.credentials.create_project(project, issued.key)
        return issued

    def list_projects(self) -> list[Project]:
        return self.credentials.list_projects()

    def create_key(self, project_id: str, payload: KeyCreation, actor: Actor | None) -> IssuedKey:
        """`actor` is None when an operator creates the key from the command line."""
        if self.credentials.get_project(project_id) is None:
            raise NotFound(name="projectId")
        issued = self._new_key(project_id, payload)
        event = None
        if actor is not None:
            event = audit.record(
                actor, "apiKey.create", "apiKey", issued.key.key_id, self.clock(), after=key_snapshot(issued.key)
            )
        self.credentials.create_key(issued.key, event)
        return issued

    def list_keys(self, actor: Actor) -> list[ApiKey]:
        return sorted(self.credentials.list_keys(actor.project_id), key=lambda k: (k.created_at, k.key_id))

    def get_key(self, actor: Actor, key_id: str) -> ApiKey:
        key = self.credentials.get_key(actor.project_id, key_id)
        if key is None:
            raise NotFound(name="keyId")
        return key

    def update_key(self, actor: Actor, key_id: str, payload: KeyUpdate) -> ApiKey:
        key = self.get_key(actor, key_id)
        changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
        updated = ApiKey(**{**key.__dict__, **changes, "version": key.version + 1})
        action = "apiKey.roleChange" if "role" in changes and changes["role"] != key.role else "apiKey.update"
        self.credentials.save_key(
            updated,
            key.version,
            audit.record(
                actor, action, "apiKey", key_id, self.clock(), before=key_snapshot(key), after=key_snapshot(updated)
            ),
        )
        return updated

    def revoke_key(self, actor: Actor, key_id: str) -> None:
        key = self.get_key(actor, key_id)
        if not key.active:
            return
        revoked = ApiKey(**{**key.__dict__, "revoked_at": self.clock(), "version": key.version + 1})
        self.credentials.save_key(
            revoked,
            key.version,
            audit.record(
                actor,
                "apiKey.revoke",
                "apiKey",
                key_id,
                self.clock(),
                before=key_snapshot(key),
                after=key_snapshot(revoked),
            ),
        )

    def _new_key(self, project_id: str, payload: KeyCreation) -> IssuedKey:
        secret = issue_secret(API_KEY_PREFIX, project_id, ids.new_id(KEY_ID_PREFIX))
        key = ApiKey(
            project_id=project_id,
            key_id=secret.credential_id,
            name=payload.name,
            role=payload.role,
            secret_hash=secret.secret_hash,
            created_at=self.clock(),
        )
        return IssuedKey(key=key, value=secret.value)
