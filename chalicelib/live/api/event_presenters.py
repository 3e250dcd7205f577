"""Managed live events and their templates: entity -> wire shapes (camelCase, as every body)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.clock import to_atom
from chalicelib.live.domain.live_event_templates import LiveEventTemplate


def template(t: LiveEventTemplate) -> dict[str, Any]:
    body = t.model_dump(mode="json", by_alias=True, exclude={"project_id", "created_at", "updated_at"})
    return {**body, "createdAt": to_atom(t.created_at), "updatedAt": to_atom(t.updated_at)}
