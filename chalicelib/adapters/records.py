"""Item layouts for each entity in the single table (see docs/data-model.md)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib import resources
from chalicelib.adapters.dynamodb import PK, SK, Put, project_partition
from chalicelib.clock import epoch_seconds, from_atom, to_atom
from chalicelib.domain.access import Role
from chalicelib.domain.audit import AUDIT_RETENTION, AuditEvent
from chalicelib.domain.credentials import ApiKey, Project, RefreshToken
from chalicelib.domain.encoding_profiles import EncodingProfile
from chalicelib.domain.events import DomainEvent
from chalicelib.domain.media import MediaState
from chalicelib.domain.thumbnails import Thumbnail
from chalicelib.domain.tracks import TextTrack, TrackKind
from chalicelib.domain.videos import Video
from chalicelib.domain.watermarks import Watermark

TTL = resources.TTL_ATTRIBUTE
PROJECTS_INDEX_PK = "PROJECTS"


def video_key(project_id: str, video_id: str) -> tuple[str, str]:
    return project_partition(project_id, "VIDEO"), video_id


def video_item(video: Video) -> dict[str, Any]:
    pk, sk = video_key(video.project_id, video.video_id)
    body = video.model_dump(mode="json")
    # A discarded video is purged by DynamoDB TTL when `deletesAt` passes.
    ttl = epoch_seconds(video.deletes_at) if video.deletes_at else None
    return {PK: pk, SK: sk, "entity": "video", TTL: ttl, **body}


def video_from_item(item: dict[str, Any]) -> Video:
    return Video.model_validate(item_body(item))


def media_from_item(item: dict[str, Any]) -> MediaState:
    """The media state item (chalicelib.adapters.uploads writes it) beside its video."""
    return MediaState.model_validate({k: v for k, v in item_body(item).items() if k not in ("pipeline", "jobs")})


def audit_put(event: AuditEvent) -> Put:
    item = {
        PK: project_partition(event.project_id, "AUDIT"),
        SK: f"{to_atom(event.at)}#{event.event_id}",
        "entity": "audit",
        TTL: epoch_seconds(event.at + AUDIT_RETENTION),
        **event.model_dump(mode="json"),
    }
    return Put(item=item, condition="attribute_not_exists(#pk)", names={"#pk": PK})


def audit_from_item(item: dict[str, Any]) -> AuditEvent:
    return AuditEvent.model_validate(item_body(item))


OUTBOX_RETENTION = timedelta(days=7)


def outbox_put(event: DomainEvent) -> Put:
    """The event as an outbox item. Written in the same transaction as the change it reports;
    the table's stream carries it to the publisher. Kept 7 days for replay and inspection."""
    item = {
        PK: project_partition(event.project_id, "OUTBOX"),
        SK: event.event_id,
        "entity": "outbox",
        "eventType": event.type,
        "payload": json.dumps(event.payload(), separators=(",", ":")),
        TTL: epoch_seconds(from_atom(event.emitted_at) + OUTBOX_RETENTION),
    }
    return Put(item=item, condition="attribute_not_exists(#pk)", names={"#pk": PK})


def project_item(project: Project) -> dict[str, Any]:
    return {
        PK: f"P#{project.project_id}",
        SK: "PROJECT",
        resources.GSI1_PARTITION_KEY: PROJECTS_INDEX_PK,
        resources.GSI1_SORT_KEY: project.project_id,
        "entity": "project",
        "projectId": project.project_id,
        "name": project.name,
        "createdAt": to_atom(project.created_at),
    }


def project_from_item(item: dict[str, Any]) -> Project:
    return Project(project_id=item["projectId"], name=item["name"], created_at=from_atom(item["createdAt"]))


def key_key(project_id: str, key_id: str) -> tuple[str, str]:
    return project_partition(project_id, "KEY"), key_id


def key_item(key: ApiKey) -> dict[str, Any]:
    pk, sk = key_key(key.project_id, key.key_id)
    return {
        PK: pk,
        SK: sk,
        "entity": "apiKey",
        "projectId": key.project_id,
        "keyId": key.key_id,
        "name": key.name,
        "role": key.role.value,
        "secretHash": key.secret_hash,
        "createdAt": to_atom(key.created_at),
        "revokedAt": to_atom(key.revoked_at) if key.revoked_at else None,
        "version": key.version,
    }


