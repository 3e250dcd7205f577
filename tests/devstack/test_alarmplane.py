"""The devstack's CloudWatch alarm evaluator (devstack/alarmplane.py) on moto: M of N periods of
the alarm's statistic, the state stored, and the documented "CloudWatch Alarm State Change" on
the default bus, which the app's rule and parser read (chalicelib/live/domain/incidents.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.core import resources
from chalicelib.live.domain import incidents
from devstack.alarmplane import AlarmPlane, evaluate
from tests.unit.test_live_event_incidents import live

CHANNEL_ID = "1234567"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield {name: boto3.client(name, region_name="us-east-1") for name in ("cloudwatch", "events", "sqs")}


def put(cloudwatch: Any, at: datetime, dropped: float) -> None:
    dimensions = [{"Name": "ChannelId", "Value": CHANNEL_ID}, {"Name": "Pipeline", "Value": "0"}]
    cloudwatch.put_metric_data(
        Namespace="AWS/MediaLive",
        MetricData=[{"MetricName": "DroppedFrames", "Dimensions": dimensions, "Value": dropped, "Timestamp": at}],
    )


def test_m_of_n_and_missing_data() -> None:
    alarm = {"ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
             "Threshold": 10, "TreatMissingData": "notBreaching", "StateValue": "OK"}  # fmt: skip
    assert evaluate(alarm, [12, 3, 10])[0] == "ALARM"
    assert evaluate(alarm, [12, 3, 9])[0] == "OK"
    assert evaluate(alarm, [])[0] == "OK"
    assert evaluate({**alarm, "TreatMissingData": "missing"}, [])[0] == "INSUFFICIENT_DATA"
    assert evaluate({**alarm, "TreatMissingData": "breaching"}, [10])[0] == "ALARM"


def test_an_incident_alarm_goes_to_alarm_and_back_with_its_events_on_the_default_bus(aws: Any) -> None:
    cloudwatch, events, sqs = aws["cloudwatch"], aws["events"], aws["sqs"]
    queue = sqs.create_queue(QueueName="alarms")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="incident-alarms", EventPattern=json.dumps(resources.INCIDENT_ALARM_RULE_PATTERN))
    events.put_targets(Rule="incident-alarms", Targets=[{"Id": "q", "Arn": arn}])
    event = live()
    cloudwatch.put_metric_alarm(**incidents.alarm_request(event, "DroppedFrames", CHANNEL_ID))  # 10/10 s, 2 of 2
    other = {
        "MetricName": "X",
        "Namespace": "N",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1,
    }
    cloudwatch.put_metric_alarm(AlarmName="someone-else", ComparisonOperator="GreaterThanThreshold", **other)
    plane = AlarmPlane(cloudwatch, events)
    now = datetime.now(UTC).replace(microsecond=0)
    for seconds in (17, 12, 7, 2):
        put(cloudwatch, now - timedelta(seconds=seconds), 8)  # 16 per 10 s period: both breach
    changed = dict(plane.tick(now))
    assert changed[incidents.alarm_name(event, "DroppedFrames")] == "ALARM"
    assert changed["someone-else"] == "INSUFFICIENT_DATA"
    stored = cloudwatch.describe_alarms(AlarmNames=[incidents.alarm_name(event, "DroppedFrames")])["MetricAlarms"][0]
    assert stored["StateValue"] == "ALARM" and "2 out of the last 2" in stored["StateReason"]
    assert plane.tick(now) == []  # no change, no event
    later = now + timedelta(seconds=30)
    for seconds in (17, 12, 7, 2):
        put(cloudwatch, later - timedelta(seconds=seconds), 0)
    assert plane.tick(later) == [(incidents.alarm_name(event, "DroppedFrames"), "OK")]
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    reports = [incidents.parse(json.loads(m["Body"])) for m in received]
    assert [(r.metric, r.state) for r in reports if r is not None] == [
        ("DroppedFrames", "ALARM"),
        ("DroppedFrames", "OK"),
    ]
    assert len(received) == 2  # the other alarm's change is not this app's
    body = json.loads(received[0]["Body"])
    assert body["source"] == "aws.cloudwatch" and body["resources"] == [stored["AlarmArn"]]
    metric = body["detail"]["configuration"]["metrics"][0]["metricStat"]
    assert metric["metric"]["dimensions"] == {"ChannelId": CHANNEL_ID, "Pipeline": "0"} and metric["period"] == 10
