"""Incident automation in-process on moto: "CloudWatch Alarm State Change" events put on the default
bus reach the live-event-channels queue through the incident-alarms rule (the devstack's bootstrap,
the same pattern as infra's), and its consumer opens the incident, switches the route (MediaLive
faked at the port, as tests/integration/test_live_events_api.py), announces it through the outbox,
reverts after the window (the revert timer, on the same queue) and resolves. An operator's forced
route is left alone."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from chalicelib.core import resources
from chalicelib.core.domain.access import Role
from chalicelib.live.domain import incidents
from chalicelib.live.domain.live_events import RouteName
from devstack.emulator import TABLE_NAME
from tests.integration.conftest import ApiClient
from tests.integration.test_live_events_api import (  # noqa: F401 - fixtures
    FakeChannels,
    consume,
    create_event,
    create_template,
    medialive,
    medialive_event,
    outbox_types,
    plane,
    with_role,
)
from tests.integration.test_live_streams_api import create as create_live_stream
from tests.integration.test_outbox import drain

# The fixtures of the live events API tests: IVS behind the live streams, MediaLive faked at the port.
pytestmark = pytest.mark.usefixtures("plane")
INCIDENTS = {"droppedFrames": 5, "periodSeconds": 10, "sustainSeconds": 10, "stabilizationSeconds": 0}


def alarm(project_id: str, live_event_id: str, state: str) -> Any:
    name = f"{resources.INCIDENT_ALARM_PREFIX}{project_id}-{live_event_id}-dropped-frames"
    detail = incidents.alarm_event(name, state, "OK", "Threshold Crossed", datetime.now(UTC))
    arn = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
    return {"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change", "Resources": [arn],
            "Detail": json.dumps(detail)}  # fmt: skip


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> FakeChannels:
    channels: FakeChannels = request.getfixturevalue("medialive")
    return channels


def live_event(api: ApiClient, admin: ApiClient) -> str:
    template = create_template(
        admin, failover={"inputPreference": "EQUAL_INPUT_PREFERENCE"}, incidents=INCIDENTS, name="fragile"
    )
    event = create_event(api, create_live_stream(api)["liveStreamId"], templateId=template["templateId"])
    assert api.call("POST", f"/live-events/{event['liveEventId']}/arm").status_code == 200
    drain(resources.LIVE_EVENT_CHANNELS_QUEUE)  # the schedule's end timer
    arn = f"arn:aws:medialive:us-east-1:123456789012:channel:{event['liveEventId']}"
    running = medialive_event("MediaLive Channel State Change", arn, 1, state="RUNNING", message="started")
    boto3.client("events").put_events(Entries=[running])
    assert consume() == {"batchItemFailures": []}
    return str(event["liveEventId"])


def test_an_alarm_opens_an_incident_switches_and_the_ok_reverts_it(
    fake: FakeChannels, tenant: ApiClient, chalice_client: Any
) -> None:
    admin = with_role(chalice_client, tenant, Role.ADMIN)
    event_id = live_event(tenant, admin)
    events = boto3.client("events")
    events.put_events(Entries=[alarm(tenant.project_id, event_id, "ALARM")])
    # Another account alarm (not this app's prefix) is kept out by the rule.
    events.put_events(Entries=[{**alarm(tenant.project_id, event_id, "ALARM"), "Detail": json.dumps(
        incidents.alarm_event("cpu-high", "ALARM", "OK", "x", datetime.now(UTC)))}])  # fmt: skip
    assert consume() == {"batchItemFailures": []}
    assert fake.switched == [(event_id, RouteName.BACKUP)]
    health = tenant.call("GET", f"/live-events/{event_id}/health").json_body
    assert health["ladderCap"] == 480 and health["incident"]["metrics"] == ["DroppedFrames"]
    assert outbox_types(tenant.project_id).count("live-event.incident.opened") == 1
    # MediaLive reports the switch it was asked for.
    arn = f"arn:aws:medialive:us-east-1:123456789012:channel:{event_id}"
    switched = medialive_event("MediaLive Channel Input Change", arn, 2, active_input_attachment_name="backup")
    events.put_events(Entries=[switched])
    assert consume() == {"batchItemFailures": []}

    events.put_events(Entries=[alarm(tenant.project_id, event_id, "OK")])
    assert consume() == {"batchItemFailures": []}  # the OK: stabilizing, a revert timer due now
    # CloudWatch's timestamps carry milliseconds, the app's clock whole seconds: the timer waits 1 s.
    time.sleep(1.1)
    assert consume() == {"batchItemFailures": []}  # the revert timer
    assert fake.switched[-1] == (event_id, RouteName.PRIMARY)
    health = tenant.call("GET", f"/live-events/{event_id}/health").json_body
    assert health["ladderCap"] is None and health["incident"]["resolvedAt"] is not None
    assert outbox_types(tenant.project_id).count("live-event.incident.resolved") == 1
    kinds = [e["kind"] for e in tenant.call("GET", f"/live-events/{event_id}/timeline?pageSize=100").json_body["data"]]
    assert kinds.count("automation") >= 6


def test_an_operators_forced_route_wins_over_automation(
    fake: FakeChannels, tenant: ApiClient, chalice_client: Any
) -> None:
    admin = with_role(chalice_client, tenant, Role.ADMIN)
    event_id = live_event(tenant, admin)
    assert tenant.call("POST", f"/live-events/{event_id}/route", {"mode": "primary"}).status_code == 200
    boto3.client("events").put_events(Entries=[alarm(tenant.project_id, event_id, "ALARM")])
    assert consume() == {"batchItemFailures": []}
    assert fake.switched == [(event_id, RouteName.PRIMARY)]  # the operator's switch only
    timeline = tenant.call("GET", f"/live-events/{event_id}/timeline?pageSize=100").json_body["data"]
    assert "route not switched: the operator forces the primary route" in [e["summary"] for e in timeline]
    opened = outbox_types(tenant.project_id)
    assert opened.count("live-event.incident.opened") == 1


def test_ending_the_event_during_an_incident_resolves_it_and_says_why(
    fake: FakeChannels, tenant: ApiClient, chalice_client: Any
) -> None:
    admin = with_role(chalice_client, tenant, Role.ADMIN)
    event_id = live_event(tenant, admin)
    boto3.client("events").put_events(Entries=[alarm(tenant.project_id, event_id, "ALARM")])
    assert consume() == {"batchItemFailures": []}
    assert tenant.call("POST", f"/live-events/{event_id}/end").status_code == 200
    # Its alarms went with the channel: nothing else would ever resolve it.
    health = tenant.call("GET", f"/live-events/{event_id}/health").json_body
    assert health["incident"]["resolvedAt"] is not None and health["ladderCap"] is None
    resolved = [
        json.loads(item["payload"]["S"])
        for item in boto3.client("dynamodb").query(
            TableName=TABLE_NAME, KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"P#{tenant.project_id}#OUTBOX"}},
        )["Items"]
        if item["eventType"]["S"] == "live-event.incident.resolved"
    ]  # fmt: skip
    assert [(e["reason"], e.get("switchedTo")) for e in resolved] == [("ended", None)]
    timeline = tenant.call("GET", f"/live-events/{event_id}/timeline?pageSize=100").json_body["data"]
    assert "incident closed: the event ended" in [e["summary"] for e in timeline]
