"""Webhook entities → wire shapes. `Webhook` keeps api.video's fields and adds ours."""

from __future__ import annotations

from typing import Any

from chalicelib.core.clock import to_atom
from chalicelib.platform.domain.webhooks import Delivery, RecoveryWindow, Webhook
from chalicelib.platform.services.webhooks import TestResult


def webhook(w: Webhook) -> dict[str, Any]:
    body: dict[str, Any] = {
        "webhookId": w.webhook_id,
        "createdAt": to_atom(w.created_at),
        "events": list(w.events),
        "url": w.url,
        # api.video returns the secret on every read: receivers look it up by X-Api-Video-WebhookID.
        "signatureSecret": w.secret,
        "enabled": w.enabled,
        "updatedAt": to_atom(w.updated_at),
    }
    if w.previous_secret_expires_at is not None:
        body["previousSecretExpiresAt"] = to_atom(w.previous_secret_expires_at)
    if w.failing_since is not None:
        body["failingSince"] = to_atom(w.failing_since)
    if w.disabled_reason is not None:
        body["disabledReason"] = w.disabled_reason
    return body


def delivery(d: Delivery) -> dict[str, Any]:
    return {
        "deliveryId": d.delivery_id,
        "webhookId": d.webhook_id,
        "eventId": d.event_id,
        "eventType": d.event_type,
        "status": d.status.value,
        "createdAt": to_atom(d.created_at),
        "nextRetryAt": d.next_retry_at.isoformat() if d.next_retry_at else None,
        "attempts": [
            {
                "attemptedAt": a.attempted_at.isoformat(),
                "statusCode": a.status_code,
                "latencyMs": a.latency_ms,
                "error": a.error,
                "nextRetryAt": a.next_retry_at.isoformat() if a.next_retry_at else None,
            }
            for a in d.attempts
        ],
    }


def test_result(r: TestResult) -> dict[str, Any]:
    return {"success": r.success, "statusCode": r.status_code, "latencyMs": r.latency_ms, "error": r.error}


def recovery(webhook_id: str, window: RecoveryWindow, redelivered: int) -> dict[str, Any]:
    return {
        "webhookId": webhook_id,
        "since": window.since.isoformat(),
        "until": window.until.isoformat(),
        "redelivered": redelivered,
    }
