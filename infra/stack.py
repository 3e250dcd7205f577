"""The Videoplane stack: one Lambda per endpoint, authorizer and consumer, each with its own role
built from `chalicelib.core.permissions.REGISTRY`, behind an API Gateway REST API, plus the table, the
signing secret, the uploads and media buckets (media behind CloudFront), the project's event bus,
the MediaConvert and MediaLive service roles, queues with dead-letter queues and the alarms, the
direct-to-S3 upload routes (S3 integration behind a REQUEST authorizer) and the VOD pipeline's
wiring (uploads bucket notifications, the default-bus MediaConvert rule).

Everything is derived from the Chalice app (`infra.model.plan`) and `chalicelib.core.resources`; no
list of routes, names or permissions is kept here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from chalice import Chalice
from chalice.app import CloudWatchEventConfig, DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig
from constructs import Construct, IConstruct

from chalicelib.core import resources
from chalicelib.core.permissions import Access
from infra import settings
from infra.model import FUNCTION_METADATA, FunctionSpec, camel, plan

FIVE_MINUTES = cdk.Duration.minutes(5)
# The symbolic resource of MediaConvert's API (chalicelib.core.permissions.MEDIACONVERT_JOBS).
MEDIACONVERT = "mediaconvert"
# Construct ids of the media services' roles (chalicelib.core.resources names -> AWS spelling).
EVENT_BUS_POLICY_SID = "OwnAccountOnly"
INLINE_POLICY_NAME = "access"
# CloudFormation metadata naming the authorizer of a direct-to-S3 upload method (read by tests/infra).
DIRECT_UPLOAD_METADATA = "videoplane:direct-upload"
# Where API Gateway may write upload request bodies (the authorizer picks the key under one of them).
DIRECT_UPLOAD_PREFIXES = (resources.INCOMING_PREFIX, resources.REJECTED_PREFIX)
# The S3 PutObject request: key, content type and metadata from the authorizer's context
# (resources.DirectUploadRoute) and the caller's Content-Type (its multipart boundary).
DIRECT_UPLOAD_REQUEST_PARAMETERS = {
    "integration.request.path.objectKey": "context.authorizer.objectKey",
    "integration.request.header.Content-Type": "'application/octet-stream'",
    "integration.request.header.x-amz-meta-content-range": "context.authorizer.contentRange",
    "integration.request.header.x-amz-meta-upload-token": "context.authorizer.uploadToken",
    "integration.request.header.x-amz-meta-content-type": "method.request.header.Content-Type",
}
# S3 stored the body: answer with the status and body the authorizer chose.
DIRECT_UPLOAD_RESPONSE_TEMPLATE = (
    "#set($context.responseOverride.status = $context.authorizer.responseStatus)$context.authorizer.responseBody"
)
# Construct id prefix of the Lambda function CDK adds to apply S3 bucket notifications.
NOTIFICATIONS_HANDLER_PREFIX = "BucketNotificationsHandler"
_ROLE_IDS = {resources.MEDIACONVERT_ROLE.name: "MediaConvert", resources.MEDIALIVE_ROLE.name: "MediaLive"}

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
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "principalId": "$context.authorizer.principalId",
    "authorizerError": "$context.authorizer.error",
    "errorMessage": "$context.error.message",
    "xrayTraceId": "$context.xrayTraceId",
}


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Suppress one cdk-nag finding on `scope` (and its children), with the reason it is acceptable."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


# Declared actions that IAM authorizes only on Resource "*" (the Service Authorization Reference
# lists no resource type for them): granted on "*", in a statement of their own. MediaConvert's
# Probe reads a file by URL and acts on no MediaConvert resource.
UNSCOPED_ACTIONS = frozenset({"mediaconvert:Probe"})


def policy_statements(
    accesses: frozenset[Access],
    arns: Mapping[str, Sequence[str]],
    conditions: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[iam.PolicyStatement]:
    """One statement per symbolic resource with exactly the declared actions (and that resource's
    conditions, e.g. iam:PassedToService for a service role); actions of UNSCOPED_ACTIONS go to
    one statement on "*"."""
    by_resource: dict[str, set[str]] = defaultdict(set)
    unscoped: set[str] = set()
    for access in accesses:
        if access.resource not in arns:
            raise KeyError(f"no resource {access.resource!r} in infra (known: {', '.join(sorted(arns))})")
        for action in access.iam_actions():
            (unscoped if action in UNSCOPED_ACTIONS else by_resource[access.resource]).add(action)
    statements = [
        iam.PolicyStatement(
            actions=sorted(actions),
            resources=list(arns[resource]),
            conditions=dict((conditions or {})[resource]) if resource in (conditions or {}) else None,
        )
        for resource, actions in sorted(by_resource.items())
        if actions
    ]
    if unscoped:
        statements.append(iam.PolicyStatement(actions=sorted(unscoped), resources=["*"]))
    return statements


class InlineRole(iam.Role):
    """An IAM role whose statements, including those CDK grants add later (X-Ray, event source
    mappings, log groups), all go into one inline policy of the AWS::IAM::Role instead of a
    separate AWS::IAM::Policy: one CloudFormation resource per role, not two (a stack holds at most
    500 resources and Videoplane has one role per function)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        self._document = iam.PolicyDocument()
        super().__init__(scope, construct_id, inline_policies={INLINE_POLICY_NAME: self._document}, **kwargs)

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self._document.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self)


