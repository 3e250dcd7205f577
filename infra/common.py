"""Helpers every part of the CDK app shares: cdk-nag acknowledgements, the CloudFormation resource of
a construct, alarm defaults, EventBridge patterns and schedules, dead-letter queues."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from chalice.app import ScheduledEventConfig
from constructs import Construct, IConstruct

FIVE_MINUTES = cdk.Duration.minutes(5)
# CloudFormation metadata naming what a dead-letter queue collects (read by tests/infra).
DEAD_LETTER_METADATA = "videoplane:dead-letter-queue-of"

_PATTERN_FIELDS = {
    "source": "source",
    "detail-type": "detail_type",
    "detail": "detail",
    "resources": "resources",
    "account": "account",
    "region": "region",
    "id": "id",
    "time": "time",
    "version": "version",
}


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Suppress one cdk-nag finding on `scope` (and its children), with the reason it is acceptable.

    Every module calls it as `common.acknowledge`, so tests/infra can replace this one function to
    find acknowledgements that no longer suppress anything."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def cfn(construct: IConstruct) -> Any:
    child = construct.node.default_child
    if child is None:
        raise ValueError(f"{construct.node.path} has no CloudFormation resource")
    return child


def nag_arn(scope: IConstruct, construct: IConstruct) -> str:
    """How cdk-nag spells the ARN of `construct`'s resource in a finding on a resource of `scope`'s
    stack: `<LogicalId.Arn>` in the same stack; in a nested stack, a reference to the parameter CDK
    passes the ARN through (named after the resource's unique id, without the punctuation)."""
    resource = cfn(construct)
    owner = cdk.Stack.of(resource)
    if cdk.Stack.of(scope).node.path == owner.node.path:
        return f"<{owner.get_logical_id(resource)}.Arn>"
    return f"<referenceto{cdk.Names.node_unique_id(resource.node)}Arn>"


def alarm_on(
    scope: Construct, construct_id: str, *, description: str, metric: cloudwatch.IMetric, topic: sns.ITopic
) -> None:
    """An alarm at the first occurrence in five minutes, to the alarm topic."""
    alarm = cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(cw_actions.SnsAction(topic))


def new_dlq(scope: Construct, construct_id: str, owner: str, topic: sns.ITopic) -> sqs.Queue:
    """A dead-letter queue (14 days) with a depth alarm."""
    dlq = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
    )
    cfn(dlq).add_metadata(DEAD_LETTER_METADATA, owner)
    acknowledge(dlq, "AwsSolutions-SQS3", f"This queue is the dead-letter queue of {owner}.")
    alarm_on(
        scope,
        f"{construct_id}Depth",
        description=f"Messages in the dead-letter queue of {owner}",
        metric=dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
        topic=topic,
    )
    return dlq


def event_pattern(pattern: Mapping[str, Any] | str) -> events.EventPattern:
    data = json.loads(pattern) if isinstance(pattern, str) else dict(pattern)
    unknown = set(data) - set(_PATTERN_FIELDS)
    if unknown:
        raise ValueError(f"event pattern fields infra does not map: {sorted(unknown)}")
    return events.EventPattern(**{_PATTERN_FIELDS[key]: value for key, value in data.items()})


def schedule(source: ScheduledEventConfig) -> events.Schedule:
    expression = source.schedule_expression
    text = expression if isinstance(expression, str) else expression.to_string()
    return events.Schedule.expression(text)
