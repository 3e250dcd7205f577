"""Encoding profiles: CRUD, the project default, and the profile a new video encodes with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.domain.errors import NotFound
from chalicelib.core.services.named_profiles import NamedProfiles, ProfileNames
from chalicelib.vod.domain import encoding, encoding_profiles
from chalicelib.vod.domain.encoding_profiles import (
    DefaultProfileInUse,
    EncodingProfile,
    EncodingProfileCreation,
)
from chalicelib.vod.ports import EncodingProfileRepository

NAMES = ProfileNames(
    action="encodingProfile",
    resource="encodingProfile",
    id_field="profileId",
    default_in_use=DefaultProfileInUse,
    built_in_id=encoding_profiles.BUILT_IN_PROFILE_ID,
    reference_field="encodingProfileId",
)


class ProfileRules:
    def identity(self, profile: EncodingProfile) -> str:
        return profile.profile_id

    def new(self, project_id: str, payload: EncodingProfileCreation, now: datetime) -> EncodingProfile:
        return encoding_profiles.new_profile(project_id, payload, now)

    def updated(self, current: EncodingProfile, changes: dict[str, Any], now: datetime) -> EncodingProfile:
        return encoding_profiles.apply_update(current, changes, now)

    def cleared(self, profile: EncodingProfile, now: datetime) -> EncodingProfile:
        return encoding_profiles.cleared(profile, now)

    def built_in(self, project_id: str) -> EncodingProfile:
        return encoding_profiles.built_in(project_id)


class EncodingProfileService(NamedProfiles[EncodingProfile, EncodingProfileCreation]):
    def __init__(self, repository: EncodingProfileRepository, clock: Callable[[], datetime]) -> None:
        super().__init__(repository, ProfileRules(), NAMES, clock)

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
