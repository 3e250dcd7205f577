"""Named profiles with one project default (encoding profiles, live event templates): CRUD, the
default moved atomically, optimistic versions, audit entries. Each context supplies its profile's
rules (how one is made, updated, cleared of the default flag, and the built-in one) and its names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.core.domain import audit
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.errors import Conflict, DomainError, NotFound
from chalicelib.core.domain.pagination import Page, PageRequest, paginate

UPDATE_ATTEMPTS = 3


class NamedProfile(Protocol):
    @property
    def project_id(self) -> str: ...
    @property
    def default(self) -> bool: ...
    @property
    def version(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    def model_dump(self, *, mode: str, exclude: set[str]) -> dict[str, Any]: ...


ProfileT = TypeVar("ProfileT", bound=NamedProfile)
CreationT_contra = TypeVar("CreationT_contra", contravariant=True)


class ProfileRepository(Protocol[ProfileT]):
    def get(self, project_id: str, profile_id: str) -> ProfileT | None: ...
    def list_all(self, project_id: str) -> list[ProfileT]: ...
    def save(self, changes: Sequence[tuple[ProfileT, int | None]], audit: AuditEvent) -> None:
        """Profiles at their expected versions (None: new), with the audit entry, in one transaction."""
        ...

    def delete(self, profile: ProfileT, audit: AuditEvent) -> None: ...


class ProfileUpdate(Protocol):
    def changes(self) -> dict[str, Any]: ...


class ProfileRules(Protocol[ProfileT, CreationT_contra]):
    """A context's pure rules for its kind of profile."""

    def identity(self, profile: ProfileT) -> str: ...
    def new(self, project_id: str, payload: CreationT_contra, now: datetime) -> ProfileT: ...
    def updated(self, current: ProfileT, changes: dict[str, Any], now: datetime) -> ProfileT: ...
    def cleared(self, profile: ProfileT, now: datetime) -> ProfileT: ...
    def built_in(self, project_id: str) -> ProfileT: ...


@dataclass(frozen=True)
class ProfileNames:
    """The words a context uses on the wire and in its audit log."""

    action: str  # the audit action's prefix: "<action>.create"
    resource: str  # the audit entry's resource type
    id_field: str  # the path parameter naming a profile
    default_in_use: type[DomainError]  # deleting the default
    built_in_id: str  # the id that names the built-in profile
    reference_field: str  # the field by which another resource names a profile


def snapshot(profile: NamedProfile) -> dict[str, Any]:
    return profile.model_dump(mode="json", exclude={"project_id"})


class NamedProfiles(Generic[ProfileT, CreationT_contra]):
    def __init__(
        self,
        repository: ProfileRepository[ProfileT],
        rules: ProfileRules[ProfileT, CreationT_contra],
        names: ProfileNames,
        clock: Callable[[], datetime],
    ) -> None:
        self.repository = repository
        self.rules = rules
        self.names = names
        self.clock = clock

    def create(self, actor: Actor, payload: CreationT_contra) -> ProfileT:
        for _ in range(UPDATE_ATTEMPTS):
            profile = self.rules.new(actor.project_id, payload, self.clock())
            changes = [(profile, None), *self._clear_default(actor.project_id, profile)]
            entry = self._audit(actor, "create", profile, after=snapshot(profile))
            try:
                self.repository.save(changes, entry)
                return profile
            except Conflict:
                continue  # the previous default changed meanwhile
        raise Conflict(name="default")

    def get(self, actor: Actor, profile_id: str, name: str | None = None) -> ProfileT:
        profile = self.repository.get(actor.project_id, profile_id)
        if profile is None:
            raise NotFound(name=name or self.names.id_field)
        return profile

    def list(self, actor: Actor, page: PageRequest) -> Page[ProfileT]:
        found = self.repository.list_all(actor.project_id)
        return paginate(sorted(found, key=lambda p: (p.created_at, self.rules.identity(p))), page)

    def update(self, actor: Actor, profile_id: str, payload: ProfileUpdate) -> ProfileT:
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, profile_id)
            updated = self.rules.updated(current, payload.changes(), self.clock())
            changes = [(updated, current.version), *self._clear_default(actor.project_id, updated)]
            entry = self._audit(actor, "update", updated, before=snapshot(current), after=snapshot(updated))
            try:
                self.repository.save(changes, entry)
                return updated
            except Conflict:
                continue
        raise Conflict(name=self.names.id_field)

    def delete(self, actor: Actor, profile_id: str) -> None:
        """Whatever applied the profile keeps its copy; the repository deletes at the version read,
        so a profile made default meanwhile is not deleted."""
        profile = self.get(actor, profile_id)
        if profile.default:
            raise self.names.default_in_use(name=self.names.id_field)
        self.repository.delete(profile, self._audit(actor, "delete", profile, before=snapshot(profile)))

    def default_profile(self, project_id: str) -> ProfileT:
        stored = [p for p in self.repository.list_all(project_id) if p.default]
        return stored[0] if stored else self.rules.built_in(project_id)

    def resolve(self, project_id: str, profile_id: str | None) -> ProfileT:
        """The profile another resource names, or the project default (a stored one, else the
        built-in)."""
        if profile_id is None or profile_id == self.names.built_in_id:
            return self.default_profile(project_id)
        profile = self.repository.get(project_id, profile_id)
        if profile is None:
            raise NotFound(name=self.names.reference_field)
        return profile

    def _audit(
        self,
        actor: Actor,
        verb: str,
        profile: ProfileT,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditEvent:
        return audit.record(
            actor, f"{self.names.action}.{verb}", self.names.resource, self.rules.identity(profile), self.clock(),
            before=before, after=after,
        )  # fmt: skip

    def _clear_default(self, project_id: str, profile: ProfileT) -> Sequence[tuple[ProfileT, int | None]]:
        if not profile.default:
            return []
        key = self.rules.identity(profile)
        return [
            (self.rules.cleared(other, self.clock()), other.version)
            for other in self.repository.list_all(project_id)
            if other.default and self.rules.identity(other) != key
        ]
