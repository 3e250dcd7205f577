"""`GET /events/schemas`: the published event catalogue with a JSON Schema per type."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.events import catalogue_schemas
from chalicelib.platform.api.authorizer import api_key_authorizer

bp = Blueprint(__name__)


@endpoint(
    bp, "/events/schemas", "GET", permission=Permission.READ, authorizer=api_key_authorizer, response="EventSchemas"
)
def list_event_schemas(call: Call) -> Any:
    return {"data": catalogue_schemas()}
