"""Creates every AWS resource from the definitions in chalicelib.core.resources (as infra/ does)."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import boto3

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import Table
from chalicelib.core.clock import utc_now
from chalicelib.platform.adapters.signing_keys import SecretsManagerKeyStore
from chalicelib.platform.services.auth import rotate_signing_keys
from chalicelib.vod.adapters.videos import backfill_listing
from devstack.emulator import ACCOUNT_ID, EVENT_BUS_NAME, SIGNING_SECRET_ID, TABLE_NAME, bucket_name


def create_table(client: Any, name: str = TABLE_NAME) -> None:
    client.create_table(TableName=name, **resources.TABLE)
    client.get_waiter("table_exists").wait(TableName=name)
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": resources.TTL_ATTRIBUTE}
    )


def create_signing_secret(client: Any, secret_id: str = SIGNING_SECRET_ID) -> None:
    client.create_secret(Name=secret_id, Description="Videoplane access-token signing keys")
    rotate_signing_keys(SecretsManagerKeyStore(client, secret_id, 0), utc_now(), timedelta(hours=1))


LIVE_EVENT_SRT_SECRET_ID = "videoplane/live-event-srt-passphrase"


def ensure_live_event_srt_secret(client: Any) -> str:
    """The SRT passphrase that managed live events' SRT_LISTENER inputs decrypt with (MediaLive
    reads it from Secrets Manager by ARN): made once, kept across restarts. Its ARN."""
    try:
        return str(client.describe_secret(SecretId=LIVE_EVENT_SRT_SECRET_ID)["ARN"])
    except client.exceptions.ResourceNotFoundException:
        passphrase = secrets.token_urlsafe(24)  # SRT takes 10 to 79 characters
        created = client.create_secret(
            Name=LIVE_EVENT_SRT_SECRET_ID, Description="Videoplane live events' SRT passphrase", SecretString=passphrase
        )
        return str(created["ARN"])


def create_bucket(client: Any, definition: resources.Bucket, name: str | None = None) -> str:
    """The bucket with the lifecycle rules and CORS of its definition (what infra builds)."""
    name = name or bucket_name(definition)
    client.create_bucket(Bucket=name)
    client.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=definition.lifecycle)
    if definition.cors:
        client.put_bucket_cors(Bucket=name, CORSConfiguration=definition.cors)
    return name


def create_event_bus(client: Any, name: str = EVENT_BUS_NAME) -> str:
    arn: str = client.create_event_bus(Name=name)["EventBusArn"]
    return arn


def create_queues(client: Any) -> dict[str, str]:
    """Each queue with its own dead-letter queue, as infra builds them; returns name -> URL."""
    return {definition.name: create_queue(client, definition) for definition in resources.QUEUES}


def create_queue(client: Any, definition: resources.Queue) -> str:
    """The queue and its dead-letter queue (SQS's CreateQueue is idempotent for equal attributes)."""
    dlq_url = client.create_queue(QueueName=f"{definition.name}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": definition.max_receive_count})
    url: str = client.create_queue(
        QueueName=definition.name,
        Attributes={"VisibilityTimeout": str(definition.visibility_timeout), "RedrivePolicy": redrive},
    )["QueueUrl"]
    return url


def route_events_to_webhooks(events: Any, sqs: Any, bus: str = EVENT_BUS_NAME) -> None:
    """The rule on the project bus that feeds the webhook dispatcher."""
    _route(
        events, sqs, "webhooks", resources.WEBHOOK_RULE_PATTERN, resources.WEBHOOK_EVENTS_QUEUE, "webhook-events", bus
    )


def route_removals(events: Any, sqs: Any, bus: str = EVENT_BUS_NAME) -> None:
    """The rules on the project bus that send each announced removal to its context's queue."""
    for route in resources.REMOVAL_ROUTES:
        name = f"removals-{route.entity}"
        _route(events, sqs, name, route.pattern, route.queue, name, bus)


