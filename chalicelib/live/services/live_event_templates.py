"""Live event templates: CRUD, the project default, and the template an event applies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from chalicelib.core.domain import audit
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import Conflict, NotFound
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.live.domain import live_event_templates as templates
from chalicelib.live.domain.live_event_templates import (
    DefaultTemplateInUse,
    LiveEventTemplate,
    LiveEventTemplateCreation,
    LiveEventTemplateUpdate,
)
from chalicelib.live.ports import LiveEventTemplateRepository

UPDATE_ATTEMPTS = 3
RESOURCE = "liveEventTemplate"


def snapshot(template: LiveEventTemplate) -> dict[str, Any]:
    return template.model_dump(mode="json", exclude={"project_id"})


class LiveEventTemplateService:
    def __init__(self, repository: LiveEventTemplateRepository, clock: Callable[[], datetime]) -> None:
        self.repository = repository
        self.clock = clock

    def create(self, actor: Actor, payload: LiveEventTemplateCreation) -> LiveEventTemplate:
        for _ in range(UPDATE_ATTEMPTS):
            template = templates.new_template(actor.project_id, payload, self.clock())
            changes = [(template, None), *self._clear_default(actor.project_id, template)]
            entry = audit.record(
                actor, "live-event-template.create", RESOURCE, template.template_id, self.clock(),
                after=snapshot(template),
            )  # fmt: skip
            try:
                self.repository.save(changes, entry)
                return template
            except Conflict:
                continue  # the previous default changed meanwhile
        raise Conflict(name="default")

    def get(self, actor: Actor, template_id: str, name: str = "templateId") -> LiveEventTemplate:
        template = self.repository.get(actor.project_id, template_id)
        if template is None:
            raise NotFound(name=name)
        return template

    def list(self, actor: Actor, page: PageRequest) -> Page[LiveEventTemplate]:
        found = self.repository.list_all(actor.project_id)
        return paginate(sorted(found, key=lambda t: (t.created_at, t.template_id)), page)

    def update(self, actor: Actor, template_id: str, payload: LiveEventTemplateUpdate) -> LiveEventTemplate:
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, template_id)
            updated = templates.apply_update(current, payload.changes(), self.clock())
            changes = [(updated, current.version), *self._clear_default(actor.project_id, updated)]
            entry = audit.record(
                actor, "live-event-template.update", RESOURCE, template_id, self.clock(),
                before=snapshot(current), after=snapshot(updated),
            )  # fmt: skip
            try:
                self.repository.save(changes, entry)
                return updated
            except Conflict:
                continue
        raise Conflict(name="templateId")

    def delete(self, actor: Actor, template_id: str) -> None:
        """Events keep the profile they applied: deleting a template changes none of them."""
        template = self.get(actor, template_id)
        if template.default:
            raise DefaultTemplateInUse(name="templateId")
        entry = audit.record(
            actor, "live-event-template.delete", RESOURCE, template_id, self.clock(), before=snapshot(template)
        )
        self.repository.delete(template, entry)

    def resolve(self, project_id: str, template_id: str | None) -> LiveEventTemplate:
        """The template an event names in `templateId`, or the project default (a stored one, else
        the built-in)."""
        if template_id is None or template_id == templates.BUILT_IN_TEMPLATE_ID:
            stored = [t for t in self.repository.list_all(project_id) if t.default]
            return stored[0] if stored else templates.built_in(project_id)
        template = self.repository.get(project_id, template_id)
        if template is None:
            raise NotFound(name="templateId")
        return template

    def _clear_default(
        self, project_id: str, template: LiveEventTemplate
    ) -> Sequence[tuple[LiveEventTemplate, int | None]]:
        if not template.default:
            return []
        return [
            (templates.cleared(other, self.clock()), other.version)
            for other in self.repository.list_all(project_id)
            if other.default and other.template_id != template.template_id
        ]
