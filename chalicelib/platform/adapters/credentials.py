"""DynamoDB repository of projects, API keys and refresh tokens."""

from __future__ import annotations

from datetime import datetime

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, Put, Table, Update
from chalicelib.core.adapters.records import audit_put
from chalicelib.core.adapters.versioned import CREATE_ONLY, versioned_put
from chalicelib.core.clock import to_atom
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.platform.adapters.records import (
    PROJECTS_INDEX_PK,
    key_from_item,
    key_item,
    key_key,
    project_from_item,
    project_item,
    refresh_family_key,
    refresh_from_item,
    refresh_item,
    refresh_key,
    revoked_family_item,
)
from chalicelib.platform.domain.credentials import ApiKey, Project, RefreshToken


class DynamoCredentialRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create_project(self, project: Project, first_key: ApiKey) -> None:
        self.table.write(
            [
                Put(item=project_item(project), **CREATE_ONLY),  # type: ignore[arg-type]
                Put(item=key_item(first_key), **CREATE_ONLY),  # type: ignore[arg-type]
            ]
        )

    def get_project(self, project_id: str) -> Project | None:
        item = self.table.get(f"P#{project_id}", "PROJECT")
        return None if item is None else project_from_item(item)

    def list_projects(self) -> list[Project]:
        items = self.table.query(PROJECTS_INDEX_PK, index=resources.GSI1)
        return [project_from_item(item) for item in items]

    def get_key(self, project_id: str, key_id: str) -> ApiKey | None:
        item = self.table.get(*key_key(project_id, key_id))
        return None if item is None else key_from_item(item)

    def list_keys(self, project_id: str) -> list[ApiKey]:
        pk, _ = key_key(project_id, "")
        return [key_from_item(item) for item in self.table.query(pk)]

    def create_key(self, key: ApiKey, audit: AuditEvent | None) -> None:
        writes: list[Put | Update] = [Put(item=key_item(key), **CREATE_ONLY)]  # type: ignore[arg-type]
        if audit is not None:
            writes.append(audit_put(audit))
        self.table.write(writes)

    def save_key(self, key: ApiKey, expected_version: int, audit: AuditEvent) -> None:
        self.table.write([versioned_put(key_item(key), expected_version), audit_put(audit)])

    def create_refresh_token(self, token: RefreshToken) -> None:
        self.table.write([Put(item=refresh_item(token), **CREATE_ONLY)])  # type: ignore[arg-type]

    def get_refresh_token(self, project_id: str, token_id: str) -> RefreshToken | None:
        item = self.table.get(*refresh_key(project_id, token_id))
        return None if item is None else refresh_from_item(item)

    def revoke_refresh_family(self, project_id: str, family_id: str, revoked_at: datetime, until: datetime) -> None:
        # A plain Put: revoking twice is the same revocation.
        self.table.write([Put(item=revoked_family_item(project_id, family_id, revoked_at, until))])

    def refresh_family_revoked(self, project_id: str, family_id: str) -> bool:
        return self.table.get(*refresh_family_key(project_id, family_id)) is not None

    def consume_refresh_token(self, token: RefreshToken, used_at: datetime, successor: RefreshToken) -> None:
        """Marks the token used and stores its successor atomically; a second use loses the race."""
        pk, sk = refresh_key(token.project_id, token.token_id)
        self.table.write(
            [
                Update(
                    key={PK: pk, resources.SORT_KEY: sk},
                    expression="SET #used = :now",
                    condition="attribute_exists(#pk) AND attribute_not_exists(#used)",
                    names={"#used": "usedAt", "#pk": PK},
                    values={":now": to_atom(used_at)},
                ),
                Put(item=refresh_item(successor), **CREATE_ONLY),  # type: ignore[arg-type]
            ]
        )
