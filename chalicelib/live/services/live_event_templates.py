"""Live event templates: CRUD, the project default, and the template an event applies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.services.named_profiles import NamedProfiles, ProfileNames
from chalicelib.live.domain import live_event_templates as templates
from chalicelib.live.domain.live_event_templates import (
    DefaultTemplateInUse,
    LiveEventTemplate,
    LiveEventTemplateCreation,
)
from chalicelib.live.ports import LiveEventTemplateRepository

NAMES = ProfileNames(
    action="live-event-template",
    resource="liveEventTemplate",
    id_field="templateId",
    default_in_use=DefaultTemplateInUse,
    built_in_id=templates.BUILT_IN_TEMPLATE_ID,
    reference_field="templateId",
)


class TemplateRules:
    def identity(self, profile: LiveEventTemplate) -> str:
        return profile.template_id

    def new(self, project_id: str, payload: LiveEventTemplateCreation, now: datetime) -> LiveEventTemplate:
        return templates.new_template(project_id, payload, now)

    def updated(self, current: LiveEventTemplate, changes: dict[str, Any], now: datetime) -> LiveEventTemplate:
        return templates.apply_update(current, changes, now)

    def cleared(self, profile: LiveEventTemplate, now: datetime) -> LiveEventTemplate:
        return templates.cleared(profile, now)

    def built_in(self, project_id: str) -> LiveEventTemplate:
        return templates.built_in(project_id)


class LiveEventTemplateService(NamedProfiles[LiveEventTemplate, LiveEventTemplateCreation]):
    """Events keep the profile they applied: deleting or changing a template changes none of them."""

    def __init__(self, repository: LiveEventTemplateRepository, clock: Callable[[], datetime]) -> None:
        super().__init__(repository, TemplateRules(), NAMES, clock)
