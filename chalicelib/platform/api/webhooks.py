"""Webhooks (api.video WebhooksApi) plus updates, secret rotation, delivery log, redelivery and test pings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import WEBHOOK_DELIVERIES_SEND
from chalicelib.platform import wiring
from chalicelib.platform.api import webhook_presenters as present
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.platform.domain.webhooks import (
    DeliveryQuery,
    RecoveryWindow,
    WebhookCreation,
    WebhookQuery,
    WebhookUpdate,
)

if TYPE_CHECKING:
    from chalicelib.platform.services.webhooks import WebhookService

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE
# To move to chalicelib/core/permissions.py (symbolic resources, mapped to ARNs by infra).


def service() -> WebhookService:
    return wiring.webhook_service()


@endpoint(
    bp,
    "/webhooks",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=201,
    body=WebhookCreation,
    response="Webhook",
    operation_id="POST-webhooks",
)
def create_webhook(call: Call) -> Any:
    return present.webhook(service().create(call.actor, call.body(WebhookCreation)))


@endpoint(
    bp,
    "/webhooks",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    query=WebhookQuery,
    response="Webhook",
    paged=True,
    operation_id="LIST-webhooks",
)
def list_webhooks(call: Call) -> Any:
    query = call.query(WebhookQuery, {k: v for k in ("events",) if (v := call.single(k)) is not None})
    page = service().list(call.actor, query, call.page())
    return page.envelope([present.webhook(w) for w in page.items], "/webhooks", call.filters("events"))


@endpoint(
    bp,
    "/webhooks/{webhookId}",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="Webhook",
    operation_id="GET-Webhook",
)
def get_webhook(call: Call, webhookId: str) -> Any:  # noqa: N803 - path parameter named as in api.video
    return present.webhook(service().get(call.actor, webhookId))


@endpoint(
    bp,
    "/webhooks/{webhookId}",
    "PATCH",
    permission=WRITE,
    authorizer=api_key_authorizer,
    body=WebhookUpdate,
    response="Webhook",
)
def update_webhook(call: Call, webhookId: str) -> Any:  # noqa: N803
    return present.webhook(service().update(call.actor, webhookId, call.body(WebhookUpdate)))


@endpoint(
    bp,
    "/webhooks/{webhookId}",
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    operation_id="DELETE-webhook",
)
def delete_webhook(call: Call, webhookId: str) -> Any:  # noqa: N803
    service().delete(call.actor, webhookId)
    return Reply(status=204)


@endpoint(
    bp,
    "/webhooks/{webhookId}/rotate-secret",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    replayable=False,
    response="Webhook",
)
def rotate_webhook_secret(call: Call, webhookId: str) -> Any:  # noqa: N803
    return present.webhook(service().rotate_secret(call.actor, webhookId))


@endpoint(
    bp,
    "/webhooks/{webhookId}/deliveries",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    query=DeliveryQuery,
    response="WebhookDelivery",
    paged=True,
)
def list_webhook_deliveries(call: Call, webhookId: str) -> Any:  # noqa: N803
    query = call.query(DeliveryQuery, {k: v for k in ("status",) if (v := call.single(k)) is not None})
    page = service().deliveries(call.actor, webhookId, query, call.page())
    path = f"/webhooks/{webhookId}/deliveries"
    return page.envelope([present.delivery(d) for d in page.items], path, call.filters("status"))


@endpoint(
    bp,
    "/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=202,
    uses=(WEBHOOK_DELIVERIES_SEND,),
    response="WebhookDelivery",
)
def redeliver_webhook_delivery(call: Call, webhookId: str, deliveryId: str) -> Any:  # noqa: N803
    return present.delivery(service().redeliver(call.actor, webhookId, deliveryId))


@endpoint(
    bp,
    "/webhooks/{webhookId}/recover",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=202,
    uses=(WEBHOOK_DELIVERIES_SEND,),
    body=RecoveryWindow,
    response="WebhookRecovery",
)
def recover_webhook_deliveries(call: Call, webhookId: str) -> Any:  # noqa: N803
    """Redeliver every delivery of a time window (at most 7 days, within 30 days) that failed"""
    window = call.body(RecoveryWindow)
    return present.recovery(webhookId, window, service().recover(call.actor, webhookId, window))


@endpoint(
    bp,
    "/webhooks/{webhookId}/test",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    response="WebhookTestResult",
)
def test_webhook(call: Call, webhookId: str) -> Any:  # noqa: N803
    return present.test_result(service().test(call.actor, webhookId))
