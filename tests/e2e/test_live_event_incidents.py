"""Incident automation end to end on the devstack: a template with short incident thresholds
(DroppedFrames ≥ 5 in one 10 s period, 10 s stabilization, EQUAL_INPUT_PREFERENCE so a switch is
allowed), an event armed with two ffmpeg publishers, packet loss injected on the primary input of
the MediaLive plane. The plane's DroppedFrames cross the CloudWatch alarm made at arming, the
devstack's alarm evaluator says so on the default bus, the consumer opens the incident: the backup
route becomes active and the ladder is capped, `live-event.incident.opened` is delivered. The fault
ends (and the backup carries no loss), the alarm goes OK, and after the window the automation
switches back and lifts the cap: `live-event.incident.resolved`. The timeline shows every step."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import requests

from .receivers import Receiver
from .support import Api, Devstack, IssuedKey, Tenant, marker
from .test_live_events import ARM_SECONDS, LIVE_SECONDS, event_of
from .test_live_ingest import push, stop, wait_until

FAULT_SECONDS = 12
# Metrics every 5 s, the alarm evaluated every second, then EventBridge → SQS → the consumer.
ACT_SECONDS = 45.0
# The alarm's OK (a period without loss), the 10 s window, the revert timer.
REVERT_SECONDS = 60.0
INCIDENTS = {
    "droppedFrames": 5,
    "inputLossSeconds": None,
    "periodSeconds": 10,
    "sustainSeconds": 10,
    "stabilizationSeconds": 10,
    "actions": ["switch-route", "cap-ladder"],
    "ladderCapHeight": 480,
}


def channel_id(devstack: Devstack, live_event_id: str) -> str:
    medialive = boto3.client("medialive", endpoint_url=devstack.state()["mediaLivePlane"], region_name="us-east-1",
                             aws_access_key_id="devstack", aws_secret_access_key="devstack")  # fmt: skip
    channels = medialive.list_channels()["Channels"]
    return str(next(c["Id"] for c in channels if c["Name"] == f"videoplane-{live_event_id}-channel"))


def health(api: Api, tenant: Tenant, live_event_id: str) -> dict[str, Any]:
    return dict(api.ok("GET", f"/live-events/{live_event_id}/health", tenant.api_key))


def inject(devstack: Devstack, channel: str, kind: str, seconds: float) -> None:
    url = f"{devstack.state()['mediaLivePlane']}/_devstack/channels/{channel}/faults"
    response = requests.post(url, json={"input": "primary", "kind": kind, "seconds": seconds}, timeout=10)
    assert response.status_code == 202, response.text


def test_injected_packet_loss_switches_to_backup_caps_the_ladder_notifies_and_reverts(
    api: Api,
    devstack: Devstack,
    project_a: Tenant,
    admin_a: IssuedKey,
    receiver: Callable[..., Receiver],
) -> None:
    hook = receiver()
    api.ok("POST", "/webhooks", project_a.api_key, expected=201, json={
        "url": hook.url, "events": ["live-event.incident.opened", "live-event.incident.resolved"],
    })  # fmt: skip
    template = api.ok("POST", "/live-event-templates", admin_a.api_key, expected=201, json={
        "name": f"fragile network {marker()}",
        "failover": {"inputPreference": "EQUAL_INPUT_PREFERENCE"},
        "incidents": INCIDENTS,
    })  # fmt: skip
    stream = api.ok("POST", "/live-streams", project_a.api_key, json={"name": f"incidents {marker()}"})
    now = datetime.now(UTC)
    created = api.ok("POST", "/live-events", project_a.api_key, expected=201, json={
        "name": f"Incident drill {marker()}",
        "liveStreamId": stream["liveStreamId"],
        "templateId": template["templateId"],
        "schedule": {"startAt": (now + timedelta(minutes=10)).isoformat(),
                     "endAt": (now + timedelta(hours=1)).isoformat()},
    })  # fmt: skip
    event_id = created["liveEventId"]
    assert created["profile"]["incidents"]["sustainSeconds"] == 10

    armed = api.ok("POST", f"/live-events/{event_id}/arm", project_a.api_key, timeout=ARM_SECONDS)
    primary = push(armed["ingest"]["primary"]["url"], "rtmp", seconds=240)
    backup = push(armed["ingest"]["backup"]["url"], "rtmp", seconds=240)
    try:
        live = wait_until(lambda: (e := event_of(api, project_a, event_id))["state"] == "live" and e, LIVE_SECONDS)
        # The primary's encoder must be feeding the channel: a fault before its first segment drops nothing.
        wait_until(lambda: requests.get(live["playbackUrl"], timeout=10).status_code == 200, LIVE_SECONDS)
        channel = channel_id(devstack, event_id)
        injected = time.monotonic()
        inject(devstack, channel, "packet-loss", FAULT_SECONDS)

        # Both: MediaLive's input change (the switch) and the incident's save race to the event.
        acted = wait_until(lambda: (h := health(api, project_a, event_id))["activeRoute"] == "backup" and h["incident"]
                           and h, ACT_SECONDS)  # fmt: skip
        print(f"degradation → backup active: {time.monotonic() - injected:.1f} s")
        assert acted["ladderCap"] == 480 and acted["routeMode"] == "automatic"
        assert acted["incident"]["resolvedAt"] is None and acted["incident"]["metrics"] == ["DroppedFrames"]
        assert acted["incident"]["switchedFrom"] == "primary"
        opened = json.loads(hook.wait_for(1, seconds=ACT_SECONDS)[0].body)
        assert opened["type"] == "live-event.incident.opened" and opened["liveEventId"] == event_id
        assert opened["switchedTo"] == "backup" and opened["ladderCap"] == 480

        reverted = wait_until(
            lambda: (
                (h := api.ok("GET", f"/live-events/{event_id}/health", project_a.api_key))["incident"]["resolvedAt"]
                and h
            ),
            REVERT_SECONDS,
        )
        assert reverted["ladderCap"] is None
        wait_until(lambda: event_of(api, project_a, event_id)["activeRoute"] == "primary", 15)
        resolved = json.loads(hook.wait_for(2, seconds=30)[1].body)
        assert resolved["type"] == "live-event.incident.resolved" and resolved["switchedTo"] == "primary"
        assert resolved["incidentId"] == opened["incidentId"]

        timeline = api.list_all(f"/live-events/{event_id}/timeline", project_a.api_key)
        automation = [e["summary"] for e in timeline if e["kind"] == "automation"]
        assert automation[:3] == ["incident opened", "switching to the backup route", "ladder capped at 480p"], (
            automation
        )
        assert automation[-3:] == ["switching back to the primary route", "ladder cap lifted", "incident resolved"]
        assert "every alarm OK: stabilizing before the revert" in automation
        health_entries = [e["summary"] for e in timeline if e["kind"] == "health"]
        assert "alarm DroppedFrames ALARM" in health_entries and "alarm DroppedFrames OK" in health_entries
        failovers = [(e["detail"]["from"], e["detail"]["to"]) for e in timeline if e["kind"] == "failover"]
        # MediaLive reports no input change for the first input, so the first switch is from null.
        assert failovers[-2:] in (
            [(None, "backup"), ("backup", "primary")],
            [("primary", "backup"), ("backup", "primary")],
        )
    finally:
        stop(primary)
        stop(backup)
    ended = api.ok("POST", f"/live-events/{event_id}/end", project_a.api_key, timeout=ARM_SECONDS)
    assert ended["state"] == "ended"
    cloudwatch = boto3.client("cloudwatch", endpoint_url=devstack.aws_endpoint, region_name="us-east-1",
                              aws_access_key_id="devstack", aws_secret_access_key="devstack")  # fmt: skip
    left = cloudwatch.describe_alarms(AlarmNamePrefix=f"videoplane-live-event-{project_a.project_id}-{event_id}")
    assert left["MetricAlarms"] == []  # deleted with the channel
