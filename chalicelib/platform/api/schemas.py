"""Wire shapes of the platform's responses, for `/openapi.json` only (the presenters build the
bodies). Field names are the wire names; schemathesis checks every response against them."""

# ruff: noqa: N815 - the attributes are the wire names

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.domain.access import Role
from chalicelib.platform.domain.webhooks import DeliveryStatus


class AccessToken(BaseModel):
    """api.video's AccessToken: a bearer token and the refresh token that replaces it."""

    token_type: Literal["Bearer"]
    expires_in: int
    access_token: str
    refresh_token: str


class ApiKey(BaseModel):
    keyId: str
    name: str
    role: Role
    createdAt: datetime
    revokedAt: datetime | None
    apiKey: str | None = Field(default=None, description="The key itself: only in the answer that creates it.")


class AuditEvent(BaseModel):
    auditEventId: str
    action: str
    resourceType: str
    resourceId: str | None
    actorKeyId: str | None
    requestId: str | None
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str | None


class EventSchema(BaseModel):
    type: str
    apiVideo: bool
    planned: bool = Field(description="In the catalogue before the feature that emits it is built.")
    description: str
    schema_: dict[str, Any] = Field(alias="schema")


class EventSchemas(BaseModel):
    data: list[EventSchema]


class Webhook(BaseModel):
    webhookId: str
    createdAt: datetime
    events: list[str]
    url: str
    signatureSecret: str
    enabled: bool
    updatedAt: datetime
    previousSecretExpiresAt: datetime | None = None
    failingSince: datetime | None = None
    disabledReason: str | None = None


class DeliveryAttempt(BaseModel):
    attemptedAt: datetime
    statusCode: int | None
    latencyMs: int | None
    error: str | None
    nextRetryAt: datetime | None


class WebhookDelivery(BaseModel):
    deliveryId: str
    webhookId: str
    eventId: str
    eventType: str
    status: DeliveryStatus
    createdAt: datetime
    nextRetryAt: datetime | None
    attempts: list[DeliveryAttempt]


class WebhookRecovery(BaseModel):
    webhookId: str
    since: datetime
    until: datetime
    redelivered: int


class WebhookTestResult(BaseModel):
    success: bool
    statusCode: int | None
    latencyMs: int | None
    error: str | None


class OpenApiDescription(BaseModel):
    """This API's OpenAPI 3.1 document (only its top level is described here)."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    servers: list[dict[str, Any]]
