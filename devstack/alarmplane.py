"""CloudWatch's alarm evaluation for the devstack: moto stores metric alarms and metric data but
never evaluates one, so this loop does what CloudWatch does for the alarms the app makes (incident
automation's, chalicelib/live/domain/incidents.py) and for any other simple metric alarm.

Every `tick_seconds` it reads the alarms (DescribeAlarms) and, for each one with a single metric
and a statistic, the last EvaluationPeriods periods of that metric with its dimensions
(GetMetricStatistics). A period is breaching when its statistic crosses the threshold with the
alarm's ComparisonOperator; the alarm is ALARM when at least DatapointsToAlarm of the last
EvaluationPeriods periods breach. A missing period follows TreatMissingData (missing and
notBreaching: not breaching; breaching: breaching; with no data at all, `missing` is
INSUFFICIENT_DATA and `ignore` keeps the state). A new state is stored (SetAlarmState) and
announced on the default bus as AWS does: source `aws.cloudwatch`, detail-type "CloudWatch Alarm
State Change", `resources` the alarm's ARN, detail {alarmName, state {value, reason, reasonData,
timestamp}, previousState, configuration {description, metrics}}.

Differences from CloudWatch: evaluation runs every tick (CloudWatch: once a minute, or once a
period for 10 s and 30 s periods), and periods are moto's buckets, which start at the window's first
datapoint rather than on the clock's period boundaries.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)

SOURCE = "aws.cloudwatch"
DETAIL_TYPE = "CloudWatch Alarm State Change"
TICK_SECONDS = 1.0
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


def evaluate(alarm: dict[str, Any], values: list[float]) -> tuple[str, str]:
    """(state, reason) for the alarm given its periods' values (oldest first, at most N)."""
    compare = _COMPARE[alarm["ComparisonOperator"]]
    periods = int(alarm["EvaluationPeriods"])
    needed = int(alarm.get("DatapointsToAlarm") or periods)
    threshold = float(alarm["Threshold"])
    missing = alarm.get("TreatMissingData", "missing")
    recent = values[-periods:]
    if not recent and missing in ("missing", "ignore"):
        return "INSUFFICIENT_DATA" if missing == "missing" else str(alarm["StateValue"]), "no datapoints"
    breaching = sum(1 for v in recent if compare(v, threshold))
    if missing == "breaching":
        breaching += periods - len(recent)
    shown = ", ".join(f"{v:g}" for v in recent)
    if breaching >= needed:
        return (
            "ALARM",
            f"Threshold Crossed: {breaching} out of the last {periods} datapoints [{shown}] crossed {threshold:g}",
        )
    return (
        "OK",
        f"Threshold not crossed: {breaching} out of the last {periods} datapoints [{shown}] crossed {threshold:g}",
    )


def state_change_event(
    alarm: dict[str, Any], state: str, reason: str, data: dict[str, Any], at: datetime
) -> dict[str, Any]:
    """The PutEvents entry of a "CloudWatch Alarm State Change" (the documented detail shape)."""
    dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
    detail = {
        "alarmName": alarm["AlarmName"],
        "state": {"value": state, "reason": reason, "reasonData": json.dumps(data), "timestamp": _stamp(at)},
        "previousState": {
            "value": alarm["StateValue"],
            "reason": alarm.get("StateReason", ""),
            "timestamp": _stamp(alarm.get("StateUpdatedTimestamp") or at),
        },
        "configuration": {
            "description": alarm.get("AlarmDescription", ""),
            "metrics": [
                {
                    "id": "m1",
                    "metricStat": {
                        "metric": {
                            "namespace": alarm["Namespace"],
                            "name": alarm["MetricName"],
                            "dimensions": dimensions,
                        },
                        "period": alarm["Period"],
                        "stat": alarm["Statistic"],
                    },
                    "returnData": True,
                }
            ],
        },
    }
    return {"Source": SOURCE, "DetailType": DETAIL_TYPE, "Resources": [alarm["AlarmArn"]], "Detail": json.dumps(detail)}


class AlarmPlane:
    def __init__(self, cloudwatch: Any, events: Any, tick_seconds: float = TICK_SECONDS) -> None:
        self.cloudwatch = cloudwatch
        self.events = events
        self.tick_seconds = tick_seconds
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="alarm-plane", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(5)

    def _loop(self) -> None:
        while not self.stopping.wait(self.tick_seconds):
            try:
                self.tick(datetime.now(UTC))
            except Exception:
                logger.exception("alarm plane: an evaluation failed")

    def tick(self, now: datetime) -> list[tuple[str, str]]:
        """Evaluates every alarm once; the (alarm name, new state) of those that changed."""
        changed: list[tuple[str, str]] = []
        for page in self.cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
            for alarm in page.get("MetricAlarms", []):
                if (
                    not alarm.get("Statistic")
                    or not alarm.get("MetricName")
                    or alarm["ComparisonOperator"] not in _COMPARE
                ):
                    continue
                try:
                    state, reason = evaluate(alarm, self._values(alarm, now))
                except Exception:  # one alarm CloudWatch could not evaluate must not stop the others
                    logger.exception("alarm plane: could not evaluate %s", alarm["AlarmName"])
                    continue
                if state == alarm["StateValue"]:
                    continue
                data = {"version": "1.0", "queryDate": _stamp(now), "statistic": alarm["Statistic"]}
                self.cloudwatch.set_alarm_state(
                    AlarmName=alarm["AlarmName"], StateValue=state, StateReason=reason, StateReasonData=json.dumps(data)
                )
                self.events.put_events(Entries=[state_change_event(alarm, state, reason, data, now)])
                changed.append((alarm["AlarmName"], state))
        return changed

    def _values(self, alarm: dict[str, Any], now: datetime) -> list[float]:
        period = int(alarm["Period"])
        window = timedelta(seconds=period * int(alarm["EvaluationPeriods"]))
        found = self.cloudwatch.get_metric_statistics(
            Namespace=alarm["Namespace"],
            MetricName=alarm["MetricName"],
            Dimensions=alarm.get("Dimensions", []),
            StartTime=now - window,
            EndTime=now,
            Period=period,
            Statistics=[alarm["Statistic"]],
        )["Datapoints"]
        return [float(p[alarm["Statistic"]]) for p in sorted(found, key=lambda p: p["Timestamp"])]