def key_from_item(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        project_id=item["projectId"],
        key_id=item["keyId"],
        name=item["name"],
        role=Role(item["role"]),
        secret_hash=item["secretHash"],
        created_at=from_atom(item["createdAt"]),
        revoked_at=from_atom(item["revokedAt"]) if item.get("revokedAt") else None,
        version=int(item["version"]),
    )


def refresh_key(project_id: str, token_id: str) -> tuple[str, str]:
    return project_partition(project_id, "REFRESH"), token_id


def refresh_item(token: RefreshToken) -> dict[str, Any]:
    pk, sk = refresh_key(token.project_id, token.token_id)
    return {
        PK: pk,
        SK: sk,
        "entity": "refreshToken",
        "projectId": token.project_id,
        "tokenId": token.token_id,
        "keyId": token.key_id,
        "secretHash": token.secret_hash,
        "expiresAt": to_atom(token.expires_at),
        "usedAt": to_atom(token.used_at) if token.used_at else None,
        TTL: epoch_seconds(token.expires_at),
    }


def refresh_from_item(item: dict[str, Any]) -> RefreshToken:
    return RefreshToken(
        project_id=item["projectId"],
        token_id=item["tokenId"],
        key_id=item["keyId"],
        secret_hash=item["secretHash"],
        expires_at=from_atom(item["expiresAt"]),
        used_at=from_atom(item["usedAt"]) if item.get("usedAt") else None,
    )


# -- video sub-resources, watermarks and encoding profiles -----------------------------------
#
# Bodies are `model_dump(mode="json")` (snake_case), like videos; `project_id` is kept so that an
# item read alone still names its tenant.


_STORAGE_KEYS = (PK, SK, TTL, "entity", resources.GSI1_PARTITION_KEY, resources.GSI1_SORT_KEY)


def item_body(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its table bookkeeping (keys, index keys, expiry, entity name)."""
    return {k: v for k, v in item.items() if k not in _STORAGE_KEYS}


def track_key(project_id: str, kind: TrackKind, video_id: str, language: str) -> tuple[str, str]:
    """One partition per video and kind, so that listing a video's captions is one query."""
    return project_partition(project_id, f"{kind.value.upper()}#{video_id}"), language


def track_item(track: TextTrack) -> dict[str, Any]:
    pk, sk = track_key(track.project_id, track.kind, track.video_id, track.language)
    return {PK: pk, SK: sk, "entity": track.kind.value, **track.model_dump(mode="json")}


def track_from_item(item: dict[str, Any]) -> TextTrack:
    return TextTrack.model_validate(item_body(item))


def thumbnail_key(project_id: str, video_id: str) -> tuple[str, str]:
    return project_partition(project_id, "THUMBNAIL"), video_id


def thumbnail_item(thumbnail: Thumbnail) -> dict[str, Any]:
    pk, sk = thumbnail_key(thumbnail.project_id, thumbnail.video_id)
    return {PK: pk, SK: sk, "entity": "thumbnail", **thumbnail.model_dump(mode="json")}


def thumbnail_from_item(item: dict[str, Any]) -> Thumbnail:
    return Thumbnail.model_validate(item_body(item))


def watermark_key(project_id: str, watermark_id: str) -> tuple[str, str]:
    return project_partition(project_id, "WATERMARK"), watermark_id


def watermark_item(watermark: Watermark) -> dict[str, Any]:
    pk, sk = watermark_key(watermark.project_id, watermark.watermark_id)
    return {PK: pk, SK: sk, "entity": "watermark", **watermark.model_dump(mode="json")}


def watermark_from_item(item: dict[str, Any]) -> Watermark:
    return Watermark.model_validate(item_body(item))


def profile_key(project_id: str, profile_id: str) -> tuple[str, str]:
    return project_partition(project_id, "ENCODING_PROFILE"), profile_id


def profile_item(profile: EncodingProfile) -> dict[str, Any]:
    pk, sk = profile_key(profile.project_id, profile.profile_id)
    return {PK: pk, SK: sk, "entity": "encodingProfile", **profile.model_dump(mode="json")}


def profile_from_item(item: dict[str, Any]) -> EncodingProfile:
    return EncodingProfile.model_validate(item_body(item))
