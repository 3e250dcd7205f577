"""The platform's composition root: projects, keys, auth, audit, events and webhooks wired to
their adapters. No rules here: every choice is a setting (config.Settings) or a service's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.wiring import audit_log, component, settings, table

if TYPE_CHECKING:
    from chalicelib.platform.adapters.eventbus import EventBridgePublisher
    from chalicelib.platform.adapters.signing_keys import SecretsManagerKeyStore
    from chalicelib.platform.adapters.webhooks import SqsDeliveryQueue
    from chalicelib.platform.services.audit import AuditService
    from chalicelib.platform.services.auth import AuthService
    from chalicelib.platform.services.projects import ProjectService
    from chalicelib.platform.services.webhooks import DeliveryService, Egress, WebhookService


@component
def signing_keys() -> SecretsManagerKeyStore:
    from chalicelib.core import config
    from chalicelib.platform.adapters.signing_keys import SecretsManagerKeyStore

    current = settings()
    return SecretsManagerKeyStore(config.secretsmanager(), current.signing_secret_id, current.signing_key_cache_seconds)


@component
def auth_service() -> AuthService:
    from datetime import timedelta

    from chalicelib.core.clock import utc_now
    from chalicelib.platform.adapters.credentials import DynamoCredentialRepository
    from chalicelib.platform.services.auth import AuthService

    current = settings()
    return AuthService(
        credentials=DynamoCredentialRepository(table()),
        keys=signing_keys(),
        audit_log=audit_log(),
        issuer=current.token_issuer,
        access_ttl=timedelta(seconds=current.access_token_ttl_seconds),
        refresh_ttl=timedelta(seconds=current.refresh_token_ttl_seconds),
        clock=utc_now,
    )


@component
def project_service() -> ProjectService:
    from chalicelib.core.clock import utc_now
    from chalicelib.platform.adapters.credentials import DynamoCredentialRepository
    from chalicelib.platform.services.projects import ProjectService

    return ProjectService(DynamoCredentialRepository(table()), clock=utc_now)


@component
def audit_service() -> AuditService:
    from chalicelib.core.clock import utc_now
    from chalicelib.platform.services.audit import AuditService

    return AuditService(audit_log(), clock=utc_now)


@component
def event_publisher() -> EventBridgePublisher:
    from chalicelib.core import config
    from chalicelib.platform.adapters.eventbus import EventBridgePublisher

    return EventBridgePublisher(config.events(), settings().event_bus)


@component
def webhook_egress() -> Egress:
    from chalicelib.platform.adapters.webhooks import PinnedHttpSender
    from chalicelib.platform.services.webhooks import Egress

    current = settings()
    return Egress(
        PinnedHttpSender(), allow_loopback=current.allow_loopback_webhooks, denied_ports=current.loopback_deny_ports
    )


@component
def webhook_queue() -> SqsDeliveryQueue:
    from chalicelib.core import config
    from chalicelib.platform.adapters.webhooks import SqsDeliveryQueue

    current = settings()
    return SqsDeliveryQueue(config.sqs(), current.webhook_deliveries_queue_url, current.webhook_dead_letters_queue_url)


@component
def webhook_service() -> WebhookService:
    from chalicelib.core.clock import utc_now
    from chalicelib.platform.adapters.webhooks import DynamoWebhookRepository
    from chalicelib.platform.services.webhooks import WebhookService

    return WebhookService(DynamoWebhookRepository(table()), webhook_egress(), webhook_queue, clock=utc_now)


@component
def delivery_service() -> DeliveryService:
    from chalicelib.platform.adapters.webhooks import DynamoWebhookRepository
    from chalicelib.platform.services.webhooks import DeliveryService

    return DeliveryService(
        DynamoWebhookRepository(table()), webhook_egress(), webhook_queue(), retry_scale=settings().webhook_retry_scale
    )
