"""/live-event-templates and /live-events in-process on moto, with MediaLive faked at the adapter
boundary (the port chalicelib.live.ports.LiveEventChannels; the adapter's own requests are checked
with the Stubber and the strict model walk in tests/unit/test_medialive_channels.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.core.domain.access import Role
from chalicelib.live import wiring
from chalicelib.live.consumers.live_events import track_live_events
from chalicelib.live.domain.errors import ChannelRefused, ChannelUnavailable
from chalicelib.live.domain.live_events import ChannelResources, Ingest, LiveEvent, RouteName
from chalicelib.platform import wiring as platform_wiring
from chalicelib.platform.services.projects import KeyCreation
from devstack.emulator import TABLE_NAME
from devstack.ivsplane import IvsPlane
from tests.integration.conftest import ApiClient
from tests.integration.files import create_video
from tests.integration.test_live_streams_api import create as create_live_stream
from tests.integration.test_outbox import drain


def with_role(client: Client, tenant: ApiClient, role: Role) -> ApiClient:
    issued = platform_wiring.project_service().create_key(tenant.project_id, KeyCreation(role=role), actor=None)
    return ApiClient(client, issued).login()


def create_template(api: ApiClient, **fields: Any) -> dict[str, Any]:
    response = api.call("POST", "/live-event-templates", {"name": "Town hall", **fields})
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def test_templates_round_trip_with_versions_and_one_default(tenant: ApiClient) -> None:
    first = create_template(
        tenant,
        default=True,
        ladder=[{"height": 720, "bitrate": 3_000_000}, {"height": 1080, "bitrate": 6_000_000}],
        failover={"inputLossMs": 2000, "audioSilenceMs": 5000},
        allowOverrides=["record"],
    )
    assert first["templateId"].startswith("lt") and first["version"] == 1 and first["default"] is True
    assert [r["height"] for r in first["ladder"]] == [1080, 720]  # highest first
    assert first["failover"]["inputLossMs"] == 2000 and first["failover"]["blackVideoMs"] is None
    assert first["failover"]["inputPreference"] == "PRIMARY_INPUT_PREFERRED"
    assert first["inputLoss"] == {"repeatFrameMs": 1000, "blackFrameMs": 10000, "action": "EMIT_OUTPUT"}
    assert first["allowOverrides"] == ["record"] and first["restreams"]["maxRestreams"] == 5

    path = f"/live-event-templates/{first['templateId']}"
    patched = tenant.call("PATCH", path, {"segmentSeconds": 4, "latencyMode": "low"})
    assert patched.status_code == 200, patched.body
    assert patched.json_body["version"] == 2 and patched.json_body["segmentSeconds"] == 4

    second = create_template(tenant, name="Webinar", default=True)
    assert tenant.call("GET", path).json_body["default"] is False  # one default per project
    assert tenant.call("GET", path).json_body["version"] == 3
    listing = tenant.call("GET", "/live-event-templates").json_body
    assert [t["templateId"] for t in listing["data"]] == [first["templateId"], second["templateId"]]
    assert listing["pagination"]["itemsTotal"] == 2

    refused = tenant.call("DELETE", f"/live-event-templates/{second['templateId']}")
    assert refused.status_code == 409
    assert tenant.call("DELETE", path).status_code == 204
    assert tenant.call("GET", path).status_code == 404
    actions = [e["action"] for e in tenant.call("GET", "/audit-events").json_body["data"]]
    assert "live-event-template.create" in actions and "live-event-template.delete" in actions


def test_template_validation_names_the_field(tenant: ApiClient) -> None:
    bad = tenant.call("POST", "/live-event-templates", {"name": "x", "ladder": []})
    assert bad.status_code == 400 and bad.json_body["name"] == "ladder"
    twice = [{"height": 720, "bitrate": 3_000_000}] * 2
    assert tenant.call("POST", "/live-event-templates", {"name": "x", "ladder": twice}).status_code == 400
    unknown = tenant.call("POST", "/live-event-templates", {"name": "x", "allowOverrides": ["name"]})
    assert unknown.status_code == 400 and unknown.json_body["name"].startswith("allowOverrides")
    loss = tenant.call("POST", "/live-event-templates", {"name": "x", "inputLoss": {"action": "STOP"}})
    assert loss.status_code == 400 and loss.json_body["name"] == "inputLoss[action]"
    template = create_template(tenant)
    null = tenant.call("PATCH", f"/live-event-templates/{template['templateId']}", {"failover": None})
    assert null.status_code == 400 and null.json_body["name"] == "failover"


def test_operators_read_templates_but_only_admins_change_them(chalice_client: Client, tenant: ApiClient) -> None:
    template = create_template(tenant)
    operator = with_role(chalice_client, tenant, Role.OPERATOR)
    path = f"/live-event-templates/{template['templateId']}"
    assert operator.call("GET", path).status_code == 200
    assert operator.call("PATCH", path, {"record": True}).status_code == 403
    assert operator.call("POST", "/live-event-templates", {"name": "mine"}).status_code == 403


def test_another_project_sees_404_for_templates(tenant: ApiClient, other_tenant: ApiClient) -> None:
    template = create_template(tenant)
    path = f"/live-event-templates/{template['templateId']}"
    assert other_tenant.call("GET", path).status_code == 404
    assert other_tenant.call("PATCH", path, {"name": "x"}).status_code == 404
    assert other_tenant.call("DELETE", path).status_code == 404


# -- live events --------------------------------------------------------------------------------


class FakeChannels:
    """MediaLive at the adapter boundary (the LiveEventChannels port): what was armed (created),
    started, released and switched, a refusal on demand, and what happens while a channel starts."""

    def __init__(self) -> None:
        self.armed: list[str] = []
        self.started: list[str] = []
        self.on_start: Callable[[LiveEvent], None] = lambda event: None
        self.released: list[str] = []
        self.switched: list[tuple[str, RouteName]] = []
        self.refuse: str | None = None

    def create(self, event: LiveEvent) -> ChannelResources:
        if self.refuse:
            raise ChannelRefused(detail=self.refuse)
        self.armed.append(event.live_event_id)
        ingest = tuple(
            Ingest(
                route=RouteName(name),
                protocol=route.protocol,
                input_id=f"in-{name}",
                url=f"rtmp://10.0.0.{n}:1935/{event.live_event_id}/{name}",
            )
            for n, (name, route) in enumerate((("primary", event.routes.primary), ("backup", event.routes.backup)))
            if route is not None and not event.premiere
        )
        return ChannelResources(
            channel_id="1234567",
            channel_arn=f"arn:aws:medialive:us-east-1:123456789012:channel:{event.live_event_id}",
            input_ids=tuple(i.input_id for i in ingest),
            ingest=ingest,
            playback_url=f"https://media.example/live-events/{event.live_event_id}/index.m3u8",
        )

    def start(self, event: LiveEvent) -> None:
        self.started.append(event.live_event_id)
        self.on_start(event)

    def release(self, event: LiveEvent) -> None:
        self.released.append(event.live_event_id)

    def switch_input(self, event: LiveEvent, route: RouteName) -> None:
        self.switched.append((event.live_event_id, route))


@pytest.fixture
def plane(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[IvsPlane]:
    """IVS behind the live streams events reference (as tests/integration/test_live_streams_api.py)."""
    ivs = IvsPlane("http://127.0.0.1:9/media")
    monkeypatch.setenv("AWS_ENDPOINT_URL_IVS", ivs.start())
    core_wiring.reset()
    yield ivs
    ivs.stop()


@pytest.fixture
def medialive(aws: None, monkeypatch: pytest.MonkeyPatch) -> FakeChannels:
    fake = FakeChannels()
    monkeypatch.setattr(wiring, "live_event_channels", lambda: fake)
    core_wiring.reset()
    return fake


def schedule(start_in: timedelta = timedelta(hours=1), length: timedelta = timedelta(hours=1)) -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + start_in
    return {"startAt": start.isoformat(), "endAt": (start + length).isoformat()}


def create_event(api: ApiClient, live_stream_id: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "Town hall", "liveStreamId": live_stream_id, "schedule": schedule(), **fields}
    response = api.call("POST", "/live-events", body)
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def outbox_types(project_id: str) -> list[str]:
    items = boto3.client("dynamodb").query(
        TableName=TABLE_NAME, KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"P#{project_id}#OUTBOX"}},
    )["Items"]  # fmt: skip
    return [item["eventType"]["S"] for item in items]


def test_an_event_is_created_armed_and_ended_once_each(
    plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient
) -> None:
    stream = create_live_stream(tenant)
    template = create_template(tenant, allowOverrides=["record"])
    event = create_event(tenant, stream["liveStreamId"], templateId=template["templateId"], overrides={"record": True})
    assert event["state"] == "draft" and event["liveEventId"].startswith("le")
    assert event["templateVersion"] == 1 and event["profile"]["record"] is True and event["ingest"] == {}
    start = datetime.fromisoformat(event["schedule"]["startAt"])
    assert datetime.fromisoformat(event["schedule"]["armAt"]) == start - timedelta(minutes=5)
    path = f"/live-events/{event['liveEventId']}"

    armed = tenant.call("POST", f"{path}/arm")
    assert armed.status_code == 200, armed.body
    assert armed.json_body["state"] == "armed" and armed.json_body["ingest"]["backup"]["url"].startswith("rtmp://")
    assert armed.json_body["playbackUrl"].endswith("/index.m3u8")
    again = tenant.call("POST", f"{path}/arm")  # a retry: nothing made again, nothing announced again
    assert again.status_code == 200 and medialive.armed == [event["liveEventId"]]

    assert tenant.call("DELETE", path).status_code == 409  # end it first
    ended = tenant.call("POST", f"{path}/end")
    assert ended.status_code == 200 and ended.json_body["state"] == "ended"
    assert tenant.call("POST", f"{path}/end").json_body["state"] == "ended"
    assert medialive.released == [event["liveEventId"]]
    assert sorted(t for t in outbox_types(tenant.project_id) if t.startswith("live-event.")) == [
        "live-event.armed",
        "live-event.ended",
        "live-event.health.changed",  # armed, then ended: once each (the push channel's trigger)
        "live-event.health.changed",
    ]
    assert tenant.call("POST", f"{path}/arm").status_code == 409  # ended is final
    assert tenant.call("DELETE", path).status_code == 204


def test_a_retried_create_with_its_idempotency_key_makes_one_event(
    plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient
) -> None:
    body = {"name": "Once", "liveStreamId": create_live_stream(tenant)["liveStreamId"], "schedule": schedule()}
    first = tenant.call("POST", "/live-events", body, headers={"idempotency-key": "create-once"})
    again = tenant.call("POST", "/live-events", body, headers={"idempotency-key": "create-once"})
    assert first.status_code == again.status_code == 201
    assert first.json_body["liveEventId"] == again.json_body["liveEventId"]
    assert len(tenant.call("GET", "/live-events").json_body["data"]) == 1


def test_a_forbidden_override_is_refused_naming_the_field(
    plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient
) -> None:
    stream = create_live_stream(tenant)
    template = create_template(tenant, allowOverrides=["record"])
    body = {
        "name": "x", "liveStreamId": stream["liveStreamId"], "schedule": schedule(),
        "templateId": template["templateId"], "overrides": {"failover": {"inputLossMs": 200}},
    }  # fmt: skip
    refused = tenant.call("POST", "/live-events", body)
    assert refused.status_code == 400 and refused.json_body["name"] == "overrides[failover]"
    assert template["templateId"] in refused.json_body["detail"]


def test_schedules_sources_and_routes_are_validated(
    plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient
) -> None:
    stream = create_live_stream(tenant)
    base = {"name": "x", "liveStreamId": stream["liveStreamId"]}
    backwards = {"startAt": "2030-01-01T10:00:00Z", "endAt": "2030-01-01T09:00:00Z"}
    assert tenant.call("POST", "/live-events", {**base, "schedule": backwards}).status_code == 400
    late_arm = {**schedule(), "armAt": "2099-01-01T00:00:00Z"}
    assert tenant.call("POST", "/live-events", {**base, "schedule": late_arm}).status_code == 400
    both = {**base, "videoId": "vi" + "A" * 22, "schedule": schedule()}
    assert tenant.call("POST", "/live-events", both).status_code == 400
    missing = {"name": "x", "liveStreamId": "li" + "A" * 22, "schedule": schedule()}
    response = tenant.call("POST", "/live-events", missing)
    assert response.status_code == 400 and response.json_body["name"] == "liveStreamId"
    no_video = {"name": "x", "videoId": "vi" + "A" * 22, "schedule": schedule()}
    assert tenant.call("POST", "/live-events", no_video).json_body["name"] == "videoId"
    srt = {**base, "schedule": schedule(), "routes": {"primary": {"protocol": "srt"}}}
    refused = tenant.call("POST", "/live-events", srt)  # no SRT passphrase secret configured
    assert refused.status_code == 400 and refused.json_body["name"] == "routes[primary][protocol]"


def test_a_draft_changes_freely_a_live_one_only_its_name_and_end(
    plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient
) -> None:
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    path = f"/live-events/{event['liveEventId']}"
    assert event["templateId"] == "default"  # the built-in: the project had no default template
    template = create_template(tenant, default=True, latencyMode="low")
    patched = tenant.call("PATCH", path, {"name": "Renamed", "overrides": {"segmentSeconds": 4}})
    assert patched.status_code == 200 and patched.json_body["profile"]["segmentSeconds"] == 4
    # Overrides are applied anew to the project's default of today, and it is recorded.
    assert patched.json_body["templateId"] == template["templateId"] and patched.json_body["templateVersion"] == 1
    assert patched.json_body["profile"]["latencyMode"] == "low"
    assert tenant.call("POST", f"{path}/arm").status_code == 200
    refused = tenant.call("PATCH", path, {"overrides": {"segmentSeconds": 6}})
    assert refused.status_code == 409 and refused.json_body["name"] == "overrides"
    later = {
        **event["schedule"],
        "endAt": (datetime.fromisoformat(event["schedule"]["endAt"]) + timedelta(hours=1)).isoformat(),
    }
    del later["armAt"]
    later["armAt"] = event["schedule"]["armAt"]
    extended = tenant.call("PATCH", path, {"name": "Longer", "schedule": later})
    assert extended.status_code == 200, extended.body
    assert extended.json_body["schedule"]["endAt"] == later["endAt"] and extended.json_body["name"] == "Longer"
    earlier = {**later, "startAt": later["armAt"]}
    assert tenant.call("PATCH", path, {"schedule": earlier}).status_code == 409


def test_a_refused_channel_fails_the_event(plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient) -> None:
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    medialive.refuse = "Bad encoder settings"
    response = tenant.call("POST", f"/live-events/{event['liveEventId']}/arm")
    assert response.status_code == 422 and response.json_body["detail"] == "Bad encoder settings"
    failed = tenant.call("GET", f"/live-events/{event['liveEventId']}").json_body
    assert failed["state"] == "failed" and failed["failure"] == "Bad encoder settings"
    assert "live-event.failed" in outbox_types(tenant.project_id)
    medialive.refuse = None  # fixed: a failed event may be armed again
    assert tenant.call("POST", f"/live-events/{event['liveEventId']}/arm").json_body["state"] == "armed"


def test_the_route_override_needs_equal_preference_and_is_audited_with_the_actor(
    chalice_client: Client, plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient
) -> None:
    stream = create_live_stream(tenant)
    preferred = create_event(tenant, stream["liveStreamId"])
    path = f"/live-events/{preferred['liveEventId']}"
    tenant.call("POST", f"{path}/arm")
    refused = tenant.call("POST", f"{path}/route", {"mode": "backup"})
    assert refused.status_code == 409 and "EQUAL_INPUT_PREFERENCE" in refused.json_body["detail"]

    equal = {"failover": {"inputPreference": "EQUAL_INPUT_PREFERENCE"}}
    event = create_event(tenant, stream["liveStreamId"], overrides=equal)
    path = f"/live-events/{event['liveEventId']}"
    operator = with_role(chalice_client, tenant, Role.OPERATOR)
    viewer = with_role(chalice_client, tenant, Role.VIEWER)
    assert operator.call("POST", f"{path}/route", {"mode": "backup"}).status_code == 409  # not armed yet
    operator.call("POST", f"{path}/arm")
    assert viewer.call("POST", f"{path}/route", {"mode": "backup"}).status_code == 403
    forced = operator.call("POST", f"{path}/route", {"mode": "backup"})
    assert forced.status_code == 200 and forced.json_body["routeMode"] == "backup"
    assert medialive.switched == [(event["liveEventId"], RouteName.BACKUP)]
    assert operator.call("POST", f"{path}/route", {"mode": "backup"}).status_code == 200  # a retry
    back = operator.call("POST", f"{path}/route", {"mode": "automatic"})
    assert back.json_body["routeMode"] == "automatic" and len(medialive.switched) == 1
    assert operator.call("POST", f"{path}/route", {"mode": "sideways"}).status_code == 400

    entries = tenant.call("GET", f"{path}/timeline?pageSize=100").json_body["data"]
    requests = [e for e in entries if e["kind"] == "request"]
    assert [e["summary"] for e in requests] == [
        "live-event.create",
        "live-event.arm",
        "live-event.route",
        "live-event.route",
    ]
    assert {e["actorKeyId"] for e in requests[1:]} == {operator.issued.key.key_id}
    assert all(e["requestId"] for e in requests)
    kinds = [e["kind"] for e in entries]
    assert "transition" in kinds and "route" in kinds
    # What a request caused carries its request id: the operator's switch and its audit entry correlate.
    (forced_entry,) = [e for e in entries if e["kind"] == "route" and e["detail"]["to"] == "backup"]
    assert forced_entry["requestId"] == requests[2]["requestId"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    health = tenant.call("GET", f"{path}/health").json_body
    assert health["routeMode"] == "automatic" and [i["route"] for i in health["inputs"]] == ["primary", "backup"]


def test_another_project_sees_404_for_events(
    plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    path = f"/live-events/{event['liveEventId']}"
    assert other_tenant.call("GET", path).status_code == 404
    assert other_tenant.call("POST", f"{path}/arm").status_code == 404
    assert other_tenant.call("GET", f"{path}/timeline").status_code == 404
    assert other_tenant.call("GET", "/live-events").json_body["data"] == []
    assert medialive.armed == []


# -- MediaLive's reports and the schedule, through the bus rule and the queue -------------------------


def medialive_event(detail_type: str, channel_arn: str, seconds: int, **detail: Any) -> Any:
    when = datetime.now(UTC) + timedelta(seconds=seconds)
    return {
        "Source": "aws.medialive",
        "DetailType": detail_type,
        "Resources": [channel_arn],
        "Time": when,
        "Detail": json.dumps({"channel_arn": channel_arn, **detail}),
    }


def consume() -> dict[str, Any]:
    """What waits on the live-event-channels queue, handed to its consumer as Lambda would."""
    records = [
        {
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": {},
            "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "awsRegion": "us-east-1",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{resources.LIVE_EVENT_CHANNELS_QUEUE.name}",
        }
        for m in drain(resources.LIVE_EVENT_CHANNELS_QUEUE)
    ]  # fmt: skip
    result: dict[str, Any] = track_live_events({"Records": records}, None)
    return result


def test_medialive_reports_make_the_event_live_fail_over_and_end(
    plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient
) -> None:
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    path = f"/live-events/{event['liveEventId']}"
    assert tenant.call("POST", f"{path}/arm").status_code == 200
    arn = f"arn:aws:medialive:us-east-1:123456789012:channel:{event['liveEventId']}"  # FakeChannels' ARN
    drain(resources.LIVE_EVENT_CHANNELS_QUEUE)  # the schedule's end timer is not what this is about
    reports = [
        medialive_event("MediaLive Channel State Change", arn, 1, state="RUNNING", message="Channel started"),
        medialive_event("MediaLive Channel Input Change", arn, 2, active_input_attachment_name="primary"),
        medialive_event(
            "MediaLive Channel Alert",
            arn,
            3,
            alarm_state="SET",
            alarm_id="a1",
            alert_type="RTMP Has No Audio/Video",
            pipeline="0",
            message="no input",
        ),
        medialive_event("MediaLive Channel Input Change", arn, 4, active_input_attachment_name="backup"),
        # Another channel of the account: dropped.
        medialive_event("MediaLive Channel State Change", arn + "0", 5, state="RUNNING"),
    ]
    events_client = boto3.client("events")
    assert events_client.put_events(Entries=reports)["FailedEntryCount"] == 0
    assert consume() == {"batchItemFailures": []}

    live = tenant.call("GET", path).json_body
    assert live["state"] == "live" and live["activeRoute"] == "backup"
    health = tenant.call("GET", f"{path}/health").json_body
    assert health["activeRoute"] == "backup" and health["channelState"] == "RUNNING"
    assert [a["alertType"] for a in health["alerts"]] == ["RTMP Has No Audio/Video"]
    assert [i["active"] for i in health["inputs"]] == [False, True]
    types = outbox_types(tenant.project_id)
    assert types.count("live-event.started") == 1 and types.count("live-event.failover") == 1

    # Redelivered (EventBridge is at least once): nothing announced twice.
    assert events_client.put_events(Entries=reports[:4])["FailedEntryCount"] == 0
    assert consume() == {"batchItemFailures": []}
    assert outbox_types(tenant.project_id).count("live-event.failover") == 1

    stopped = medialive_event("MediaLive Channel State Change", arn, 60, state="IDLE", message="Channel stopped")
    events_client.put_events(Entries=[stopped])
    assert consume() == {"batchItemFailures": []}
    assert tenant.call("GET", path).json_body["state"] == "ended" and medialive.released == [event["liveEventId"]]
    kinds = [e["kind"] for e in tenant.call("GET", f"{path}/timeline?pageSize=100").json_body["data"]]
    assert {"request", "transition", "health", "failover"} <= set(kinds)


def test_a_channel_is_stored_before_it_starts_so_its_first_reports_find_the_event(
    plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient
) -> None:
    """The arming race: MediaLive reports a channel as soon as it starts (on AWS within seconds). Those
    reports are matched by the channel's ARN, so it must be stored before StartChannel is called."""
    event = create_event(tenant, create_live_stream(tenant)["liveStreamId"])
    arn = f"arn:aws:medialive:us-east-1:123456789012:channel:{event['liveEventId']}"  # FakeChannels' ARN
    drain(resources.LIVE_EVENT_CHANNELS_QUEUE)
    applied: list[bool] = []

    def running_at_once(started: LiveEvent) -> None:
        report = medialive_event("MediaLive Channel State Change", arn, 1, state="RUNNING", message="started")
        message = {
            "id": f"race-{started.live_event_id}", "source": report["Source"], "detail-type": report["DetailType"],
            "time": report["Time"].isoformat(), "resources": report["Resources"],
            "detail": json.loads(report["Detail"]),
        }  # fmt: skip
        applied.append(wiring.live_event_plane_service().on_plane_event(message))

    medialive.on_start = running_at_once
    path = f"/live-events/{event['liveEventId']}"
    assert tenant.call("POST", f"{path}/arm").status_code == 200
    assert applied == [True]
    assert tenant.call("GET", path).json_body["state"] == "live"
    # A retried arm of the armed (or live) event makes nothing again; a live one is not restarted.
    assert tenant.call("POST", f"{path}/arm").status_code == 200
    assert medialive.armed == [event["liveEventId"]] and medialive.started == [event["liveEventId"]]


