"""Encoding profiles: CRUD, the project default, and the profile a new video encodes with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from chalicelib.core.domain import audit
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import Conflict, NotFound
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.vod.domain import encoding, encoding_profiles
from chalicelib.vod.domain.encoding_profiles import (
    DefaultProfileInUse,
    EncodingProfile,
    EncodingProfileCreation,
    EncodingProfileUpdate,
)
from chalicelib.vod.ports import EncodingProfileRepository

UPDATE_ATTEMPTS = 3


def snapshot(profile: EncodingProfile) -> dict[str, Any]:
    return profile.model_dump(mode="json", exclude={"project_id"})


class EncodingProfileService:
    def __init__(self, repository: EncodingProfileRepository, clock: Callable[[], datetime]) -> None:
        self.repository = repository
        self.clock = clock

    def create(self, actor: Actor, payload: EncodingProfileCreation) -> EncodingProfile:
        for _ in range(UPDATE_ATTEMPTS):
            profile = encoding_profiles.new_profile(actor.project_id, payload, self.clock())
            changes = [(profile, None), *self._clear_default(actor.project_id, profile)]
            entry = audit.record(
                actor, "encodingProfile.create", "encodingProfile", profile.profile_id, self.clock(),
                after=snapshot(profile),
            )  # fmt: skip
            try:
                self.repository.save(changes, entry)
                return profile
            except Conflict:
                continue  # the previous default changed meanwhile
        raise Conflict(name="default")

    def get(self, actor: Actor, profile_id: str, name: str = "profileId") -> EncodingProfile:
        profile = self.repository.get(actor.project_id, profile_id)
        if profile is None:
            raise NotFound(name=name)
        return profile

    def list(self, actor: Actor, page: PageRequest) -> Page[EncodingProfile]:
        found = self.repository.list_all(actor.project_id)
        return paginate(sorted(found, key=lambda p: (p.created_at, p.profile_id)), page)

    def update(self, actor: Actor, profile_id: str, payload: EncodingProfileUpdate) -> EncodingProfile:
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, profile_id)
            updated = encoding_profiles.apply_update(current, payload.changes(), self.clock())
            changes = [(updated, current.version), *self._clear_default(actor.project_id, updated)]
            entry = audit.record(
                actor, "encodingProfile.update", "encodingProfile", profile_id, self.clock(),
                before=snapshot(current), after=snapshot(updated),
            )  # fmt: skip
            try:
                self.repository.save(changes, entry)
                return updated
            except Conflict:
                continue
        raise Conflict(name="profileId")

    def delete(self, actor: Actor, profile_id: str) -> None:
        profile = self.get(actor, profile_id)
        if profile.default:
            raise DefaultProfileInUse(name="profileId")
        entry = audit.record(
            actor, "encodingProfile.delete", "encodingProfile", profile_id, self.clock(), before=snapshot(profile)
        )
        # Conditioned on the version read: a profile made default meanwhile is not deleted.
        self.repository.delete(profile, entry)

    def default_profile(self, project_id: str) -> EncodingProfile:
        stored = [p for p in self.repository.list_all(project_id) if p.default]
        return stored[0] if stored else encoding_profiles.built_in(project_id)

    def resolve(self, project_id: str, profile_id: str | None) -> EncodingProfile:
        """The profile `POST /videos` names in `encodingProfileId`, or the project default."""
        if profile_id is None or profile_id == encoding_profiles.BUILT_IN_PROFILE_ID:
            return self.default_profile(project_id)
        profile = self.repository.get(project_id, profile_id)
        if profile is None:
            raise NotFound(name="encodingProfileId")
        return profile

    def exists(self, project_id: str, profile_id: str) -> bool:
        try:
            self.resolve(project_id, profile_id)
        except NotFound:
            return False
        return True

    def ladder(self, project_id: str, profile_id: str | None) -> encoding.EncodingProfile:
        """The stored profile a video names (or the project default) as the pipeline's ladder
        settings; a profile deleted since the video was created falls back to the default."""
        try:
            stored = self.resolve(project_id, profile_id)
        except NotFound:
            stored = self.resolve(project_id, None)
        return encoding.EncodingProfile(
            profile_id=stored.profile_id,
            name=stored.name,
            qualities=stored.qualities,
            mp4=stored.mp4,
            segment_seconds=stored.segment_seconds,
        )

    def _clear_default(self, project_id: str, profile: EncodingProfile) -> Sequence[tuple[EncodingProfile, int | None]]:
        if not profile.default:
            return []
        return [
            (encoding_profiles.cleared(other, self.clock()), other.version)
            for other in self.repository.list_all(project_id)
            if other.default and other.profile_id != profile.profile_id
        ]
