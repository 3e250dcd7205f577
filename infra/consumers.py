"""Event consumers (`on_sqs_message`, `on_dynamodb_record`, `on_cw_event`, `schedule`): the event
source mapping or rule of each, in the stack of its function, with its dead-letter queue.

A consumer reads the parent's queue of its name when there is one (`resources.QUEUES`, or a queue
that consumers of several contexts name); otherwise its context's stack creates the queue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, MutableMapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from chalice.app import CloudWatchEventConfig, DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig
from constructs import Construct

from chalicelib.core import resources
from infra import common, settings
from infra.functions import AppFunction
from infra.model import FunctionSpec, camel


def queues_of_several_contexts(specs: Iterable[FunctionSpec]) -> set[str]:
    """The queues that consumers of more than one context read (the parent stack creates them)."""
    contexts: dict[str, set[str]] = defaultdict(set)
    for spec in specs:
        if isinstance(spec.source, SQSEventConfig) and spec.source.queue:
            contexts[spec.source.queue].add(spec.context)
    return {name for name, found in contexts.items() if len(found) > 1}


def new_queue(scope: Construct, name: str, visibility_seconds: int, topic: sns.ITopic) -> sqs.Queue:
    """A consumer's queue (SQS-managed encryption, TLS only) with its dead-letter queue."""
    dlq = common.new_dlq(scope, f"{camel(name)}QueueDlq", f"queue {name}", topic)
    return sqs.Queue(
        scope,
        f"{camel(name)}Queue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=cdk.Duration.seconds(visibility_seconds),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=settings.MAX_RECEIVE_COUNT),
    )


class Consumers:
    """Connects the consumers of one stack (`scope`) to their sources."""

    def __init__(
        self,
        scope: Construct,
        *,
        shared_queues: MutableMapping[str, sqs.Queue],
        table: dynamodb.ITable,
        alarm_topic: sns.ITopic,
    ) -> None:
        self.scope = scope
        self.shared_queues = shared_queues
        self.own_queues: dict[str, sqs.Queue] = {}
        self.table = table
        self.alarm_topic = alarm_topic

    def connect(self, target: AppFunction, source: Any) -> None:
        fn = target.function
        if isinstance(source, SQSEventConfig):
            queue = self._queue(source.queue or "", target)
            window = source.maximum_batching_window_in_seconds
            fn.add_event_source(
                sources.SqsEventSource(
                    queue,
                    batch_size=source.batch_size,
                    max_batching_window=cdk.Duration.seconds(window) if window else None,
                    max_concurrency=source.maximum_concurrency,
                    report_batch_item_failures=True,
                )
            )
        elif isinstance(source, DynamoDBEventConfig):
            window = source.maximum_batching_window_in_seconds
            fn.add_event_source(
                sources.DynamoEventSource(
                    self.table,
                    starting_position=lambda_.StartingPosition(source.starting_position),
                    batch_size=source.batch_size,
                    max_batching_window=cdk.Duration.seconds(window) if window else None,
                    report_batch_item_failures=True,
                    bisect_batch_on_error=True,
                    retry_attempts=settings.RETRY_ATTEMPTS,
                    on_failure=sources.SqsDlq(self._dead_letter_queue(target)),
                    filters=[lambda_.FilterCriteria.filter(p) for p in resources.STREAM_FILTERS.get(source.name, ())],
                )
            )
        elif isinstance(source, CloudWatchEventConfig | ScheduledEventConfig):
            rule = events.Rule(
                self.scope,
                f"{camel(source.name)}Rule",
                description=f"Videoplane {source.name}",
                event_pattern=common.event_pattern(source.event_pattern)
                if isinstance(source, CloudWatchEventConfig)
                else None,
                schedule=common.schedule(source) if isinstance(source, ScheduledEventConfig) else None,
            )
            rule.add_target(
                targets.LambdaFunction(
                    fn,
                    dead_letter_queue=self._dead_letter_queue(target),
                    retry_attempts=settings.RETRY_ATTEMPTS,
                    max_event_age=cdk.Duration.hours(24),
                )
            )

    def _queue(self, name: str, consumer: AppFunction) -> sqs.Queue:
        visibility = settings.VISIBILITY_TIMEOUT_FACTOR * consumer.size.timeout_seconds
        queue = self.shared_queues.get(name) or self.own_queues.get(name)
        if queue is not None:
            current = common.cfn(queue).visibility_timeout or 0
            common.cfn(queue).visibility_timeout = max(int(current), int(visibility))
            return queue
        queue = new_queue(self.scope, name, visibility, self.alarm_topic)
        self.own_queues[name] = queue
        return queue

    def _dead_letter_queue(self, consumer: AppFunction) -> sqs.Queue:
        return common.new_dlq(
            self.scope, f"{camel(consumer.spec.name)}Dlq", f"function {consumer.spec.name}", self.alarm_topic
        )
