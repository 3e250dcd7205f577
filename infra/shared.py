"""What the parent stack holds for every context: the table, the signing secret, the uploads and
media buckets (media behind CloudFront) and the access-log bucket, the project's event bus, the
MediaConvert and MediaLive service roles, the alarm topic, the queues named in
`chalicelib.core.resources.QUEUES` (every function gets their URLs) with the rules and bucket
notifications that feed them.

`SharedStack` builds them in its own scope, at the construct paths (hence logical ids) they had
when Videoplane was one stack: the retained table, secret and buckets are never replaced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ivs as ivs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from chalicelib.core import resources
from infra import common, settings
from infra.edge import playback_check, viewer_country_requests
from infra.model import camel
from infra.retention import Retention

EVENT_BUS_POLICY_SID = "OwnAccountOnly"
# Construct id prefix of the Lambda function CDK adds to apply S3 bucket notifications.
NOTIFICATIONS_HANDLER_PREFIX = "BucketNotificationsHandler"
# Construct ids of the media services' roles (chalicelib.core.resources names -> AWS spelling).
ROLE_IDS = {resources.MEDIACONVERT_ROLE.name: "MediaConvert", resources.MEDIALIVE_ROLE.name: "MediaLive"}

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_TABLE_KEYS_HANDLED = {
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "BillingMode",
    "StreamSpecification",
}


class SharedStack(cdk.Stack):
    """The parent stack's shared resources (built by `build_shared`, before any function)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # Server access logs are delivered under a bucket policy (not the log-delivery ACL).
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)

    def build_shared(self, alarm_email: str | None) -> None:
        self.alarm_topic = self._alarm_topic(alarm_email)
        self.table = self._table()
        self.signing_secret = self._signing_secret()
        self.playback_session_secret = self._playback_session_secret()
        self.access_logs = self._access_log_bucket()
        self.buckets = {definition.name: self._bucket(definition) for definition in resources.BUCKETS}
        self.media_distribution = self._media_distribution(self.buckets[resources.MEDIA_BUCKET.name])
        self.media_base_url = f"https://{self.media_distribution.distribution_domain_name}"
        self.event_bus = self._event_bus()
        self.service_roles = {definition.name: self._service_role(definition) for definition in resources.SERVICE_ROLES}
        # Consumers of these names (in any context) read these queues (see infra.consumers).
        self.queues: dict[str, sqs.Queue] = {
            definition.name: self._platform_queue(definition) for definition in resources.QUEUES
        }
        self._route_bus_to_webhooks()
        self._route_removals()
        self._notify_pipeline()
        self._route_media_events()
        self._route_live_events()
        self._route_live_event_channels()
        self._route_incident_alarms()
        self._route_room_events()
        self._route_bus_events()
        self.recording_configuration = self._recording_configuration()
        self.room_storage_configuration, self.room_encoder_configuration = self._room_recording_configurations()

    def _table(self) -> dynamodb.Table:
        definition = resources.TABLE
        unknown = set(definition) - _TABLE_KEYS_HANDLED
        if unknown:
            raise ValueError(f"resources.TABLE has settings infra does not build yet: {sorted(unknown)}")
        if definition["BillingMode"] != "PAY_PER_REQUEST":
            raise ValueError("infra builds an on-demand (PAY_PER_REQUEST) table")
        types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
        partition, sort = _keys(definition["KeySchema"], types)
        stream = definition["StreamSpecification"]
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=partition,
            sort_key=sort,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType(stream["StreamViewType"]) if stream.get("StreamEnabled") else None,
            time_to_live_attribute=resources.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for index in definition.get("GlobalSecondaryIndexes", []):
            index_partition, index_sort = _keys(index["KeySchema"], types)
            projection = index["Projection"]
            table.add_global_secondary_index(
                index_name=index["IndexName"],
                partition_key=index_partition,
                sort_key=index_sort,
                projection_type=dynamodb.ProjectionType(projection["ProjectionType"]),
                non_key_attributes=projection.get("NonKeyAttributes"),
            )
        return table

    def _signing_secret(self) -> secretsmanager.Secret:
        # CloudFormation can only generate a flat string, so the secret starts as an empty key
        # set (plus a random filler field the app ignores) and `make deploy` then runs
        # `python -m infra.keys seed`: the same rotation the devstack bootstrap does.
        secret = secretsmanager.Secret(
            self,
            "SigningKeys",
            description="Videoplane access-token signing keys (JSON key set; python -m infra.keys seed / rotate)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"active": "", "keys": []}),
                generate_string_key="filler",
                exclude_punctuation=True,
            ),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        common.acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "Signing keys rotate by adding a new kid and keeping the old ones for twice the access-token "
            "lifetime: make deploy seeds the first key (python -m infra.keys seed) and make rotate-keys adds one "
            "(python -m infra.keys rotate). The app has no Secrets Manager rotation Lambda yet.",
        )
        return secret

    def _playback_session_secret(self) -> secretsmanager.Secret:
        """The keys that sign private videos' playback sessions (chalicelib/playback/domain/session_keys.py):
        created empty; `python -m infra.keys seed` (make deploy) writes the first ones, the daily
        rotate_playback_session_keys function rotates them and copies them to the edge's store."""
        secret = secretsmanager.Secret(
            self,
            "PlaybackSessionKeys",
            description="Videoplane playback session keys (JSON key set; rotated daily by the playback context)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"keys": []}),
                generate_string_key="filler",
                exclude_punctuation=True,
            ),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        common.acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "Rotated daily by the playback context's scheduled function (pending, signing, retired keys, "
            "so sessions verify through a rotation), which also updates the edge's KeyValueStore; Secrets "
            "Manager's own rotation protocol would not update the store.",
        )
        return secret

    def _access_log_bucket(self) -> s3.Bucket:
        """S3 server access logs of the other buckets and CloudFront's standard logs."""
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # CloudFront standard logging writes with an ACL, so ACLs stay enabled on this bucket.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=cdk.Duration.days(settings.ACCESS_LOG_RETENTION_DAYS),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(
                        resources.ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS
                    ),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # No server access logs of its own: cdk-nag's S1 accepts a bucket that is a log destination.
        return bucket

    def _bucket(self, definition: resources.Bucket) -> s3.Bucket:
        return s3.Bucket(
            self,
            f"{camel(definition.name)}Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=_lifecycle_rules(self._lifecycle(definition)),
            cors=_cors_rules(definition.cors) if definition.cors else None,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"s3/{definition.name}/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _lifecycle(self, definition: resources.Bucket) -> dict[str, Any]:
        """The analytics bucket's retentions come from CDK context (infra/retention.py)."""
        return Retention.of(self.node).lifecycle() if definition is resources.ANALYTICS_BUCKET else definition.lifecycle

    def _media_distribution(self, bucket: s3.Bucket) -> cloudfront.Distribution:
        if resources.MEDIA_BUCKET.cors is None or len(resources.MEDIA_BUCKET.cors["CORSRules"]) != 1:
            raise ValueError("the media distribution answers CORS from exactly one rule of resources.MEDIA_BUCKET")
        (cors,) = resources.MEDIA_BUCKET.cors["CORSRules"]
        # Private videos' media need a playback session (infra.edge); the store is the consumers'.
        self.playback_edge_store, playback_association = playback_check(self)
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "MediaHeaders",
            comment="Videoplane media: CORS for players (from chalicelib.core.resources) and security headers",
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_credentials=False,
                access_control_allow_headers=list(cors["AllowedHeaders"]),
                access_control_allow_methods=sorted({*cors["AllowedMethods"], "OPTIONS"}),
                access_control_allow_origins=list(cors["AllowedOrigins"]),
                access_control_expose_headers=list(cors.get("ExposeHeaders", [])),
                access_control_max_age=cdk.Duration.seconds(cors.get("MaxAgeSeconds", 0)),
                origin_override=True,
            ),
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(365), include_subdomains=True, override=True
                ),
            ),
        )
        distribution = cloudfront.Distribution(
            self,
            "Media",
            comment="Videoplane media",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                origin_request_policy=viewer_country_requests(self),
                compress=True,
                function_associations=[playback_association],
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass[settings.MEDIA_PRICE_CLASS],
            enable_logging=True,
            log_bucket=self.access_logs,
            log_file_prefix="cloudfront/media/",
        )
        common.acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "Videos are served worldwide; projects that must geo-restrict add a restriction to the distribution.",
        )
        common.acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "No WAF web ACL by default (about $6/month at idle plus per-request fees); media objects are "
            "private to CloudFront (origin access control) and the URLs carry unguessable ids.",
        )
        common.acknowledge(
            distribution,
            "AwsSolutions-CFR4",
            "The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the "
            "minimum viewer TLS version; a custom domain with an ACM certificate (TLSv1.2_2021) is a follow-up.",
        )
        return distribution

    def _event_bus(self) -> events.EventBus:
        bus = events.EventBus(
            self,
            "EventBus",
            event_bus_name=f"{self.stack_name}-{resources.EVENT_BUS.name}",
            description="Videoplane events (videos, live streams, webhooks)",
        )
        # Only this account may put events (as IAM allows anyway): nothing cross-account until a
        # statement for that account is added here. (cdk-nag's EventBridge rule reads the deprecated
        # CfnEventBusPolicy.principal, hence the jsii deprecation warning at synth.)
        events.CfnEventBusPolicy(
            self,
            "EventBusPolicy",
            event_bus_name=bus.event_bus_name,
            statement_id=EVENT_BUS_POLICY_SID,
            statement={
                "Sid": EVENT_BUS_POLICY_SID,
                "Effect": "Allow",
                "Principal": {"AWS": self.format_arn(service="iam", region="", resource="root")},
                "Action": "events:PutEvents",
                "Resource": bus.event_bus_arn,
            },
        )
        return bus

    def _service_role(self, definition: resources.ServiceRole) -> iam.Role:
        role = iam.Role(
            self,
            f"{ROLE_IDS[definition.name]}Role",
            assumed_by=iam.ServicePrincipal(definition.service_principal),
            description=f"Videoplane: assumed by {definition.service_principal} to read and write media",
        )
        for bucket_name, actions in sorted(definition.object_access.items()):
            bucket = self.buckets[bucket_name]
            prefix = definition.object_prefixes.get(bucket_name, "")
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=[f"s3:{action}" for action in actions], resources=[bucket.arn_for_objects(f"{prefix}*")]
                )
            )
            common.acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{self.get_logical_id(common.cfn(bucket))}.Arn>/{prefix}*]",
                f"{definition.service_principal} reads or writes objects whose keys the jobs choose, in this "
                f"one bucket ({bucket_name}) only.",
            )
        return role

    def _alarm_topic(self, email: str | None) -> sns.Topic:
        topic = sns.Topic(self, "Alarms", display_name="Videoplane alarms", enforce_ssl=True)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": self.format_arn(service="cloudwatch", resource="alarm:*")},
                    "StringEquals": {"aws:SourceAccount": self.account},
                },
            )
        )
        if email:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic

    # -- shared queues and what feeds them ----------------------------------------------------

    def _platform_queue(self, definition: resources.Queue) -> sqs.Queue:
        dlq = self._new_dlq(f"{camel(definition.name)}QueueDlq", f"queue {definition.name}")
        return sqs.Queue(
            self,
            f"{camel(definition.name)}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(definition.visibility_timeout),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=definition.max_receive_count),
        )

    def _route_bus_to_webhooks(self) -> None:
        """Every event on the project bus reaches the webhook dispatcher's queue."""
        self._route_to_queue(
            "WebhookEvents",
            "Videoplane domain events to the webhook dispatcher",
            resources.WEBHOOK_RULE_PATTERN,
            resources.WEBHOOK_EVENTS_QUEUE,
            self.event_bus,
        )

    def _route_removals(self) -> None:
        """Announced removals on the project bus -> each entity's queue (resources.REMOVAL_ROUTES), as
        the devstack's route_removals."""
        for route in resources.REMOVAL_ROUTES:
            description = f"Videoplane: removed {route.entity} items to their consumer"
            self._route_to_queue(
                f"{camel(route.entity)}Removals", description, route.pattern, route.queue, self.event_bus
            )

    def _route_bus_events(self) -> None:
        """Domain events and removals a context acts on -> its queue (resources.BUS_ROUTES), as the
        devstack's route_bus_events."""
        for route in resources.BUS_ROUTES:
            description = f"Videoplane: {route.name} events to their consumer"
            self._route_to_queue(camel(route.name), description, route.pattern, route.queue, self.event_bus)

    def _notify_pipeline(self) -> None:
        """Uploads bucket -> one queue per prefix (resources.BUCKET_NOTIFICATIONS), as the devstack's
        notify_pipeline. The queues use SQS-managed encryption, so S3 needs no KMS key; CDK adds the
        queue policy statement (s3.amazonaws.com, this bucket only) and the custom resource that
        writes the bucket's notification configuration."""
        bucket = self.buckets[resources.UPLOADS_BUCKET.name]
        for prefix, definition in resources.BUCKET_NOTIFICATIONS:
            bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                s3n.SqsDestination(self.queues[definition.name]),
                s3.NotificationKeyFilter(prefix=prefix),
            )
        # S3 checks that it may send to each queue when the configuration is written: wait for the
        # queue policies (and the bucket's and the handler's). The queues themselves are already
        # referenced by ARN (CDK's DependsOn on them too is redundant: cfn-lint W3005).
        stack = cdk.Stack.of(self)
        notifications = bucket.node.find_child("Notifications")
        waits_for = [notifications.node.find_child("HandlerPolicy"), bucket.policy]
        waits_for += [
            self.queues[definition.name].node.find_child("Policy") for _, definition in resources.BUCKET_NOTIFICATIONS
        ]
        common.cfn(notifications).add_override(
            "DependsOn",
            [stack.get_logical_id(common.cfn(construct)) for construct in waits_for if construct is not None],
        )
        handler = self._notifications_handler()
        # The handler function references its role (GetAtt) already (cfn-lint W3005).
        common.cfn(handler).add_deletion_override("DependsOn")
        common.acknowledge(
            handler,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "CDK's own function that writes the uploads bucket's notification configuration during deployment "
            "(s3:PutBucketNotification on that bucket only); the AWS-managed basic execution role lets it write "
            "its logs.",
        )

    def _notifications_handler(self) -> IConstruct:
        """CDK's singleton Lambda (BucketNotificationsHandler...) that applies bucket notifications."""
        handlers = [child for child in self.node.children if child.node.id.startswith(NOTIFICATIONS_HANDLER_PREFIX)]
        if len(handlers) != 1:
            raise ValueError(f"expected one {NOTIFICATIONS_HANDLER_PREFIX}*, found {len(handlers)}")
        return handlers[0]

    def _route_media_events(self) -> None:
        """MediaConvert reports on the account's default bus; this app's jobs (its tag in
        userMetadata) go to the media-events queue, as the devstack's route_media_events."""
        self._route_to_queue(
            "MediaEvents",
            "Videoplane: MediaConvert job state changes of this app's jobs",
            resources.MEDIACONVERT_RULE_PATTERN,
            resources.MEDIA_EVENTS_QUEUE,
        )

    def _route_live_events(self) -> None:
        """IVS reports stream state changes on the account's default bus; this app's channels (named
        with its prefix) go to the live-events queue, as the devstack's route_live_events."""
        self._route_to_queue(
            "LiveEvents",
            "Videoplane: IVS stream state changes of this app's live stream channels",
            resources.IVS_RULE_PATTERN,
            resources.LIVE_EVENTS_QUEUE,
        )

    def _route_live_event_channels(self) -> None:
        """MediaLive reports channel state changes, alerts and input changes on the account's default
        bus; they go to the live-event-channels queue, as the devstack's route_live_event_channels."""
        self._route_to_queue(
            "LiveEventChannels",
            "Videoplane: MediaLive channel events for managed live events",
            resources.MEDIALIVE_RULE_PATTERN,
            resources.LIVE_EVENT_CHANNELS_QUEUE,
        )

    def _route_incident_alarms(self) -> None:
        """CloudWatch reports alarm state changes on the default bus; incident automation's alarms (by
        their name prefix) go to the live-event-channels queue, as the devstack's route_live_event_channels."""
        self._route_to_queue(
            "IncidentAlarms",
            "Videoplane: CloudWatch alarm state changes of managed live events' incident alarms",
            resources.INCIDENT_ALARM_RULE_PATTERN,
            resources.LIVE_EVENT_CHANNELS_QUEUE,
        )

    def _route_room_events(self) -> None:
        """IVS real-time's stage updates (default bus) go to the room-events queue, as the devstack's
        route_room_events; sessions' starts and ends arrive through resources.BUS_ROUTES."""
        self._route_to_queue(
            "RoomEvents",
            "Videoplane: IVS real-time stage updates (participants publishing) for room sessions",
            resources.IVS_STAGE_RULE_PATTERN,
            resources.ROOM_EVENTS_QUEUE,
        )

    def _recording_configuration(self) -> ivs.CfnRecordingConfiguration:
        """The stack's one IVS recording configuration (resources.LIVE_RECORDING_CONFIGURATION): IVS
        writes recorded streams to the media bucket through its service-linked role
        (AWSServiceRoleForIVSRecordToS3, created with the first configuration of the account)."""
        definition = resources.LIVE_RECORDING_CONFIGURATION
        handled = {"name", "destinationConfiguration", "recordingReconnectWindowSeconds", "thumbnailConfiguration"}
        if set(definition) - handled:
            raise ValueError(
                f"recording configuration settings infra does not build yet: {sorted(set(definition) - handled)}"
            )
        bucket = self.buckets[resources.MEDIA_BUCKET.name]
        configuration = ivs.CfnRecordingConfiguration(
            self,
            "LiveRecordingConfiguration",
            name=definition["name"],
            destination_configuration=ivs.CfnRecordingConfiguration.DestinationConfigurationProperty(
                s3=ivs.CfnRecordingConfiguration.S3DestinationConfigurationProperty(bucket_name=bucket.bucket_name)
            ),
            recording_reconnect_window_seconds=definition["recordingReconnectWindowSeconds"],
            thumbnail_configuration=ivs.CfnRecordingConfiguration.ThumbnailConfigurationProperty(
                recording_mode=definition["thumbnailConfiguration"]["recordingMode"]
            ),
        )
        # IVS is not in every region cfn-lint checks (ap-southeast-2): live streams need a region
        # with IVS, where the stack is deployed (docs/live.md).
        configuration.add_metadata("cfn-lint", {"config": {"ignore_checks": ["E3006"]}})
        return configuration

    def _room_recording_configurations(self) -> tuple[ivs.CfnStorageConfiguration, ivs.CfnEncoderConfiguration]:
        """Rooms' compositions (resources.ROOM_STORAGE_CONFIGURATION / ROOM_ENCODER_CONFIGURATION):
        HLS to the media bucket, 720p30. IVS's composite service writes with its own principal, which
        the bucket's policy allows here (IVS would otherwise edit a policy this stack owns)."""
        bucket = self.buckets[resources.MEDIA_BUCKET.name]
        storage_definition = resources.ROOM_STORAGE_CONFIGURATION
        storage = ivs.CfnStorageConfiguration(
            self,
            "RoomStorageConfiguration",
            name=storage_definition["name"],
            s3=ivs.CfnStorageConfiguration.S3StorageConfigurationProperty(bucket_name=bucket.bucket_name),
        )
        video = resources.ROOM_ENCODER_CONFIGURATION["video"]
        encoder = ivs.CfnEncoderConfiguration(
            self,
            "RoomEncoderConfiguration",
            name=resources.ROOM_ENCODER_CONFIGURATION["name"],
            video=ivs.CfnEncoderConfiguration.VideoProperty(
                width=video["width"], height=video["height"], framerate=video["framerate"], bitrate=video["bitrate"]
            ),
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="IvsCompositeWrite",
                principals=[iam.ServicePrincipal(f"ivs-composite.{cdk.Aws.REGION}.amazonaws.com")],
                actions=["s3:PutObject", "s3:PutObjectAcl"],
                resources=[bucket.arn_for_objects("*")],
                conditions={
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceAccount": cdk.Aws.ACCOUNT_ID,
                    },
                    "Bool": {"aws:SecureTransport": "true"},
                },
            )
        )
        for configuration in (storage, encoder):
            # IVS real-time is not in every region cfn-lint checks, as the recording configuration.
            configuration.add_metadata("cfn-lint", {"config": {"ignore_checks": ["E3006"]}})
        return storage, encoder

    def _route_to_queue(
        self,
        name: str,
        description: str,
        pattern: Mapping[str, Any],
        queue: resources.Queue,
        event_bus: events.IEventBus | None = None,
    ) -> None:
        """A rule (on the default bus, where AWS services report, unless `event_bus`) to a queue, with
        its DLQ and retries."""
        rule = events.Rule(
            self,
            f"{name}Rule",
            description=description,
            event_bus=event_bus,
            event_pattern=common.event_pattern(pattern),
        )
        rule.add_target(
            targets.SqsQueue(
                self.queues[queue.name],
                dead_letter_queue=self._new_dlq(f"{name}RuleDlq", f"rule {name}Rule"),
                retry_attempts=settings.RETRY_ATTEMPTS,
                max_event_age=cdk.Duration.hours(24),
            )
        )

    def _new_dlq(self, construct_id: str, owner: str) -> sqs.Queue:
        return common.new_dlq(self, construct_id, owner, self.alarm_topic)


