"""The health push channel's adapters: its DynamoDB records, and API Gateway's Management API, which
sends to a WebSocket connection (PostToConnection)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.core import resources
from chalicelib.core.adapters.calls import translated_call
from chalicelib.core.adapters.dynamodb import Put, Table
from chalicelib.live.adapters.records import (
    HEALTH_CONNECTION_INDEX_PREFIX,
    health_connection_from_item,
    health_connection_item,
    health_connection_key,
    health_subscription_from_item,
    health_subscription_item,
    health_subscription_key,
)
from chalicelib.live.domain.health_push import ConnectionGone, HealthConnection, HealthSubscription, PushUnavailable

# Worth a retry (the message comes again): throttling and API Gateway's own failures.
_RETRYABLE = frozenset(
    {"LimitExceededException", "TooManyRequestsException", "InternalServerError", "ServiceUnavailable"}
)


class DynamoHealthSubscriptions:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add_subscription(self, subscription: HealthSubscription) -> None:
        self.table.write([Put(item=health_subscription_item(subscription))])

    def subscription(self, project_id: str, secret_hash: str) -> HealthSubscription | None:
        item = self.table.get(*health_subscription_key(project_id, secret_hash))
        return None if item is None else health_subscription_from_item(item)

    def add_connection(self, connection: HealthConnection) -> None:
        self.table.write([Put(item=health_connection_item(connection))])

    def connections(self, project_id: str, live_event_id: str) -> list[HealthConnection]:
        pk, _ = health_connection_key(project_id, live_event_id, "")
        # `#` sorts below every id character and `$` just above it: the event's connections only.
        found = self.table.query(pk, sk_between=(f"{live_event_id}#", f"{live_event_id}$"), consistent=True)
        return [health_connection_from_item(item) for item in found]

    def find_connection(self, connection_id: str) -> HealthConnection | None:
        for item in self.table.query(HEALTH_CONNECTION_INDEX_PREFIX + connection_id, index=resources.GSI1):
            return health_connection_from_item(item)
        return None

    def remove_connection(self, connection: HealthConnection) -> None:
        self.table.delete(
            *health_connection_key(connection.project_id, connection.live_event_id, connection.connection_id)
        )


def _translate(error: ClientError) -> Exception:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "GoneException":
        return ConnectionGone(error.response.get("Error", {}).get("Message", ""))
    if code in _RETRYABLE or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
        return PushUnavailable(detail=f"API Gateway refused the push ({code}); it is retried.")
    return error


class ApiGatewayConnections:
    """PostToConnection and DeleteConnection on the WebSocket API's stage (its callback URL)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, connection_id: str, data: bytes) -> None:
        translated_call(self.client, _translate, "post_to_connection", ConnectionId=connection_id, Data=data)

    def close(self, connection_id: str) -> None:
        try:
            translated_call(self.client, _translate, "delete_connection", ConnectionId=connection_id)
        except ConnectionGone:
            return
