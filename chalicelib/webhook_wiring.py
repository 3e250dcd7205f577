"""Webhook services wired to their adapters, built once per process on first use (as in wiring.py;
kept apart so the webhook work lands without touching the shared factories; `wiring.reset()`
callers also call `reset()` here)."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

from chalicelib import resources, wiring

if TYPE_CHECKING:
    from chalicelib.adapters.webhooks import SqsDeliveryQueue
    from chalicelib.services.webhooks import DeliveryService, Egress, WebhookService

# Test-only: multiplies the retry schedule (e.g. 0.001) so that e2e tests see retries in seconds.
RETRY_SCALE_ENV = "VIDEOPLANE_WEBHOOK_RETRY_SCALE"


def egress() -> Egress:
    """Read per call: the loopback setting comes from the environment, and the sender keeps no state."""
    from chalicelib.adapters.webhooks import PinnedHttpSender
    from chalicelib.services.webhooks import Egress

    return Egress(PinnedHttpSender(), allow_loopback=os.environ.get(resources.ALLOW_LOOPBACK_WEBHOOKS_ENV) == "1")


@cache
def queue() -> SqsDeliveryQueue:
    from chalicelib import config
    from chalicelib.adapters.webhooks import SqsDeliveryQueue

    return SqsDeliveryQueue(
        config.sqs(),
        os.environ.get(resources.WEBHOOK_DELIVERIES_QUEUE.env, ""),
        os.environ.get(resources.WEBHOOK_DEAD_LETTERS_QUEUE.env, ""),
    )


@cache
def webhook_service() -> WebhookService:
    from chalicelib.adapters.webhooks import DynamoWebhookRepository
    from chalicelib.clock import utc_now
    from chalicelib.services.webhooks import WebhookService

    return WebhookService(DynamoWebhookRepository(wiring.table()), egress(), queue, clock=utc_now)


@cache
def delivery_service() -> DeliveryService:
    from chalicelib.adapters.webhooks import DynamoWebhookRepository
    from chalicelib.services.webhooks import DeliveryService

    scale = float(os.environ.get(RETRY_SCALE_ENV, "1"))
    return DeliveryService(DynamoWebhookRepository(wiring.table()), egress(), queue(), retry_scale=scale)


def reset() -> None:
    for factory in (queue, webhook_service, delivery_service):
        factory.cache_clear()
