"""Adapters for webhooks: the DynamoDB repository, the SQS queues and the pinned HTTP sender."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.core.adapters.dynamodb import PK, SK, Put, Table, Update
from chalicelib.core.adapters.pinned import pinned_connection
from chalicelib.core.adapters.records import audit_put, outbox_put
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.errors import Conflict, RepositoryUnavailable
from chalicelib.core.domain.events import DomainEvent, WebhookDisabled
from chalicelib.core.domain.urlguard import Target
from chalicelib.platform.adapters import webhook_records
from chalicelib.platform.domain.webhooks import Delivery, DeliveryMessage, Response, Webhook

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

USER_AGENT = "Videoplane-Webhooks/1"
TIMEOUT_SECONDS = 15.0
MAX_RESPONSE_BYTES = 64 * 1024
# SQS's ceiling for DelaySeconds: longer waits hop through the queue several times.
MAX_DELAY_SECONDS = 900


class DynamoWebhookRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, project_id: str, webhook_id: str) -> Webhook | None:
        key = webhook_records.webhook_key(project_id, webhook_id)
        item = self.table.get(key[PK], key[SK])
        return None if item is None else webhook_records.webhook_from_item(item)

    def list_all(self, project_id: str) -> list[Webhook]:
        pk = webhook_records.webhook_key(project_id, "")[PK]
        return [webhook_records.webhook_from_item(item) for item in self.table.query(pk)]

    def create(self, webhook: Webhook, audit: AuditEvent) -> None:
        self.table.write([webhook_records.webhook_create(webhook), audit_put(audit)])

    def save(self, webhook: Webhook, expected_version: int, audit: AuditEvent) -> None:
        self.table.write([webhook_records.webhook_save(webhook, expected_version), audit_put(audit)])

    def disable(self, webhook: Webhook, expected_version: int, event: WebhookDisabled) -> None:
        """The disabled webhook and its `webhook.disabled` event, in one transaction (outbox)."""
        self.table.write([webhook_records.webhook_save(webhook, expected_version), outbox_put(event)])

    def mark_failing(self, project_id: str, webhook_id: str, since: datetime) -> None:
        self._bookkeeping(webhook_records.mark_failing(project_id, webhook_id, since))

    def clear_failing(self, project_id: str, webhook_id: str) -> None:
        self._bookkeeping(webhook_records.clear_failing(project_id, webhook_id))

    def _bookkeeping(self, update: Update) -> None:
        with contextlib.suppress(Conflict):  # the webhook was deleted meanwhile
            self.table.update(update)

    def get_delivery(self, project_id: str, webhook_id: str, delivery_id: str) -> Delivery | None:
        key = webhook_records.delivery_key(project_id, webhook_id, delivery_id)
        item = self.table.get(key[PK], key[SK])
        return None if item is None else webhook_records.delivery_from_item(item)

    def list_deliveries(self, project_id: str, webhook_id: str) -> list[Delivery]:
        items = self.table.query(webhook_records.deliveries_partition(project_id, webhook_id), forward=False)
        return [webhook_records.delivery_from_item(item) for item in items]

    def create_delivery(self, delivery: Delivery) -> bool:
        """False when the delivery exists already (the event was dispatched before)."""
        try:
            self.table.write([webhook_records.delivery_create(delivery)])
        except Conflict:
            return False
        return True

    def save_delivery(self, delivery: Delivery, event: DomainEvent | None = None) -> None:
        """The delivery, and with it (same transaction, outbox) the event its outcome reports."""
        writes: list[Put | Update] = [webhook_records.delivery_save(delivery)]
        if event is not None:
            writes.append(outbox_put(event))
        self.table.write(writes)

    def lease_delivery(self, delivery: Delivery, now: datetime, lease: timedelta) -> bool:
        """False when another consumer holds this round's attempt, or the round moved on."""
        try:
            self.table.update(webhook_records.delivery_lease(delivery, now, lease))
        except Conflict:
            return False
        return True


class SqsDeliveryQueue:
    def __init__(self, client: SQSClient, deliveries_url: str, dead_letters_url: str) -> None:
        self.client = client
        self.deliveries_url = deliveries_url
        self.dead_letters_url = dead_letters_url

    def send(self, messages: Sequence[DeliveryMessage], now: float | None = None) -> list[DeliveryMessage]:
        """Sends in batches of ten; returns the messages SQS refused."""
        failed: list[DeliveryMessage] = []
        now = time.time() if now is None else now
        for start in range(0, len(messages), 10):
            chunk = list(messages[start : start + 10])
            entries: list[Any] = [
                {"Id": str(i), "MessageBody": m.body(), "DelaySeconds": _delay(m, now)} for i, m in enumerate(chunk)
            ]
            try:
                response = self.client.send_message_batch(QueueUrl=self.deliveries_url, Entries=entries)
            except ClientError as error:
                raise RepositoryUnavailable(detail="The delivery queue is unavailable.") from error
            failed.extend(chunk[int(f["Id"])] for f in response.get("Failed", []))
        return failed

    def dead_letter(self, message: DeliveryMessage) -> None:
        try:
            self.client.send_message(QueueUrl=self.dead_letters_url, MessageBody=message.body())
        except ClientError as error:
            raise RepositoryUnavailable(detail="The dead-letter queue is unavailable.") from error


def _delay(message: DeliveryMessage, now: float) -> int:
    if message.not_before is None:
        return 0
    return max(0, min(MAX_DELAY_SECONDS, int(message.not_before - now + 0.999)))


class PinnedHttpSender:
    """POSTs to the address the SSRF guard checked, never re-resolving the name (DNS pinning);
    Host and TLS SNI/certificate checks still use the name. No redirects are followed."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS, context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.context = context or ssl.create_default_context()

    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> Response:
        started = time.monotonic()
        connection = pinned_connection(target, self.timeout, self.context)
        try:
            connection.request(
                "POST",
                target.path,
                body=body,
                headers={
                    "Host": target.host_header,
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    **headers,
                },
            )
            reply = connection.getresponse()
            reply.read(MAX_RESPONSE_BYTES)  # drained a little so the receiver sees a clean close; never returned
            return Response(
                status_code=reply.status,
                retry_after=reply.getheader("Retry-After"),
                error=None if 200 <= reply.status < 300 else f"HTTP {reply.status}",
                latency_ms=_elapsed_ms(started),
            )
        except (OSError, http.client.HTTPException) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError | socket.timeout) else type(exc).__name__
            return Response(error=f"connection failed: {reason}", latency_ms=_elapsed_ms(started))
        finally:
            connection.close()


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