def test_a_retried_arm_starts_the_channel_a_failed_start_left_idle(
    plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient
) -> None:
    stream = create_live_stream(tenant)
    event = create_event(tenant, stream["liveStreamId"], schedule=schedule(start_in=timedelta(minutes=1)))
    path = f"/live-events/{event['liveEventId']}"

    def busy(started: LiveEvent) -> None:
        raise ChannelUnavailable()

    medialive.on_start = busy
    assert tenant.call("POST", f"{path}/arm").status_code == 503
    assert tenant.call("GET", path).json_body["state"] == "armed"  # stored, with its channel
    medialive.on_start = lambda started: None
    # The schedule's arming timer, delivered again after the failure, starts it too.
    due = datetime.fromisoformat(event["schedule"]["armAt"])
    wiring.live_event_plane_service().on_timer(tenant.project_id, event["liveEventId"], due)
    assert tenant.call("POST", f"{path}/arm").status_code == 200
    assert medialive.armed == [event["liveEventId"]] and medialive.started == [event["liveEventId"]] * 3


def test_the_schedule_arms_a_due_event_without_a_human(
    plane: IvsPlane, medialive: FakeChannels, tenant: ApiClient
) -> None:
    stream = create_live_stream(tenant)
    drain(resources.LIVE_EVENT_CHANNELS_QUEUE)
    soon = create_event(tenant, stream["liveStreamId"], schedule=schedule(start_in=timedelta(minutes=1)))
    later = create_event(tenant, stream["liveStreamId"])  # its timer waits (15 min at most per delay)
    assert consume() == {"batchItemFailures": []}
    assert medialive.armed == [soon["liveEventId"]]
    armed = tenant.call("GET", f"/live-events/{soon['liveEventId']}").json_body
    assert armed["state"] == "armed"
    assert tenant.call("GET", f"/live-events/{later['liveEventId']}").json_body["state"] == "draft"
    # The arm by the schedule has no actor: the timeline shows the transition, no request.
    entries = tenant.call("GET", f"/live-events/{soon['liveEventId']}/timeline").json_body["data"]
    assert [e["summary"] for e in entries if e["kind"] == "request"] == ["live-event.create"]
    # An early timer (SQS delays reach 15 minutes) is set again for the same time.
    url = os.environ[resources.LIVE_EVENT_CHANNELS_QUEUE.env]

    def waiting() -> int:
        names: Any = ["ApproximateNumberOfMessagesDelayed"]
        attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesDelayed"])

    before = waiting()
    due = datetime.fromisoformat(later["schedule"]["armAt"])
    wiring.live_event_plane_service().on_timer(tenant.project_id, later["liveEventId"], due)
    assert waiting() == before + 1 and medialive.armed == [soon["liveEventId"]]
    # A timer of a due time the event no longer has (moved by an update) does nothing.
    wiring.live_event_plane_service().on_timer(
        tenant.project_id, later["liveEventId"], datetime(2000, 1, 1, tzinfo=UTC)
    )
    assert medialive.armed == [soon["liveEventId"]]
    assert waiting() == before + 1  # and sets no timer again


