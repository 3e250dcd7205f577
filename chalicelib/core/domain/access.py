"""Who is calling and what their role allows. Pure rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.WRITE}),
    Role.ADMIN: frozenset({Permission.READ, Permission.WRITE, Permission.ADMIN}),
}


def role_allows(role: Role, permission: Permission) -> bool:
    return permission in _GRANTS[role]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. The project id comes only from here, never from the request."""

    project_id: str
    key_id: str
    role: Role

    def to_context(self) -> dict[str, str]:
        return {"projectId": self.project_id, "keyId": self.key_id, "role": self.role.value}

    @classmethod
    def from_context(cls, context: dict[str, str]) -> Principal:
        return cls(project_id=context["projectId"], key_id=context["keyId"], role=Role(context["role"]))


@dataclass(frozen=True)
class Actor:
    """A principal acting within one request; what the audit log records."""

    principal: Principal
    request_id: str

    @property
    def project_id(self) -> str:
        return self.principal.project_id
