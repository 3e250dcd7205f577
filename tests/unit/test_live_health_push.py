"""The health push channel's pure rules (tokens, what counts as a health change), its service against
in-memory fakes of its ports, and the API Gateway Management API adapter through botocore's Stubber
and the strict model walk."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from chalicelib.core.domain.access import Actor, Principal, Role
from chalicelib.core.domain.errors import NotFound
from chalicelib.live.adapters.health_push import ApiGatewayConnections
from chalicelib.live.api.event_presenters import health
from chalicelib.live.domain import event_plane, health_push, live_events
from chalicelib.live.domain.health_push import ConnectionGone, HealthConnection, HealthSubscription, PushUnavailable
from chalicelib.live.domain.live_events import LiveEvent, LiveEventState, RouteMode, transition
from chalicelib.live.services.health_push import HealthPushService
from tests.unit import strict_model
from tests.unit.test_live_event_plane import T0, alert, armed, state, switch

PROJECT, OTHER = "pr" + "A" * 22, "pr" + "B" * 22
ENVELOPE = {"projectId": PROJECT, "eventId": "ev1", "emittedAt": "2026-12-06T20:00:00Z"}


def announced(before: LiveEvent, after: LiveEvent) -> list[str]:
    return [e.type for e in health_push.health_announcement(before, after, ENVELOPE)]


# -- tokens --------------------------------------------------------------------------------------


def test_a_token_names_its_tenant_and_event_and_is_stored_only_as_a_hash() -> None:
    token, stored = health_push.new_subscription(PROJECT, "le1", T0, 300)
    project_id, event_id, secret = health_push.parse_token(token) or ("", "", "")
    assert (project_id, event_id) == (PROJECT, "le1") and len(secret) == health_push.SECRET_LENGTH
    assert secret not in stored.model_dump_json() and stored.expires_at == T0 + timedelta(seconds=300)
    assert health_push.admits(stored, "le1", secret, T0 + timedelta(seconds=299))


@pytest.mark.parametrize(
    ("event_id", "secret_ok", "seconds"),
    [("le2", True, 10), ("le1", False, 10), ("le1", True, 300), ("le1", True, 301)],
    ids=["another event", "a wrong secret", "at expiry", "after expiry"],
)
def test_a_token_admits_nothing_else(event_id: str, secret_ok: bool, seconds: int) -> None:
    token, stored = health_push.new_subscription(PROJECT, "le1", T0, 300)
    secret = token.rsplit(".", 1)[1] if secret_ok else "x" * health_push.SECRET_LENGTH
    assert not health_push.admits(stored, event_id, secret, T0 + timedelta(seconds=seconds))
    assert not health_push.admits(None, "le1", secret, T0)


@pytest.mark.parametrize("token", [None, "", "a.b", "a.b.c.d", "a.b.c!", "pr1.le1."])
def test_what_is_not_a_token_is_refused_before_any_lookup(token: str | None) -> None:
    assert health_push.parse_token(token) is None


def test_the_connect_url_carries_the_token() -> None:
    assert health_push.connect_url("wss://x/prod", "t") == "wss://x/prod?token=t"
    assert health_push.connect_url("http://x/health?live=1", "t") == "http://x/health?live=1&token=t"


# -- what counts as a health change ----------------------------------------------------------------


def test_each_change_the_health_document_shows_is_announced_once() -> None:
    before = armed()
    steps = [state("RUNNING", 1), switch("primary", 2), alert("SET", 3), switch("backup", 4), alert("CLEARED", 5)]
    for step in steps:
        outcome = event_plane.apply(before, step)
        assert outcome is not None
        assert health(outcome.event) != health(before)
        assert announced(before, outcome.event) == ["live-event.health.changed"]
        before = outcome.event
    repeated = event_plane.apply(before, steps[-1])
    assert repeated is None or announced(before, repeated.event) == []


def test_the_announcement_says_what_changed() -> None:
    live = event_plane.apply(armed(), state("RUNNING", 1))
    assert live is not None
    alarmed = event_plane.apply(live.event, alert("SET", 2))
    assert alarmed is not None
    (event,) = health_push.health_announcement(live.event, alarmed.event, ENVELOPE)
    assert event.payload() | {"eventId": "-"} == {
        "type": "live-event.health.changed", "projectId": PROJECT, "eventId": "-", "emittedAt": ENVELOPE["emittedAt"],
        "liveEventId": alarmed.event.live_event_id, "state": "live", "openAlerts": 1,
    } | ({"activeRoute": alarmed.event.active_route.value} if alarmed.event.active_route else {})  # fmt: skip


def test_a_route_mode_change_is_a_health_change_but_a_rename_or_a_draft_is_not() -> None:
    event = armed()
    forced = live_events.with_route_mode(event, RouteMode.BACKUP, T0)
    assert forced is not None and announced(event, forced) == ["live-event.health.changed"]
    renamed = event.model_copy(update={"name": "new", "version": event.version + 1})
    assert announced(event, renamed) == []
    draft = event.model_copy(update={"state": LiveEventState.DRAFT, "channel": None})
    assert announced(draft, draft.model_copy(update={"alerts": forced.alerts, "route_mode": RouteMode.BACKUP})) == []


# -- the service ------------------------------------------------------------------------------------


class FakeEvents:
    def __init__(self, *events: LiveEvent) -> None:
        self.events = {(e.project_id, e.live_event_id): e for e in events}

    def get(self, project_id: str, live_event_id: str) -> LiveEvent | None:
        return self.events.get((project_id, live_event_id))

    def list_all(self, project_id: str) -> list[LiveEvent]:
        return [e for (p, _), e in self.events.items() if p == project_id]

    def find_by_channel(self, channel_arn: str) -> LiveEvent | None:
        return None

    def create(self, event: LiveEvent, audit: Any) -> None:
        self.events[(event.project_id, event.live_event_id)] = event

    def save(self, event: LiveEvent, expected_version: int, audit: Any, events: Any) -> None:
        self.events[(event.project_id, event.live_event_id)] = event

    def delete(self, event: LiveEvent, audit: Any) -> None:
        self.events.pop((event.project_id, event.live_event_id), None)


class FakeSubscriptions:
    def __init__(self) -> None:
        self.subscriptions: dict[tuple[str, str], HealthSubscription] = {}
        self.open: dict[str, HealthConnection] = {}

    def add_subscription(self, subscription: HealthSubscription) -> None:
        self.subscriptions[(subscription.project_id, subscription.secret_hash)] = subscription

    def subscription(self, project_id: str, secret_hash: str) -> HealthSubscription | None:
        return self.subscriptions.get((project_id, secret_hash))

    def add_connection(self, connection: HealthConnection) -> None:
        self.open[connection.connection_id] = connection

    def connections(self, project_id: str, live_event_id: str) -> list[HealthConnection]:
        return [c for c in self.open.values() if (c.project_id, c.live_event_id) == (project_id, live_event_id)]

    def find_connection(self, connection_id: str) -> HealthConnection | None:
        return self.open.get(connection_id)

    def remove_connection(self, connection: HealthConnection) -> None:
        self.open.pop(connection.connection_id, None)


class FakeConnections:
    def __init__(self, gone: set[str] | None = None) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.gone = gone or set()
        self.closed: list[str] = []

    def post(self, connection_id: str, data: bytes) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        self.sent.append((connection_id, json.loads(data)))

    def close(self, connection_id: str) -> None:
        self.closed.append(connection_id)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def live_event(project_id: str = PROJECT) -> LiveEvent:
    return armed().model_copy(update={"project_id": project_id})


def service(
    *events: LiveEvent, sender: FakeConnections | None = None, push_url: str = "ws://push/api"
) -> tuple[HealthPushService, FakeSubscriptions, FakeConnections, Clock]:
    subscriptions, connections, clock = FakeSubscriptions(), sender or FakeConnections(), Clock()
    built = HealthPushService(
        FakeEvents(*events), subscriptions, lambda: connections, health, clock, push_url, "http://sse/health", 300
    )
    return built, subscriptions, connections, clock


def actor(project_id: str = PROJECT) -> Actor:
    return Actor(Principal(project_id=project_id, key_id="ak1", role=Role.VIEWER), "req-1")


def test_subscribe_connect_push_and_disconnect() -> None:
    event = live_event()
    push, subscriptions, sent, clock = service(event)
    issued = push.subscribe(actor(), event.live_event_id)
    assert issued.url == f"ws://push/api?token={issued.token}" and issued.expires_at == T0 + timedelta(seconds=300)
    assert issued.stream_url == f"http://sse/health?token={issued.token}"
    assert push.connect("c1", issued.token) and push.connect("c2", issued.token)  # a reconnect: same token
    assert push.push(PROJECT, event.live_event_id) == 2
    assert sent.sent == [("c1", health(event)), ("c2", health(event))]
    push.disconnect("c1")
    push.disconnect("unknown")
    assert push.push(PROJECT, event.live_event_id) == 1 and sent.sent[-1][0] == "c2"
    clock.now = T0 + timedelta(seconds=301)
    assert not push.connect("c3", issued.token)  # the token expired
    assert list(subscriptions.open) == ["c2"]


def test_an_ended_event_s_screens_get_the_last_document_and_are_closed() -> None:
    event = live_event()
    push, subscriptions, sent, _ = service(event)
    issued = push.subscribe(actor(), event.live_event_id)
    assert push.connect("c1", issued.token) and push.connect("c2", issued.token)
    ended = transition(event, LiveEventState.ENDED, T0 + timedelta(minutes=1))
    assert ended is not None
    push.events.events[(PROJECT, event.live_event_id)] = ended  # type: ignore[attr-defined]
    assert push.push(PROJECT, event.live_event_id) == 2
    assert [(c, d["state"]) for c, d in sent.sent] == [("c1", "ended"), ("c2", "ended")]
    assert sent.closed == ["c1", "c2"] and subscriptions.open == {}
    assert push.push(PROJECT, event.live_event_id) == 0  # a redelivered message: nobody left


def test_another_tenant_neither_subscribes_nor_connects() -> None:
    event = live_event()
    push, subscriptions, _, _ = service(event, live_event(OTHER).model_copy(update={"live_event_id": "le" + "X" * 22}))
    with pytest.raises(NotFound):
        push.subscribe(actor(OTHER), event.live_event_id)
    issued = push.subscribe(actor(), event.live_event_id)
    _, event_id, secret = health_push.parse_token(issued.token) or ("", "", "")
    # The same secret, claimed for the other project: its partition has no such subscription.
    assert not push.connect("c1", f"{OTHER}.{event_id}.{secret}")
    assert not push.connect("c1", f"{PROJECT}.{'le' + 'X' * 22}.{secret}")
    assert not push.connect("c1", None) and subscriptions.open == {}


def test_a_stack_without_the_channel_refuses_subscriptions_with_503() -> None:
    event = live_event()
    push, _, _, _ = service(event, push_url="")
    with pytest.raises(PushUnavailable) as refused:
        push.subscribe(actor(), event.live_event_id)
    assert refused.value.status == 503


def test_a_gone_or_expired_connection_is_dropped_and_never_sent_to() -> None:
    event = live_event()
    push, subscriptions, sent, clock = service(event, sender=FakeConnections(gone={"gone"}))
    issued = push.subscribe(actor(), event.live_event_id)
    assert push.connect("gone", issued.token) and push.connect("kept", issued.token)
    assert push.push(PROJECT, event.live_event_id) == 1
    assert list(subscriptions.open) == ["kept"]
    clock.now = T0 + timedelta(seconds=health_push.CONNECTION_SECONDS + 1)
    assert push.push(PROJECT, event.live_event_id) == 0 and len(sent.sent) == 1


def test_a_connection_asks_for_the_current_document_once_open() -> None:
    event = live_event()
    push, subscriptions, sent, _ = service(event, sender=FakeConnections(gone={"gone"}))
    issued = push.subscribe(actor(), event.live_event_id)
    assert push.connect("c1", issued.token) and push.connect("gone", issued.token)
    assert push.send_current("c1") and sent.sent == [("c1", health(event))]
    assert not push.send_current("unknown") and not push.send_current("gone")
    assert list(subscriptions.open) == ["c1"]


def test_nothing_is_read_or_sent_for_an_event_nobody_watches() -> None:
    push, _, sent, _ = service()
    assert push.push(PROJECT, "le" + "Z" * 22) == 0 and sent.sent == []


# -- the API Gateway Management API adapter -----------------------------------------------------


def management_api() -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url="https://abc123.execute-api.us-east-1.amazonaws.com/prod",
        region_name="us-east-1",
        aws_access_key_id="unit",
        aws_secret_access_key="unit",
    )


def test_post_to_connection_passes_the_model_and_the_stubber() -> None:
    client = management_api()
    params = {"ConnectionId": "L0SM9cOFvHcCIhw=", "Data": b'{"state":"live"}'}
    assert strict_model.findings("apigatewaymanagementapi", "PostToConnection", params) == []
    with Stubber(client) as stubber:
        stubber.add_response("post_to_connection", {}, params)
        ApiGatewayConnections(client).post("L0SM9cOFvHcCIhw=", b'{"state":"live"}')
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "raised"),
    [
        ("GoneException", 410, ConnectionGone),
        ("LimitExceededException", 429, PushUnavailable),
        ("InternalServerError", 500, PushUnavailable),
        ("ForbiddenException", 403, ClientError),  # the role lacks ManageConnections: a bug, not a retry
        ("PayloadTooLargeException", 413, ClientError),
    ],
)
def test_post_to_connection_errors_become_the_domain_s(code: str, status: int, raised: type[Exception]) -> None:
    client = management_api()
    with Stubber(client) as stubber:
        stubber.add_client_error("post_to_connection", code, http_status_code=status)
        with pytest.raises(raised):
            ApiGatewayConnections(client).post("c1", b"{}")


def test_delete_connection_passes_the_model_and_the_stubber_and_a_gone_one_is_done() -> None:
    client = management_api()
    params = {"ConnectionId": "L0SM9cOFvHcCIhw="}
    assert strict_model.findings("apigatewaymanagementapi", "DeleteConnection", params) == []
    with Stubber(client) as stubber:
        stubber.add_response("delete_connection", {}, params)
        stubber.add_client_error("delete_connection", "GoneException", http_status_code=410)
        ApiGatewayConnections(client).close("L0SM9cOFvHcCIhw=")
        ApiGatewayConnections(client).close("L0SM9cOFvHcCIhw=")  # the client left first
        stubber.assert_no_pending_responses()
