"""Item layouts of live streams (docs/data-model.md)."""

from __future__ import annotations

from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, project_partition
from chalicelib.core.adapters.records import TTL, item_body
from chalicelib.core.clock import epoch_seconds
from chalicelib.live.domain.health_push import HealthConnection, HealthSubscription
from chalicelib.live.domain.live_event_templates import LiveEventTemplate
from chalicelib.live.domain.live_events import LiveEvent
from chalicelib.live.domain.live_streams import LiveStream

ENTITY = "liveStream"
# The public embed page names only the stream: its index entry gives the project (playback context).
PUBLIC_LIVE_STREAM_INDEX_PREFIX = "LIVE#"


def live_stream_key(project_id: str, live_stream_id: str) -> tuple[str, str]:
    return project_partition(project_id, "LIVE_STREAM"), live_stream_id


def live_stream_item(stream: LiveStream) -> dict[str, Any]:
    pk, sk = live_stream_key(stream.project_id, stream.live_stream_id)
    # A provisioning stream expires (DynamoDB TTL); its removal releases the channel by name.
    ttl = epoch_seconds(stream.expires_at) if stream.expires_at else None
    return {
        PK: pk,
        SK: sk,
        "entity": ENTITY,
        TTL: ttl,
        resources.GSI1_PARTITION_KEY: PUBLIC_LIVE_STREAM_INDEX_PREFIX + stream.live_stream_id,
        resources.GSI1_SORT_KEY: stream.project_id,
        **stream.model_dump(mode="json"),
    }


def live_stream_from_item(item: dict[str, Any]) -> LiveStream:
    return LiveStream.model_validate(item_body(item))


TEMPLATE_ENTITY = "liveEventTemplate"


def template_key(project_id: str, template_id: str) -> tuple[str, str]:
    return project_partition(project_id, "LIVE_EVENT_TEMPLATE"), template_id


def template_item(template: LiveEventTemplate) -> dict[str, Any]:
    pk, sk = template_key(template.project_id, template.template_id)
    return {PK: pk, SK: sk, "entity": TEMPLATE_ENTITY, **template.model_dump(mode="json")}


def template_from_item(item: dict[str, Any]) -> LiveEventTemplate:
    return LiveEventTemplate.model_validate(item_body(item))


LIVE_EVENT_ENTITY = "liveEvent"
# MediaLive's events name only the channel: its index entry gives the project and the event.
LIVE_EVENT_CHANNEL_INDEX_PREFIX = "LIVE_EVENT_CHANNEL#"


def live_event_key(project_id: str, live_event_id: str) -> tuple[str, str]:
    return project_partition(project_id, "LIVE_EVENT"), live_event_id


def live_event_item(event: LiveEvent) -> dict[str, Any]:
    pk, sk = live_event_key(event.project_id, event.live_event_id)
    item: dict[str, Any] = {PK: pk, SK: sk, "entity": LIVE_EVENT_ENTITY, **event.model_dump(mode="json")}
    if event.channel is not None:
        item[resources.GSI1_PARTITION_KEY] = LIVE_EVENT_CHANNEL_INDEX_PREFIX + event.channel.channel_arn
        item[resources.GSI1_SORT_KEY] = event.project_id
    return item


def live_event_from_item(item: dict[str, Any]) -> LiveEvent:
    return LiveEvent.model_validate(item_body(item))


# The health push channel (chalicelib.live.domain.health_push): subscriptions by their secret's hash,
# connections by event (the push's query) and by connection id (GSI1: `$disconnect` names only that).
HEALTH_SUBSCRIPTION_ENTITY = "liveEventHealthSubscription"
HEALTH_CONNECTION_ENTITY = "liveEventHealthConnection"
HEALTH_CONNECTION_INDEX_PREFIX = "LIVE_EVENT_HEALTH_CONNECTION#"


def health_subscription_key(project_id: str, secret_hash: str) -> tuple[str, str]:
    return project_partition(project_id, "LIVE_EVENT_HEALTH_SUBSCRIPTION"), secret_hash


def health_subscription_item(subscription: HealthSubscription) -> dict[str, Any]:
    pk, sk = health_subscription_key(subscription.project_id, subscription.secret_hash)
    return {
        PK: pk,
        SK: sk,
        "entity": HEALTH_SUBSCRIPTION_ENTITY,
        TTL: epoch_seconds(subscription.expires_at),
        **subscription.model_dump(mode="json"),
    }


def health_subscription_from_item(item: dict[str, Any]) -> HealthSubscription:
    return HealthSubscription.model_validate(item_body(item))


def health_connection_key(project_id: str, live_event_id: str, connection_id: str) -> tuple[str, str]:
    return project_partition(project_id, "LIVE_EVENT_HEALTH_CONNECTION"), f"{live_event_id}#{connection_id}"


def health_connection_item(connection: HealthConnection) -> dict[str, Any]:
    pk, sk = health_connection_key(connection.project_id, connection.live_event_id, connection.connection_id)
    return {
        PK: pk,
        SK: sk,
        "entity": HEALTH_CONNECTION_ENTITY,
        TTL: epoch_seconds(connection.expires_at),
        resources.GSI1_PARTITION_KEY: HEALTH_CONNECTION_INDEX_PREFIX + connection.connection_id,
        resources.GSI1_SORT_KEY: connection.project_id,
        **connection.model_dump(mode="json"),
    }


def health_connection_from_item(item: dict[str, Any]) -> HealthConnection:
    return HealthConnection.model_validate(item_body(item))
