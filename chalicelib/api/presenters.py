"""Entity → wire shapes, field for field as the api.video SDK 1.4.7 models expect."""

from __future__ import annotations

from typing import Any

from chalicelib.clock import to_atom
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.credentials import ApiKey
from chalicelib.domain.videos import Video


def video(v: Video) -> dict[str, Any]:
    body: dict[str, Any] = {
        "videoId": v.video_id,
        "createdAt": to_atom(v.created_at),
        "title": v.title,
        "description": v.description,
        "publishedAt": to_atom(v.published_at),
        "updatedAt": to_atom(v.updated_at),
        "discardedAt": to_atom(v.discarded_at) if v.discarded_at else None,
        "deletesAt": to_atom(v.deletes_at) if v.deletes_at else None,
        "discarded": v.discarded,
        "languageOrigin": v.language_origin.value if v.language_origin else None,
        "tags": list(v.tags),
        "metadata": [{"key": m.key, "value": m.value} for m in v.metadata],
        "source": {"uri": f"/videos/{v.video_id}/source"},
        "public": v.public,
        "panoramic": v.panoramic,
        "mp4Support": v.mp4_support,
    }
    # Omitted rather than null: these are plain strings in the SDK models.
    if v.language is not None:
        body["language"] = v.language
    if v.player_id is not None:
        body["playerId"] = v.player_id
    return body


def video_status(v: Video) -> dict[str, Any]:
    """No source has arrived yet: `ingest` is omitted because the SDK refuses a null status."""
    return {"encoding": {"playable": False, "qualities": [], "metadata": {}}}


def tag(row: tuple[str, int]) -> dict[str, Any]:
    return {"value": row[0], "videoCount": row[1]}


def api_key(key: ApiKey, value: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "keyId": key.key_id,
        "name": key.name,
        "role": key.role.value,
        "createdAt": to_atom(key.created_at),
        "revokedAt": to_atom(key.revoked_at) if key.revoked_at else None,
    }
    if value is not None:
        body["apiKey"] = value
    return body


def audit_event(event: AuditEvent) -> dict[str, Any]:
    return {
        "auditEventId": event.event_id,
        "action": event.action,
        "resourceType": event.resource_type,
        "resourceId": event.resource_id,
        "actorKeyId": event.actor_key_id,
        "requestId": event.request_id,
        "at": to_atom(event.at),
        "before": event.before,
        "after": event.after,
        "detail": event.detail,
    }