def route_bus_events(events: Any, sqs: Any, bus: str = EVENT_BUS_NAME) -> None:
    """The rules on the project bus that send a context the events it acts on (resources.BUS_ROUTES)."""
    for route in resources.BUS_ROUTES:
        _route(events, sqs, route.name, route.pattern, route.queue, route.name, bus)


def _route(
    events: Any, sqs: Any, rule: str, pattern: dict[str, Any], queue: resources.Queue, target: str, bus: str | None
) -> None:
    """A rule (on `bus`, or on the default bus where AWS services report) to a queue, as infra's
    _route_to_queue; putting a rule or target again changes nothing."""
    on_bus = {"EventBusName": bus} if bus else {}
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern), **on_bus)
    events.put_targets(Rule=rule, Targets=[{"Id": target, "Arn": _queue_arn(sqs, queue.name)}], **on_bus)


def _queue_arn(sqs: Any, name: str) -> str:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


def notify_pipeline(s3: Any, sqs: Any) -> None:
    """Uploads bucket → one queue per prefix (stored request bodies, assembled sources)."""
    s3.put_bucket_notification_configuration(
        Bucket=bucket_name(resources.UPLOADS_BUCKET),
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": queue.name,
                    "QueueArn": _queue_arn(sqs, queue.name),
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
                for prefix, queue in resources.BUCKET_NOTIFICATIONS
            ]
        },
    )


def route_media_events(events: Any, sqs: Any) -> None:
    """MediaConvert reports on the account's default bus; this app's jobs go to its queue."""
    _route(events, sqs, "mediaconvert-jobs", resources.MEDIACONVERT_RULE_PATTERN, resources.MEDIA_EVENTS_QUEUE,
           "media-events", None)  # fmt: skip


def route_live_events(events: Any, sqs: Any) -> None:
    """IVS reports stream state changes on the account's default bus; this app's channels' go to
    the live-events queue."""
    _route(events, sqs, "ivs-streams", resources.IVS_RULE_PATTERN, resources.LIVE_EVENTS_QUEUE, "live-events", None)


def route_live_event_channels(events: Any, sqs: Any) -> None:
    """MediaLive reports channel state changes, alerts and input changes on the account's default
    bus; they go to the live-event-channels queue (managed live events)."""
    _route(events, sqs, "medialive-channels", resources.MEDIALIVE_RULE_PATTERN, resources.LIVE_EVENT_CHANNELS_QUEUE,
           "live-event-channels", None)  # fmt: skip
    # Incident automation's alarm state changes (devstack/alarmplane.py evaluates the alarms here).
    _route(events, sqs, "incident-alarms", resources.INCIDENT_ALARM_RULE_PATTERN, resources.LIVE_EVENT_CHANNELS_QUEUE,
           "live-event-incidents", None)  # fmt: skip


def route_room_events(events: Any, sqs: Any) -> None:
    """IVS real-time's stage updates (default bus) → the room-events queue; sessions' starts come
    from the project bus through resources.BUS_ROUTES."""
    _route(
        events, sqs, "ivs-stages", resources.IVS_STAGE_RULE_PATTERN, resources.ROOM_EVENTS_QUEUE, "room-events", None
    )


def create_delivery_stream(firehose: Any) -> None:
    """The beacons' Firehose stream into the analytics bucket, as infra builds it (moto keeps no
    Firehose state across restarts, so this runs on every start)."""
    stream = resources.ANALYTICS_STREAM
    try:
        firehose.describe_delivery_stream(DeliveryStreamName=stream.name)
        return
    except firehose.exceptions.ResourceNotFoundException:
        pass
    firehose.create_delivery_stream(
        DeliveryStreamName=stream.name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration=stream.extended_s3(
            f"arn:aws:s3:::{bucket_name(stream.bucket)}", f"arn:aws:iam::{ACCOUNT_ID}:role/{stream.name}"
        ),
    )


