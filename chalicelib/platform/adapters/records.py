"""Item layouts of projects, API keys and refresh tokens (docs/data-model.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, project_partition
from chalicelib.core.adapters.records import TTL
from chalicelib.core.clock import epoch_seconds, from_atom, to_atom
from chalicelib.core.domain.access import Role
from chalicelib.platform.domain.credentials import ApiKey, Project, RefreshToken

PROJECTS_INDEX_PK = "PROJECTS"


def project_item(project: Project) -> dict[str, Any]:
    return {
        PK: f"P#{project.project_id}",
        SK: "PROJECT",
        resources.GSI1_PARTITION_KEY: PROJECTS_INDEX_PK,
        resources.GSI1_SORT_KEY: project.project_id,
        "entity": "project",
        "projectId": project.project_id,
        "name": project.name,
        "createdAt": to_atom(project.created_at),
    }


def project_from_item(item: dict[str, Any]) -> Project:
    return Project(project_id=item["projectId"], name=item["name"], created_at=from_atom(item["createdAt"]))


def key_key(project_id: str, key_id: str) -> tuple[str, str]:
    return project_partition(project_id, "KEY"), key_id


def key_item(key: ApiKey) -> dict[str, Any]:
    pk, sk = key_key(key.project_id, key.key_id)
    return {
        PK: pk,
        SK: sk,
        "entity": "apiKey",
        "projectId": key.project_id,
        "keyId": key.key_id,
        "name": key.name,
        "role": key.role.value,
        "secretHash": key.secret_hash,
        "createdAt": to_atom(key.created_at),
        "revokedAt": to_atom(key.revoked_at) if key.revoked_at else None,
        "version": key.version,
    }


def key_from_item(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        project_id=item["projectId"],
        key_id=item["keyId"],
        name=item["name"],
        role=Role(item["role"]),
        secret_hash=item["secretHash"],
        created_at=from_atom(item["createdAt"]),
        revoked_at=from_atom(item["revokedAt"]) if item.get("revokedAt") else None,
        version=int(item["version"]),
    )


def refresh_key(project_id: str, token_id: str) -> tuple[str, str]:
    return project_partition(project_id, "REFRESH"), token_id


def refresh_item(token: RefreshToken) -> dict[str, Any]:
    pk, sk = refresh_key(token.project_id, token.token_id)
    return {
        PK: pk,
        SK: sk,
        "entity": "refreshToken",
        "projectId": token.project_id,
        "tokenId": token.token_id,
        "keyId": token.key_id,
        "secretHash": token.secret_hash,
        "expiresAt": to_atom(token.expires_at),
        "usedAt": to_atom(token.used_at) if token.used_at else None,
        "familyId": token.family,
        TTL: epoch_seconds(token.expires_at),
    }


def refresh_family_key(project_id: str, family_id: str) -> tuple[str, str]:
    return project_partition(project_id, "REFRESHFAMILY"), family_id


def revoked_family_item(project_id: str, family_id: str, revoked_at: datetime, until: datetime) -> dict[str, Any]:
    """Kept until the last token the family could still hold has expired."""
    pk, sk = refresh_family_key(project_id, family_id)
    return {
        PK: pk,
        SK: sk,
        "entity": "revokedRefreshFamily",
        "revokedAt": to_atom(revoked_at),
        TTL: epoch_seconds(until),
    }


def refresh_from_item(item: dict[str, Any]) -> RefreshToken:
    return RefreshToken(
        project_id=item["projectId"],
        token_id=item["tokenId"],
        key_id=item["keyId"],
        secret_hash=item["secretHash"],
        expires_at=from_atom(item["expiresAt"]),
        used_at=from_atom(item["usedAt"]) if item.get("usedAt") else None,
        family_id=str(item.get("familyId") or ""),
    )