def test_a_premiere_plays_a_videos_uploaded_source(
    medialive: FakeChannels, tenant: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    video_id = create_video(tenant, "Keynote")
    body = {"name": "Premiere", "videoId": video_id, "schedule": schedule()}
    missing = tenant.call("POST", "/live-events", body)
    assert missing.status_code == 400 and missing.json_body["name"] == "videoId"  # no source uploaded yet
    # Every upload lands at its video's source (docs/live.md): a premiere names the video, never an S3 URL.
    url = f"s3://{os.environ[resources.UPLOADS_BUCKET.env]}/sources/{tenant.project_id}/{video_id}"
    by_url = tenant.call("POST", "/live-events", {"name": "Premiere", "sourceUrl": url, "schedule": schedule()})
    assert by_url.status_code == 400 and "sourceUrl" in json.dumps(by_url.json_body)
    boto3.client("s3").put_object(
        Bucket=os.environ[resources.UPLOADS_BUCKET.env], Key=f"sources/{tenant.project_id}/{video_id}", Body=b"mp4"
    )
    created = tenant.call("POST", "/live-events", {**body, "routes": {"primary": {"protocol": "rtmp"}}})
    assert created.status_code == 201, created.body
    event = created.json_body
    assert event["videoId"] == video_id and event["routes"] is None  # a file: no routes
    assert wiring.video_sources().source_url(tenant.project_id, video_id) == (
        f"s3ssl://{os.environ[resources.UPLOADS_BUCKET.env]}/sources/{tenant.project_id}/{video_id}"
    )
    armed = tenant.call("POST", f"/live-events/{event['liveEventId']}/arm").json_body
    assert armed["state"] == "armed" and armed["ingest"] == {}  # a file: nothing to push to
    refused = tenant.call("POST", f"/live-events/{event['liveEventId']}/route", {"mode": "backup"})
    assert refused.status_code == 409
    # Its channel is made but starts at startAt, by a timer: a running channel plays its file at once.
    assert medialive.armed == [event["liveEventId"]] and medialive.started == []
    start = datetime.fromisoformat(event["schedule"]["startAt"])
    plane_service = wiring.live_event_plane_service()
    plane_service.on_timer(tenant.project_id, event["liveEventId"], start)  # early: set again, nothing started
    assert medialive.started == []
    for service in (plane_service, plane_service.lifecycle):
        monkeypatch.setattr(service, "clock", lambda: start + timedelta(seconds=1))
    plane_service.on_timer(tenant.project_id, event["liveEventId"], start)
    assert medialive.started == [event["liveEventId"]]