def create_missing_buckets(s3: Any) -> None:
    """Buckets added since the state was saved (a restored state keeps the ones it has as they are)."""
    existing = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    for definition in resources.BUCKETS:
        if bucket_name(definition) not in existing:
            create_bucket(s3, definition)


def recording_configuration_request(bucket: str) -> dict[str, Any]:
    """IVS CreateRecordingConfiguration's request for the stack's configuration (what infra builds)."""
    request = json.loads(json.dumps(resources.LIVE_RECORDING_CONFIGURATION))
    request["destinationConfiguration"]["s3"]["bucketName"] = bucket
    return dict(request)


def ensure_recording_configuration(ivs: Any, bucket: str | None = None) -> str:
    """The stack's IVS recording configuration (found by name, else created); returns its ARN."""
    request = recording_configuration_request(bucket or bucket_name(resources.MEDIA_BUCKET))
    for summary in ivs.list_recording_configurations().get("recordingConfigurations", []):
        if summary.get("name") == request["name"]:
            return str(summary["arn"])
    return str(ivs.create_recording_configuration(**request)["recordingConfiguration"]["arn"])


def ensure_room_recording_configurations(ivs_realtime: Any, bucket: str | None = None) -> tuple[str, str]:
    """The stack's IVS real-time storage configuration (to the media bucket) and encoder
    configuration for rooms' compositions, found by name or created: their ARNs."""
    storage = json.loads(json.dumps(resources.ROOM_STORAGE_CONFIGURATION))
    storage["s3"]["bucketName"] = bucket or bucket_name(resources.MEDIA_BUCKET)
    storage_arn = next(
        (c["arn"] for c in ivs_realtime.list_storage_configurations().get("storageConfigurations", [])
         if c.get("name") == storage["name"]),
        None,
    ) or ivs_realtime.create_storage_configuration(**storage)["storageConfiguration"]["arn"]  # fmt: skip
    encoder = resources.ROOM_ENCODER_CONFIGURATION
    encoder_arn = next(
        (c["arn"] for c in ivs_realtime.list_encoder_configurations().get("encoderConfigurations", [])
         if c.get("name") == encoder["name"]),
        None,
    ) or ivs_realtime.create_encoder_configuration(**encoder)["encoderConfiguration"]["arn"]  # fmt: skip
    return str(storage_arn), str(encoder_arn)


def upgrade() -> None:
    """What a state saved by an older devstack may lack: every bucket, queue and bus rule, and the
    Firehose stream (creating a queue again and putting a rule again change nothing that exists)."""
    sqs = boto3.client("sqs")
    events = boto3.client("events")
    create_missing_buckets(boto3.client("s3"))
    create_queues(sqs)
    route_events_to_webhooks(events, sqs)
    route_removals(events, sqs)
    route_media_events(events, sqs)
    route_live_events(events, sqs)
    route_live_event_channels(events, sqs)
    route_room_events(events, sqs)
    route_bus_events(events, sqs)
    create_delivery_stream(boto3.client("firehose"))
    add_missing_indexes(boto3.client("dynamodb"))


def add_missing_indexes(client: Any, name: str = TABLE_NAME) -> None:
    """The table's indexes that a state saved by an older devstack lacks (GSI2, the video listing),
    then the keys of the items written before them, as `python -m infra.backfill` does on AWS."""
    present = {
        index["IndexName"] for index in client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
    }
    missing = [index for index in resources.TABLE["GlobalSecondaryIndexes"] if index["IndexName"] not in present]
    for index in missing:
        client.update_table(
            TableName=name,
            AttributeDefinitions=resources.TABLE["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
    if missing:
        backfill_listing(Table(client, name))


def bootstrap() -> None:
    create_table(boto3.client("dynamodb"))
    create_signing_secret(boto3.client("secretsmanager"))
    s3 = boto3.client("s3")
    for definition in resources.BUCKETS:
        create_bucket(s3, definition)
    create_event_bus(boto3.client("events"))
    upgrade()  # the queues and the bus rules: one list for a new stack and a restored one
    notify_pipeline(s3, boto3.client("sqs"))
