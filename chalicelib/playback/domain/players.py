"""The player aggregate (api.video PlayerTheme): payloads, entity and the pure rules that change it.

A player themes the embed page of the videos (and live streams) that name it in `playerId`.
Colours end up in the page's style sheet and the logo link in an `href`, so both are checked
against narrow grammars here: a theme can never inject CSS or a `javascript:` URL into a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, StringConstraints

from chalicelib.core import ids
from chalicelib.core.domain.images import ImageFormat, ImageInfo
from chalicelib.core.domain.pagination import SortOrder

PLAYER_ID_PREFIX = "pl"
NAME_MAX_LENGTH = 100
# api.video's logo rules: JPEG or PNG, at most 200 x 100 pixels and 100 KiB.
LOGO_FORMATS = (ImageFormat.JPEG, ImageFormat.PNG)
LOGO_EXTENSIONS = "'jpg', 'JPG', 'jpeg', 'JPEG', 'png', 'PNG'"
LOGO_MAX_BYTES = 100 * 1024
LOGO_MAX_WIDTH, LOGO_MAX_HEIGHT = 200, 100
LINK_MAX_LENGTH = 2048
# Videoplane extension: the sites that may embed a player's private videos, as origins.
ALLOWED_ORIGINS_MAX = 20
ORIGIN_PATTERN = (
    r"^https?://[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?$"
)
Origin = Annotated[StrictStr, StringConstraints(pattern=ORIGIN_PATTERN, max_length=300)]

_BYTE = r"\s*(?:25[0-5]|2[0-4]\d|1?\d?\d)\s*"
_ALPHA = r"\s*(?:0|1|0?\.\d{1,4}|1\.0{1,4})\s*"
# rgb()/rgba() as api.video writes them ("rgba(255, 255, 255, .95)"), or #rgb, #rrggbb, #rrggbbaa.
COLOUR_PATTERN = rf"^(?:rgba\({_BYTE},{_BYTE},{_BYTE},{_ALPHA}\)|rgb\({_BYTE},{_BYTE},{_BYTE}\)|#(?:[0-9a-fA-F]{{3}}|[0-9a-fA-F]{{6}}|[0-9a-fA-F]{{8}}))$"  # noqa: E501
Colour = Annotated[StrictStr, StringConstraints(pattern=COLOUR_PATTERN, max_length=64)]
Name = Annotated[StrictStr, StringConstraints(max_length=NAME_MAX_LENGTH)]


class Theme(BaseModel):
    """The colours and switches of a player, with api.video's documented defaults."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    text: str = "rgba(255, 255, 255, 1)"
    link: str = "rgba(255, 255, 255, 1)"
    link_hover: str = Field(default="rgba(255, 255, 255, 1)", alias="linkHover")
    link_active: str = Field(default="rgba(255, 255, 255, 1)", alias="linkActive")
    track_played: str = Field(default="rgba(88, 131, 255, .95)", alias="trackPlayed")
    track_unplayed: str = Field(default="rgba(255, 255, 255, .35)", alias="trackUnplayed")
    track_background: str = Field(default="rgba(255, 255, 255, .2)", alias="trackBackground")
    background_top: str = Field(default="rgba(0, 0, 0, .7)", alias="backgroundTop")
    background_bottom: str = Field(default="rgba(0, 0, 0, .7)", alias="backgroundBottom")
    background_text: str = Field(default="rgba(255, 255, 255, 1)", alias="backgroundText")
    enable_api: bool = Field(default=True, alias="enableApi")
    enable_controls: bool = Field(default=True, alias="enableControls")
    force_autoplay: bool = Field(default=False, alias="forceAutoplay")
    hide_title: bool = Field(default=False, alias="hideTitle")
    force_loop: bool = Field(default=False, alias="forceLoop")


COLOUR_FIELDS = tuple(name for name, info in Theme.model_fields.items() if info.annotation is str)
SWITCH_FIELDS = tuple(name for name, info in Theme.model_fields.items() if info.annotation is bool)
WIRE_NAMES = {name: info.alias or name for name, info in Theme.model_fields.items()}


class PlayerCreation(BaseModel):
    """`POST /players` body (api.video PlayerThemeCreationPayload): every field optional."""

    model_config = ConfigDict(populate_by_name=True)
    name: Name | None = None
    text: Colour | None = None
    link: Colour | None = None
    link_hover: Colour | None = Field(default=None, alias="linkHover")
    link_active: Colour | None = Field(default=None, alias="linkActive")
    track_played: Colour | None = Field(default=None, alias="trackPlayed")
    track_unplayed: Colour | None = Field(default=None, alias="trackUnplayed")
    track_background: Colour | None = Field(default=None, alias="trackBackground")
    background_top: Colour | None = Field(default=None, alias="backgroundTop")
    background_bottom: Colour | None = Field(default=None, alias="backgroundBottom")
    background_text: Colour | None = Field(default=None, alias="backgroundText")
    enable_api: StrictBool | None = Field(default=None, alias="enableApi")
    enable_controls: StrictBool | None = Field(default=None, alias="enableControls")
    force_autoplay: StrictBool | None = Field(default=None, alias="forceAutoplay")
    hide_title: StrictBool | None = Field(default=None, alias="hideTitle")
    force_loop: StrictBool | None = Field(default=None, alias="forceLoop")

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent (the SDK sends only what was set)."""
        return {name: getattr(self, name) for name in self.model_fields_set}

    def null_violations(self) -> list[str]:
        """api.video declares none of these nullable."""
        return [name for name in self.model_fields_set if getattr(self, name) is None]


class PlayerUpdate(PlayerCreation):
    """`PATCH /players/{playerId}` body (api.video PlayerThemeUpdatePayload): the same fields."""


class Logo(BaseModel):
    """The uploaded logo: where it is stored and where a click on it leads."""

    model_config = ConfigDict(frozen=True)
    key: str
    content_type: str
    width: int
    height: int
    size: int
    link: str | None = None


class Player(BaseModel):
    """The stored player. Only the API layer decides its wire shape."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    player_id: str
    name: str | None = None
    theme: Theme = Theme()
    logo: Logo | None = None
    # Videoplane: when not empty, a private video of this player opens only inside these sites.
    allowed_origins: tuple[str, ...] = ()
    created_at: datetime
    updated_at: datetime
    version: int = 1


