"""Wire shapes of the playback responses, for `/openapi.json` only (the presenters build the
bodies), field for field as the api.video SDK 1.4.7 models read them, plus Videoplane's own."""

# ruff: noqa: N815 - the attributes are the wire names

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PlayerThemeAssets(BaseModel):
    logo: str | None = Field(default=None, description="URL of the logo image")
    link: str | None = Field(default=None, description="Where a click on the logo leads")


class PlayerTheme(BaseModel):
    playerId: str
    name: str | None = None
    text: str
    link: str
    linkHover: str
    linkActive: str
    trackPlayed: str
    trackUnplayed: str
    trackBackground: str
    backgroundTop: str
    backgroundBottom: str
    backgroundText: str
    enableApi: bool
    enableControls: bool
    forceAutoplay: bool
    hideTitle: bool
    forceLoop: bool
    createdAt: datetime
    updatedAt: datetime
    assets: PlayerThemeAssets