class AppFunction(Construct):
    """One Lambda function with its own role, log group and error alarm."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: FunctionSpec,
        code: lambda_.Code,
        environment: Mapping[str, str],
        statements: list[iam.PolicyStatement],
        size: settings.FunctionSettings,
        alarm_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.size = size
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays[settings.LOG_RETENTION],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.role = InlineRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Videoplane {spec.name}: {spec.description}",
        )
        self.log_group.grant_write(self.role)
        for statement in statements:
            self.role.add_to_principal_policy(statement)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_11,
            architecture=lambda_.Architecture.X86_64,
            handler=spec.handler,
            code=code,
            role=self.role,
            memory_size=size.memory_mb,
            timeout=cdk.Duration.seconds(size.timeout_seconds),
            reserved_concurrent_executions=size.reserved_concurrency,
            environment=dict(environment),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            description=f"Videoplane {spec.name}: {spec.description}"[:256],
        )
        for child in (self.function, self.role):
            _cfn(child).add_metadata(FUNCTION_METADATA, spec.name)
        # The role's policy is part of the role, which the function already references (GetAtt):
        # CDK's DependsOn on the role would be redundant (cfn-lint W3005).
        _cfn(self.function).add_deletion_override("DependsOn")
        alarm = cloudwatch.Alarm(
            self,
            "Errors",
            alarm_description=f"Videoplane {spec.name} ({spec.description}) raised errors",
            metric=self.function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(alarm_topic))


class VideoplaneStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        chalice_app: Chalice,
        registry: Mapping[str, frozenset[Access]],
        code_zip: Path,
        reserve_concurrency: bool = True,
        alarm_email: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # Server access logs are delivered under a bucket policy (not the log-delivery ACL).
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.chalice_app = chalice_app
        self.specs = plan(chalice_app)
        self.alarm_topic = self._alarm_topic(alarm_email)
        self.table = self._table()
        self.signing_secret = self._signing_secret()
        self.access_logs = self._access_log_bucket()
        self.buckets = {definition.name: self._bucket(definition) for definition in resources.BUCKETS}
        self.media_distribution = self._media_distribution(self.buckets[resources.MEDIA_BUCKET.name])
        self.media_base_url = f"https://{self.media_distribution.distribution_domain_name}"
        self.event_bus = self._event_bus()
        self.service_roles = {definition.name: self._service_role(definition) for definition in resources.SERVICE_ROLES}
        # Named platform queues first: consumers of the same name reuse them (see _queue).
        self.queues: dict[str, sqs.Queue] = {
            definition.name: self._platform_queue(definition) for definition in resources.QUEUES
        }
        self._route_bus_to_webhooks()
        self._notify_pipeline()
        self._route_media_events()
        arns: dict[str, Sequence[str]] = {
            "table": [self.table.table_arn],
            "table-indexes": [f"{self.table.table_arn}/index/*"],
            "signing-secret": [self.signing_secret.secret_arn],
            resources.EVENT_BUS.permission: [self.event_bus.event_bus_arn],
            # CreateJob on the account's MediaConvert queues, presets, job templates and jobs in this
            # region (jobs go to the Default queue; their ids are not known in advance).
            MEDIACONVERT: [self.format_arn(service="mediaconvert", resource="*")],
        }
        conditions: dict[str, Mapping[str, Any]] = {}
        environment = {
            resources.TABLE_ENV: self.table.table_name,
            resources.SIGNING_SECRET_ENV: self.signing_secret.secret_arn,
            resources.EVENT_BUS.env: self.event_bus.event_bus_name,
            "POWERTOOLS_SERVICE_NAME": settings.POWERTOOLS_SERVICE_NAME,
            resources.MEDIA_BASE_URL_ENV: self.media_base_url,
            # The player page itself is not deployed yet: this is where its URLs point.
            resources.PLAYER_BASE_URL_ENV: f"{self.media_base_url}{settings.PLAYER_PATH}",
        }
        for bucket_definition in resources.BUCKETS:
            bucket = self.buckets[bucket_definition.name]
            # The bucket itself (ListBucket, ...) and its objects (GetObject, PutObject, ...).
            arns[bucket_definition.permission] = [bucket.bucket_arn, bucket.arn_for_objects("*")]
            environment[bucket_definition.env] = bucket.bucket_name
        for role_definition in resources.SERVICE_ROLES:
            role = self.service_roles[role_definition.name]
            arns[role_definition.permission] = [role.role_arn]
            conditions[role_definition.permission] = {
                "StringEquals": {"iam:PassedToService": role_definition.service_principal}
            }
            environment[role_definition.env] = role.role_arn
        for queue_definition in resources.QUEUES:
            queue = self.queues[queue_definition.name]
            arns[queue_definition.permission] = [queue.queue_arn]
            environment[queue_definition.env] = queue.queue_url
        code = lambda_.Code.from_asset(str(code_zip))
        self.functions: dict[str, AppFunction] = {}
        for spec in self.specs:
            if spec.name not in registry:
                raise KeyError(
                    f"{spec.name} ({spec.description}) declares no AWS access: "
                    "call chalicelib.core.permissions.declare next to its code"
                )
            self.functions[spec.name] = AppFunction(
                self,
                camel(spec.name),
                spec=spec,
                code=code,
                environment=environment,
                statements=policy_statements(registry[spec.name], arns, conditions),
                size=settings.settings_for(spec, reserve=reserve_concurrency),
                alarm_topic=self.alarm_topic,
            )
        self._acknowledge_function_findings(registry)
        self.api = self._api()
        for spec in self.specs:
            if spec.kind == "consumer":
                self._connect(self.functions[spec.name], spec.source)
        cdk.CfnOutput(self, "ApiUrl", value=self.api.url)
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "SigningSecretArn", value=self.signing_secret.secret_arn)
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
        cdk.CfnOutput(
            self,
            "MediaDomain",
            value=self.media_distribution.distribution_domain_name,
            description="CloudFront domain serving the media bucket",
        )
        cdk.CfnOutput(
            self,
            "EventBusArn",
            value=self.event_bus.event_bus_arn,
            export_name=f"{self.stack_name}-EventBusArn",
        )
        cdk.CfnOutput(
            self,
            "EventBusName",
            value=self.event_bus.event_bus_name,
            export_name=f"{self.stack_name}-EventBusName",
        )
        for bucket_definition in resources.BUCKETS:
            output = cdk.CfnOutput(
                self,
                f"{camel(bucket_definition.name)}BucketOutput",
                value=self.buckets[bucket_definition.name].bucket_name,
            )
            # The output is named like the bucket construct (`UploadsBucket`, `MediaBucket`).
            output.override_logical_id(f"{camel(bucket_definition.name)}Bucket")
        for role_definition in resources.SERVICE_ROLES:
            cdk.CfnOutput(
                self,
                f"{_ROLE_IDS[role_definition.name]}RoleArn",
                value=self.service_roles[role_definition.name].role_arn,
            )

    # -- resources -------------------------------------------------------------------------

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
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "Signing keys rotate by adding a new kid and keeping the old ones for twice the access-token "
            "lifetime: make deploy seeds the first key (python -m infra.keys seed) and make rotate-keys adds one "
            "(python -m infra.keys rotate). The app has no Secrets Manager rotation Lambda yet.",
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
            lifecycle_rules=_lifecycle_rules(definition.lifecycle),
            cors=_cors_rules(definition.cors) if definition.cors else None,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"s3/{definition.name}/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _media_distribution(self, bucket: s3.Bucket) -> cloudfront.Distribution:
        if resources.MEDIA_BUCKET.cors is None or len(resources.MEDIA_BUCKET.cors["CORSRules"]) != 1:
            raise ValueError("the media distribution answers CORS from exactly one rule of resources.MEDIA_BUCKET")
        (cors,) = resources.MEDIA_BUCKET.cors["CORSRules"]
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
                compress=True,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass[settings.MEDIA_PRICE_CLASS],
            enable_logging=True,
            log_bucket=self.access_logs,
            log_file_prefix="cloudfront/media/",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "Videos are served worldwide; projects that must geo-restrict add a restriction to the distribution.",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "No WAF web ACL by default (about $6/month at idle plus per-request fees); media objects are "
            "private to CloudFront (origin access control) and the URLs carry unguessable ids.",
        )
        acknowledge(
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
            f"{_ROLE_IDS[definition.name]}Role",
            assumed_by=iam.ServicePrincipal(definition.service_principal),
            description=f"Videoplane: assumed by {definition.service_principal} to read and write media",
        )
        for bucket_name, actions in sorted(definition.object_access.items()):
            bucket = self.buckets[bucket_name]
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=[f"s3:{action}" for action in actions], resources=[bucket.arn_for_objects("*")]
                )
            )
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{self.get_logical_id(_cfn(bucket))}.Arn>/*]",
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

    # -- API Gateway ---------------------------------------------------------------------

    def _api(self) -> apigw.RestApi:
        access_logs = logs.LogGroup(
            self,
            "ApiAccessLogs",
            retention=logs.RetentionDays[settings.LOG_RETENTION],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{self.stack_name}-api",
            description="Videoplane REST API (api.video compatible)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=binary_media_types(self.chalice_app),
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.DESTROY,
            fail_on_warnings=True,
            deploy_options=apigw.StageOptions(
                stage_name=settings.API_STAGE,
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
        )
        authorizers: dict[str, apigw.TokenAuthorizer] = {}
        for spec in self.specs:
            if spec.authorizer is None:
                continue
            authorizers[spec.name] = apigw.TokenAuthorizer(
                self,
                f"{camel(spec.name)}Authorizer",
                handler=self.functions[spec.name].function,
                identity_source=apigw.IdentitySource.header(spec.authorizer.header),
                results_cache_ttl=cdk.Duration.seconds(spec.authorizer.ttl_seconds),
                authorizer_name=spec.name,
            )
        for spec in self.specs:
            if spec.route is None:
                continue
            route = spec.route
            resource = api.root.resource_for_path(route.path)
            integration = apigw.LambdaIntegration(
                self.functions[spec.name].function, proxy=True, allow_test_invoke=False
            )
            method = resource.add_method(
                route.method,
                integration,
                authorizer=authorizers[route.authorizer] if route.authorizer else None,
                authorization_type=apigw.AuthorizationType.CUSTOM if route.authorizer else apigw.AuthorizationType.NONE,
                api_key_required=route.api_key_required,
            )
            _cfn(method).add_metadata(FUNCTION_METADATA, spec.name)
            if route.authorizer is None:
                acknowledge(
                    method,
                    "AwsSolutions-APIG4",
                    f"{route.method} {route.path} is how a client obtains credentials (it takes the API key or "
                    "refresh token in its body, as api.video's does); it cannot require them.",
                )
                acknowledge(
                    method, "AwsSolutions-COG4", "Takes no credentials by design (see AwsSolutions-APIG4 here)."
                )
        for response_type, response in resources.GATEWAY_RESPONSES.items():
            api.add_gateway_response(
                f"{camel(response_type.lower())}Response",
                type=apigw.ResponseType.of(response_type),
                status_code=str(response["status"]),
                templates={"application/json": response["template"]},
            )
        server_errors = cloudwatch.Alarm(
            self,
            "ApiServerErrors",
            alarm_description="Videoplane API answered 5XX",
            metric=api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        server_errors.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        acknowledge(
            _cfn(api),
            "AwsSolutions-APIG2",
            "Requests are validated by the functions (pydantic), which answer in api.video's problem format; "
            "an API Gateway request validator would answer in its own format.",
        )
        acknowledge(
            api.deployment_stage,
            "AwsSolutions-APIG3",
            "No WAF web ACL by default (about $6/month at idle); per-project rate limits are enforced by the "
            "app. Associate a web ACL with the stage where needed.",
        )
        for method in api.methods:
            if method.node.try_find_child("Resource") and _cfn(method).authorization_type == "CUSTOM":
                acknowledge(
                    method,
                    "AwsSolutions-COG4",
                    "Callers authenticate with api.video-style API keys and access tokens through the Lambda "
                    "TOKEN authorizer, not Cognito user pools.",
                )
        acknowledge(
            api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level API Gateway logging role uses the AWS-managed policy made for it; it only "
            "writes API Gateway's own execution logs.",
        )
        self._direct_upload_routes(api)
        return api

    def _direct_upload_routes(self, api: apigw.RestApi) -> None:
        """resources.DIRECT_UPLOAD_ROUTES: API Gateway stores the request body in the uploads bucket
        (S3 PutObject) where the REQUEST authorizer's context says, and answers what that context
        says (devstack/gateway.py::_direct_upload plays the same)."""
        bucket = self.buckets[resources.UPLOADS_BUCKET.name]
        role = InlineRole(
            self,
            "DirectUploadRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Videoplane: API Gateway stores upload request bodies in the uploads bucket",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in DIRECT_UPLOAD_PREFIXES],
            )
        )
        bucket_id = self.get_logical_id(_cfn(bucket))
        for prefix in DIRECT_UPLOAD_PREFIXES:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
                f"API Gateway writes request bodies under {prefix} of the uploads bucket at keys the upload "
                "authorizer derives per request (project, video, request id); nothing outside that prefix.",
            )
        error_template = resources.GATEWAY_RESPONSES["AUTHORIZER_FAILURE"]["template"]
        json_header = {"method.response.header.Content-Type": "'application/json'"}
        authorizers: dict[str, apigw.RequestAuthorizer] = {}
        for route in resources.DIRECT_UPLOAD_ROUTES:
            target = self.functions.get(route.authorizer)
            if target is None:
                raise KeyError(
                    f"{route.method} {route.path}: its authorizer {route.authorizer!r} is not a function of the app "
                    "(an app.lambda_function of that name)"
                )
            if route.authorizer not in authorizers:
                authorizer = apigw.RequestAuthorizer(
                    self,
                    f"{camel(route.authorizer)}Authorizer",
                    handler=target.function,
                    # CDK insists on an identity source; API Gateway needs none without caching, and with one
                    # it would answer 401 itself whenever that header is missing. Removed below.
                    identity_sources=[apigw.IdentitySource.header("Content-Type")],
                    # Every part differs (Content-Range, body length): never cache a decision.
                    results_cache_ttl=cdk.Duration.seconds(0),
                    authorizer_name=route.authorizer,
                )
                _cfn(authorizer).add_property_deletion_override("IdentitySource")
                authorizers[route.authorizer] = authorizer
            integration = apigw.AwsIntegration(
                service="s3",
                integration_http_method="PUT",
                path=f"{bucket.bucket_name}/{{objectKey}}",
                options=apigw.IntegrationOptions(
                    credentials_role=role,
                    request_parameters=DIRECT_UPLOAD_REQUEST_PARAMETERS,
                    # No request template: the body (a binary media type) goes to S3 unchanged.
                    passthrough_behavior=apigw.PassthroughBehavior.WHEN_NO_TEMPLATES,
                    integration_responses=[
                        apigw.IntegrationResponse(
                            status_code="200",
                            response_templates={"application/json": DIRECT_UPLOAD_RESPONSE_TEMPLATE},
                            response_parameters=json_header,
                        ),
                        # S3 refused or failed: api.video's server error, as for a failing authorizer.
                        apigw.IntegrationResponse(
                            status_code="500",
                            selection_pattern=r"[45]\d{2}",
                            response_templates={"application/json": error_template},
                            response_parameters=json_header,
                        ),
                    ],
                ),
            )
            method = api.root.resource_for_path(route.path).add_method(
                route.method,
                integration,
                authorizer=authorizers[route.authorizer],
                authorization_type=apigw.AuthorizationType.CUSTOM,
                request_parameters={"method.request.header.Content-Type": False},
                method_responses=[
                    apigw.MethodResponse(status_code=status, response_parameters={name: True for name in json_header})
                    for status in ("200", "500")
                ],
            )
            _cfn(method).add_metadata(DIRECT_UPLOAD_METADATA, route.authorizer)
            acknowledge(
                method,
                "AwsSolutions-COG4",
                f"Callers authenticate with API keys, access tokens or upload tokens through the Lambda REQUEST "
                f"authorizer {route.authorizer}, not Cognito user pools.",
            )

    # -- consumers -----------------------------------------------------------------------

    def _connect(self, target: AppFunction, source: Any) -> None:
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
                )
            )
        elif isinstance(source, CloudWatchEventConfig | ScheduledEventConfig):
            rule = events.Rule(
                self,
                f"{camel(source.name)}Rule",
                description=f"Videoplane {source.name}",
                event_pattern=_event_pattern(source.event_pattern)
                if isinstance(source, CloudWatchEventConfig)
                else None,
                schedule=_schedule(source) if isinstance(source, ScheduledEventConfig) else None,
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
        if name in self.queues:
            queue = self.queues[name]
            current = _cfn(queue).visibility_timeout or 0
            _cfn(queue).visibility_timeout = max(int(current), int(visibility))
            return queue
        dlq = self._new_dlq(f"{camel(name)}QueueDlq", f"queue {name}")
        queue = sqs.Queue(
            self,
            f"{camel(name)}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(visibility),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=settings.MAX_RECEIVE_COUNT),
        )
        self.queues[name] = queue
        return queue

    def _dead_letter_queue(self, consumer: AppFunction) -> sqs.Queue:
        return self._new_dlq(f"{camel(consumer.spec.name)}Dlq", f"function {consumer.spec.name}")

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
        rule = events.Rule(
            self,
            "WebhookEventsRule",
            description="Videoplane domain events to the webhook dispatcher",
            event_bus=self.event_bus,
            event_pattern=_event_pattern(resources.WEBHOOK_RULE_PATTERN),
        )
        rule.add_target(
            targets.SqsQueue(
                self.queues[resources.WEBHOOK_EVENTS_QUEUE.name],
                dead_letter_queue=self._new_dlq("WebhookEventsRuleDlq", "rule WebhookEventsRule"),
                retry_attempts=settings.RETRY_ATTEMPTS,
                max_event_age=cdk.Duration.hours(24),
            )
        )

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
        _cfn(notifications).add_override(
            "DependsOn", [stack.get_logical_id(_cfn(construct)) for construct in waits_for if construct is not None]
        )
        handler = self._notifications_handler()
        # The handler function references its role (GetAtt) already (cfn-lint W3005).
        _cfn(handler).add_deletion_override("DependsOn")
        acknowledge(
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
        rule = events.Rule(
            self,
            "MediaEventsRule",
            description="Videoplane: MediaConvert job state changes of this app's jobs",
            event_pattern=_event_pattern(resources.MEDIACONVERT_RULE_PATTERN),
        )
        rule.add_target(
            targets.SqsQueue(
                self.queues[resources.MEDIA_EVENTS_QUEUE.name],
                dead_letter_queue=self._new_dlq("MediaEventsRuleDlq", "rule MediaEventsRule"),
                retry_attempts=settings.RETRY_ATTEMPTS,
                max_event_age=cdk.Duration.hours(24),
            )
        )

    def _new_dlq(self, construct_id: str, owner: str) -> sqs.Queue:
        dlq = sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        _cfn(dlq).add_metadata("videoplane:dead-letter-queue-of", owner)
        acknowledge(dlq, "AwsSolutions-SQS3", f"This queue is the dead-letter queue of {owner}.")
        alarm = cloudwatch.Alarm(
            self,
            f"{construct_id}Depth",
            alarm_description=f"Messages in the dead-letter queue of {owner}",
            metric=dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        return dlq

    # -- cdk-nag findings that every function shares -------------------------------------------

    def _acknowledge_function_findings(self, registry: Mapping[str, frozenset[Access]]) -> None:
        table_id = self.get_logical_id(_cfn(self.table))
        for name, fn in self.functions.items():
            acknowledge(
                fn.function,
                "AwsSolutions-L1",
                f"Runtime {settings.RUNTIME} is the interpreter the app is built and tested with "
                "(requirements.txt wheels are built for it); move with the project's Python version.",
            )
            wildcard = ["X-Ray's PutTraceSegments and PutTelemetryRecords (active tracing)"]
            if isinstance(fn.spec.source, DynamoDBEventConfig):
                wildcard.append("dynamodb:ListStreams (the stream event source mapping)")
            unscoped = sorted({a for access in registry[name] for a in access.iam_actions()} & UNSCOPED_ACTIONS)
            if unscoped:
                wildcard.append(f"{', '.join(unscoped)} (declared in chalicelib.core.permissions)")
            acknowledge(
                fn.role,
                "AwsSolutions-IAM5[Resource::*]",
                f"Only {' and '.join(wildcard)} use '*': these actions have no resource-level permissions.",
            )
            declared = {access.resource for access in registry[name]}
            if MEDIACONVERT in declared:
                acknowledge(
                    fn.role,
                    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:mediaconvert:<AWS::Region>:<AWS::AccountId>:*]",
                    "mediaconvert:CreateJob (declared in chalicelib.core.permissions) on this account's MediaConvert "
                    "resources in this region only: jobs go to the Default queue and get ids only when created.",
                )
            for bucket_definition in resources.BUCKETS:
                if bucket_definition.permission in declared:
                    bucket_id = self.get_logical_id(_cfn(self.buckets[bucket_definition.name]))
                    acknowledge(
                        fn.role,
                        f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]",
                        f"Objects of the {bucket_definition.name} bucket (declared in chalicelib.core.permissions); "
                        "object keys are per video, so the wildcard covers only this one bucket.",
                    )
            if "table-indexes" in declared:
                acknowledge(
                    fn.role,
                    f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]",
                    "Queries the table's own global secondary indexes (declared in chalicelib.core.permissions); "
                    "the wildcard covers only indexes of this one table.",
                )


def binary_media_types(app: Chalice) -> list[str]:
    """The Chalice app's binary types and infra's own (settings.EXTRA_BINARY_MEDIA_TYPES)."""
    types = list(app.api.binary_types)
    return types + [t for t in settings.EXTRA_BINARY_MEDIA_TYPES if t not in types]


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


def _event_pattern(pattern: Mapping[str, Any] | str) -> events.EventPattern:
    data = json.loads(pattern) if isinstance(pattern, str) else dict(pattern)
    unknown = set(data) - set(_PATTERN_FIELDS)
    if unknown:
        raise ValueError(f"event pattern fields infra does not map: {sorted(unknown)}")
    return events.EventPattern(**{_PATTERN_FIELDS[key]: value for key, value in data.items()})


def _schedule(source: ScheduledEventConfig) -> events.Schedule:
    expression = source.schedule_expression
    text = expression if isinstance(expression, str) else expression.to_string()
    return events.Schedule.expression(text)


def _cfn(construct: IConstruct) -> Any:
    child = construct.node.default_child
    if child is None:
        raise ValueError(f"{construct.node.path} has no CloudFormation resource")
    return child