def _lifecycle_rules(configuration: Mapping[str, Any]) -> list[s3.LifecycleRule]:
    """S3 API lifecycle rules (the shape chalicelib.core.resources uses) -> CDK rules."""
    rules = []
    for rule in configuration["Rules"]:
        unknown = set(rule) - {"ID", "Status", "Filter", "AbortIncompleteMultipartUpload", "Expiration"}
        if unknown or set(rule.get("Filter", {})) - {"Prefix"}:
            raise ValueError(f"lifecycle rule {rule.get('ID')}: settings infra does not build yet: {rule}")
        prefix = rule.get("Filter", {}).get("Prefix", "")
        abort = rule.get("AbortIncompleteMultipartUpload")
        expiration = rule.get("Expiration")
        if expiration is not None and set(expiration) != {"Days"}:
            raise ValueError(f"lifecycle rule {rule.get('ID')}: only Expiration.Days is built")
        rules.append(
            s3.LifecycleRule(
                id=rule["ID"],
                enabled=rule["Status"] == "Enabled",
                prefix=prefix or None,
                abort_incomplete_multipart_upload_after=cdk.Duration.days(abort["DaysAfterInitiation"])
                if abort
                else None,
                expiration=cdk.Duration.days(expiration["Days"]) if expiration else None,
            )
        )
    return rules


def _cors_rules(configuration: Mapping[str, Any]) -> list[s3.CorsRule]:
    """S3 API CORS rules (the shape chalicelib.core.resources uses) -> CDK rules."""
    return [
        s3.CorsRule(
            id=rule.get("ID"),
            allowed_methods=[s3.HttpMethods(method) for method in rule["AllowedMethods"]],
            allowed_origins=list(rule["AllowedOrigins"]),
            allowed_headers=rule.get("AllowedHeaders"),
            exposed_headers=rule.get("ExposeHeaders"),
            max_age=rule.get("MaxAgeSeconds"),
        )
        for rule in configuration["CORSRules"]
    ]


def _keys(
    schema: list[dict[str, str]], types: Mapping[str, str]
) -> tuple[dynamodb.Attribute, dynamodb.Attribute | None]:
    by_type = {key["KeyType"]: key["AttributeName"] for key in schema}

    def attribute(name: str) -> dynamodb.Attribute:
        return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[types[name]])

    return attribute(by_type["HASH"]), attribute(by_type["RANGE"]) if "RANGE" in by_type else None
