"""`POST /webhooks/{webhookId}/recover` with `since`/`until`: every delivery of that window that
failed gets a new round of attempts; bounded (≤ 7 days, within the 30-day retention), idempotent
(a second call finds nothing failed left), 202 with the count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.platform import wiring as platform_wiring
from chalicelib.platform.domain.webhooks import Delivery, DeliveryStatus
from devstack.bootstrap import create_queues
from tests.integration.conftest import ApiClient


@pytest.fixture
def queues(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    urls = create_queues(boto3.client("sqs"))
    for definition in resources.QUEUES:
        monkeypatch.setenv(definition.env, urls[definition.name])
    core_wiring.reset()
    yield urls
    core_wiring.reset()


def _delivery(project_id: str, webhook_id: str, n: int, at: datetime, status: DeliveryStatus) -> Delivery:
    event_id = f"ev{n:022d}"
    return Delivery(
        project_id=project_id,
        webhook_id=webhook_id,
        delivery_id="dl" + event_id[2:],
        event_id=event_id,
        event_type="video.created",
        payload="{}",
        status=status,
        created_at=at,
        round_attempts=11,
    )


def _iso(at: datetime) -> str:
    return at.isoformat()


def test_recover_redelivers_the_failed_deliveries_of_the_window_once(tenant: ApiClient, queues: dict[str, str]) -> None:
    webhook_id = tenant.call("POST", "/webhooks", {"events": ["video.created"], "url": "https://8.8.8.8/h"}).json_body[
        "webhookId"
    ]
    store = platform_wiring.delivery_service().repository
    now = datetime.now(UTC)
    inside = [now - timedelta(days=2, hours=h) for h in range(3)]
    for n, at in enumerate(inside):
        store.create_delivery(_delivery(tenant.project_id, webhook_id, n, at, DeliveryStatus.FAILED))
    store.create_delivery(_delivery(tenant.project_id, webhook_id, 10, inside[0], DeliveryStatus.SUCCEEDED))
    store.create_delivery(_delivery(tenant.project_id, webhook_id, 11, now - timedelta(days=6), DeliveryStatus.FAILED))

    window = {"since": _iso(now - timedelta(days=3)), "until": _iso(now - timedelta(days=1))}
    first = tenant.call("POST", f"/webhooks/{webhook_id}/recover", window)
    assert first.status_code == 202, first.body
    assert first.json_body["redelivered"] == 3 and first.json_body["webhookId"] == webhook_id
    log = tenant.call("GET", f"/webhooks/{webhook_id}/deliveries?status=pending").json_body["data"]
    assert len(log) == 3
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=queues[resources.WEBHOOK_DELIVERIES_QUEUE.name],
                                          AttributeNames=["ApproximateNumberOfMessages"])  # fmt: skip
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "3"

    again = tenant.call("POST", f"/webhooks/{webhook_id}/recover", window)
    assert again.status_code == 202 and again.json_body["redelivered"] == 0


@pytest.mark.parametrize(
    ("since_days", "until_days"),
    [(9, 1), (40, 35), (1, 2), (1, 1)],  # longer than 7 days, beyond retention, reversed, empty
)
def test_recover_windows_are_bounded(
    tenant: ApiClient, queues: dict[str, str], since_days: int, until_days: int
) -> None:
    webhook_id = tenant.call("POST", "/webhooks", {"events": ["video.created"], "url": "https://8.8.8.8/h"}).json_body[
        "webhookId"
    ]
    now = datetime.now(UTC)
    window = {"since": _iso(now - timedelta(days=since_days)), "until": _iso(now - timedelta(days=until_days))}
    response = tenant.call("POST", f"/webhooks/{webhook_id}/recover", window)
    assert response.status_code == 400 and response.json_body["type"].endswith("invalid-attribute"), response.body


def test_recover_needs_both_bounds_with_a_time_zone(tenant: ApiClient, queues: dict[str, str]) -> None:
    webhook_id = tenant.call("POST", "/webhooks", {"events": ["video.created"], "url": "https://8.8.8.8/h"}).json_body[
        "webhookId"
    ]
    for body in (
        {"since": "2026-01-01T00:00:00+00:00"},
        {"since": "2026-01-01T00:00:00", "until": "2026-01-02T00:00:00"},
    ):
        assert tenant.call("POST", f"/webhooks/{webhook_id}/recover", body).status_code == 400
