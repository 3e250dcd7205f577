"""Audit `before`/`after` images speak the API's field names (camelCase), like every other body
of the API, not the internal snake_case of the domain models."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import ApiClient


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_audit_images_use_the_api_field_names(tenant: ApiClient) -> None:
    video = tenant.call("POST", "/videos", {"title": "audited", "mp4Support": False}).json_body
    tenant.call("PATCH", f"/videos/{video['videoId']}", {"playerId": None, "title": "renamed"})
    tenant.call("POST", "/webhooks", {"events": ["video.created"], "url": "https://8.8.8.8/hook"})
    events = tenant.call("GET", "/audit-events").json_body["data"]
    images = [e[side] for e in events for side in ("before", "after") if e[side]]
    assert images, events
    keys = {k for image in images for k in _keys(image)}
    assert not {k for k in keys if "_" in k}, sorted(keys)
    created = next(e for e in events if e["action"] == "video.create")
    assert created["after"]["videoId"] == video["videoId"] and created["after"]["mp4Support"] is False
    assert "createdAt" in created["after"]
