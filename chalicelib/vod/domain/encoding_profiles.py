"""Encoding profiles (a Videoplane extension): which renditions a project's videos get."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, StringConstraints, field_validator

from chalicelib.core import ids
from chalicelib.core.domain.errors import Conflict

PROFILE_ID_PREFIX = "ep"
BUILT_IN_PROFILE_ID = "default"
QualityName = Literal["240p", "360p", "480p", "720p", "1080p", "2160p"]
# Ascending resolution: the order api.video's Quality enum lists them in.
QUALITIES: tuple[str, ...] = get_args(QualityName)
ProfileName = Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
SegmentSeconds = Annotated[StrictInt, Field(ge=2, le=10)]
Qualities = Annotated[list[QualityName], Field(min_length=1, max_length=len(QUALITIES))]


class DefaultProfileInUse(Conflict):
    slug = "encoding-profile-is-default"
    title = "The project's default encoding profile cannot be deleted; make another profile the default first."


def _ascending_unique(qualities: list[str] | None) -> list[str] | None:
    if qualities is None:
        return None
    if len(set(qualities)) != len(qualities):
        raise ValueError("Each quality may be listed once.")
    return sorted(qualities, key=QUALITIES.index)


class EncodingProfileCreation(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    name: ProfileName
    qualities: Qualities
    mp4: StrictBool = True
    segment_seconds: SegmentSeconds = Field(default=4, alias="segmentSeconds")
    default: StrictBool = False

    _qualities = field_validator("qualities")(_ascending_unique)


class EncodingProfileUpdate(BaseModel):
    """PATCH body: absent keys are left as they are; null is refused (no field is nullable)."""

    model_config = ConfigDict(populate_by_name=True)
    name: ProfileName | None = None
    qualities: Qualities | None = None
    mp4: StrictBool | None = None
    segment_seconds: SegmentSeconds | None = Field(default=None, alias="segmentSeconds")
    default: StrictBool | None = None

    _qualities = field_validator("qualities")(_ascending_unique)

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}

    def null_violations(self) -> list[str]:
        aliases = {name: info.alias or name for name, info in type(self).model_fields.items()}
        return [aliases[name] for name in self.model_fields_set if getattr(self, name) is None]


class EncodingProfile(BaseModel):
    model_config = ConfigDict(frozen=True)
    project_id: str
    profile_id: str
    name: str
    qualities: tuple[str, ...]
    mp4: bool = True
    segment_seconds: int = 4
    default: bool = False
    created_at: datetime
    updated_at: datetime
    version: int = 1


def new_profile(project_id: str, payload: EncodingProfileCreation, now: datetime) -> EncodingProfile:
    return EncodingProfile(
        project_id=project_id,
        profile_id=ids.new_id(PROFILE_ID_PREFIX),
        name=payload.name,
        qualities=tuple(payload.qualities),
        mp4=payload.mp4,
        segment_seconds=payload.segment_seconds,
        default=payload.default,
        created_at=now,
        updated_at=now,
    )


def apply_update(profile: EncodingProfile, changes: dict[str, Any], now: datetime) -> EncodingProfile:
    fields = {k: tuple(v) if k == "qualities" else v for k, v in changes.items()}
    return profile.model_copy(update={**fields, "updated_at": now, "version": profile.version + 1})


def built_in(project_id: str) -> EncodingProfile:
    """What a project without a stored default encodes with: every quality, MP4, 4-second segments."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return EncodingProfile(
        project_id=project_id,
        profile_id=BUILT_IN_PROFILE_ID,
        name="Default",
        qualities=QUALITIES,
        default=True,
        created_at=epoch,
        updated_at=epoch,
    )


def cleared(profile: EncodingProfile, now: datetime) -> EncodingProfile:
    return profile.model_copy(update={"default": False, "updated_at": now, "version": profile.version + 1})
