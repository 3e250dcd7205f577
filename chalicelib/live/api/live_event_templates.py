"""Live event templates (a Videoplane extension): named live profiles per project, one the default.
Reading is for every role; changing them is for admins, as a template governs what operators may
override on an event."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.live import wiring
from chalicelib.live.api import event_presenters as presenters
from chalicelib.live.domain.live_event_templates import LiveEventTemplateCreation, LiveEventTemplateUpdate
from chalicelib.platform.api.authorizer import api_key_authorizer

bp = Blueprint(__name__)
READ, ADMIN = Permission.READ, Permission.ADMIN
TEMPLATE = "/live-event-templates/{templateId}"


def template_update(call: Call) -> LiveEventTemplateUpdate:
    payload = call.body(LiveEventTemplateUpdate)
    nulls = payload.null_violations()
    if nulls:
        raise InvalidInput([Problem("invalid-attribute", "This attribute must not be null.", n) for n in nulls])
    return payload


@endpoint(
    bp,
    "/live-event-templates",
    "POST",
    permission=ADMIN,
    authorizer=api_key_authorizer,
    status=201,
    body=LiveEventTemplateCreation,
    response="LiveEventTemplate",
)
def create_live_event_template(call: Call) -> Any:
    payload = call.body(LiveEventTemplateCreation)
    return presenters.template(wiring.live_event_template_service().create(call.actor, payload))


@endpoint(
    bp,
    "/live-event-templates",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="LiveEventTemplate",
    paged=True,
)
def list_live_event_templates(call: Call) -> Any:
    page = wiring.live_event_template_service().list(call.actor, call.page())
    return page.envelope([presenters.template(t) for t in page.items], "/live-event-templates", [])


@endpoint(bp, TEMPLATE, "GET", permission=READ, authorizer=api_key_authorizer, response="LiveEventTemplate")
def get_live_event_template(call: Call, templateId: str) -> Any:  # noqa: N803 - named like api.video's ids
    return presenters.template(wiring.live_event_template_service().get(call.actor, templateId))


@endpoint(
    bp,
    TEMPLATE,
    "PATCH",
    permission=ADMIN,
    authorizer=api_key_authorizer,
    body=LiveEventTemplateUpdate,
    response="LiveEventTemplate",
)
def update_live_event_template(call: Call, templateId: str) -> Any:  # noqa: N803
    payload = template_update(call)
    return presenters.template(wiring.live_event_template_service().update(call.actor, templateId, payload))


@endpoint(bp, TEMPLATE, "DELETE", permission=ADMIN, authorizer=api_key_authorizer, status=204, errors=(409,))
def delete_live_event_template(call: Call, templateId: str) -> Any:  # noqa: N803
    wiring.live_event_template_service().delete(call.actor, templateId)
    return Reply(status=204)