def new_player(project_id: str, payload: PlayerCreation, now: datetime) -> Player:
    changes = payload.changes()
    name = changes.pop("name", None)
    return Player(
        project_id=project_id,
        player_id=ids.new_id(PLAYER_ID_PREFIX),
        name=name,
        theme=Theme(**changes),
        created_at=now,
        updated_at=now,
    )


def apply_update(player: Player, payload: PlayerUpdate, now: datetime) -> Player:
    changes = payload.changes()
    name = changes.pop("name", player.name)
    theme = player.theme.model_copy(update=changes)
    return player.model_copy(update={"name": name, "theme": theme, "updated_at": now, "version": player.version + 1})


def logo_key(player_id: str, image: ImageInfo, upload_id: str) -> str:
    """A new object name per upload: a CDN never serves a replaced logo from its cache. The URL is
    public (every embed page shows it), so it names the player, never the project."""
    return f"players/{player_id}/logo-{upload_id}.{image.format.extension}"


def with_logo(player: Player, logo: Logo, now: datetime) -> Player:
    return player.model_copy(update={"logo": logo, "updated_at": now, "version": player.version + 1})


class AllowedOrigins(BaseModel):
    """`PUT /players/{playerId}/allowed-origins` (Videoplane extension): lowercase origins
    (`https://shop.example`, a port if not the scheme's default); an empty list lifts the restriction."""

    model_config = ConfigDict(extra="forbid")
    origins: list[Origin] = Field(max_length=ALLOWED_ORIGINS_MAX)


def with_allowed_origins(player: Player, origins: Iterable[str], now: datetime) -> Player:
    unique = tuple(dict.fromkeys(origins))
    return player.model_copy(update={"allowed_origins": unique, "updated_at": now, "version": player.version + 1})


def origin_allowed(player: Player | None, origin: str | None) -> bool:
    """Whether a page embedded by `origin` (its Referer's, or Origin) may open a private video of
    `player`: always without a restriction; never without an origin when there is one."""
    if player is None or not player.allowed_origins:
        return True
    return origin is not None and origin.lower().rstrip("/") in player.allowed_origins


def without_logo(player: Player, now: datetime) -> Player:
    return player.model_copy(update={"logo": None, "updated_at": now, "version": player.version + 1})


def logo_problem(image: ImageInfo, size: int) -> str | None:
    """Why an image cannot be a logo, or None. The size is read from the image's header."""
    if size > LOGO_MAX_BYTES:
        return f"The logo must not exceed {LOGO_MAX_BYTES} bytes (100 KiB)."
    if image.width > LOGO_MAX_WIDTH or image.height > LOGO_MAX_HEIGHT:
        return (
            f"The logo must be at most {LOGO_MAX_WIDTH}x{LOGO_MAX_HEIGHT} pixels; "
            f"this one is {image.width}x{image.height}."
        )
    return None


def changed_fields(before: Player, after: Player) -> list[str]:
    """The api.video names of the attributes a change really changed (`assets` for the logo)."""
    changed = ["name"] if before.name != after.name else []
    changed += [WIRE_NAMES[n] for n in Theme.model_fields if getattr(before.theme, n) != getattr(after.theme, n)]
    if before.logo != after.logo:
        changed.append("assets")
    if before.allowed_origins != after.allowed_origins:
        changed.append("allowedOrigins")
    return changed


def snapshot(player: Player) -> dict[str, Any]:
    """The player for the audit log, in the API's names."""
    body: dict[str, Any] = {"playerId": player.player_id, "name": player.name}
    body.update(player.theme.model_dump(mode="json", by_alias=True))
    body["logo"] = player.logo.model_dump(mode="json") if player.logo else None
    body["allowedOrigins"] = list(player.allowed_origins)
    return body


# -- listing ------------------------------------------------------------------------------------


class SortField(StrEnum):
    NAME = "name"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"


class PlayerQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    sort_by: SortField = Field(default=SortField.CREATED_AT, alias="sortBy")
    sort_order: SortOrder = Field(default=SortOrder.ASC, alias="sortOrder")


def select(players: Iterable[Player], query: PlayerQuery) -> list[Player]:
    key = {
        SortField.NAME: lambda p: ((p.name or "").casefold(), p.player_id),
        SortField.CREATED_AT: lambda p: (p.created_at, p.player_id),
        SortField.UPDATED_AT: lambda p: (p.updated_at, p.player_id),
    }[query.sort_by]
    return sorted(players, key=key, reverse=query.sort_order is SortOrder.DESC)


_LOGO_LINK = re.compile(r"^https?://[^\s<>\"'`\\]+$")


def is_logo_link(value: str) -> bool:
    return len(value) <= LINK_MAX_LENGTH and _LOGO_LINK.fullmatch(value) is not None
