"""One Lambda function per Chalice function: its own role (statements from
`chalicelib.core.permissions.REGISTRY` only, in one inline policy), log group and error alarm, and
the cdk-nag acknowledgements every function shares. Built in whichever stack holds the function."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from chalice.app import DynamoDBEventConfig
from constructs import Construct

from chalicelib.core import resources
from chalicelib.core.permissions import Access
from infra import common, settings
from infra.model import FUNCTION_METADATA, FunctionSpec, camel

# The symbolic resource of MediaConvert's API (chalicelib.core.permissions.MEDIACONVERT_JOBS).
MEDIACONVERT = "mediaconvert"
# The symbolic resource of IVS channels and stream keys (chalicelib.core.permissions.IVS_*).
IVS = "ivs"
# The symbolic resource of IVS real-time stages (chalicelib.core.permissions.IVS_STAGES_*).
IVS_STAGES = "ivs-stages"
# ...and of rooms' compositions (chalicelib.core.permissions.IVS_COMPOSITIONS).
IVS_COMPOSITIONS = "ivs-compositions"
# ...and of managed live events' MediaLive channels, inputs and input security groups.
MEDIALIVE = "medialive"
# ...and of managed live events' incident alarms in CloudWatch (chalicelib.core.permissions.INCIDENT_ALARMS).
INCIDENT_ALARMS = "incident-alarms"
INLINE_POLICY_NAME = "access"
# Declared actions that IAM authorizes only on Resource "*" (the Service Authorization Reference
# lists no resource type for them): granted on "*", in a statement of their own. MediaConvert's
# Probe reads a file by URL and acts on no MediaConvert resource; IVS's ListChannels and ListStages
# list the account's. ECR's GetAuthorizationToken (the restream relay task's image pull, infra.relays)
# names no repository. IVS's ListPlaybackKeyPairs (the live playback key's provider, infra.live_playback_key) neither.
UNSCOPED_ACTIONS = frozenset(
    {
        "mediaconvert:Probe", "ivs:ListChannels", "ivs:ListStages", "ecr:GetAuthorizationToken",
        "ivs:ListPlaybackKeyPairs",
        # MediaLive's lists of the account's channels, inputs and input security groups.
        "medialive:ListChannels", "medialive:ListInputs", "medialive:ListInputSecurityGroups",
    }
)  # fmt: skip


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


@dataclass
class Runtime:
    """What every function gets, whichever stack holds it: the code asset, the environment, the ARNs
    of the symbolic resources of chalicelib.core.permissions, the declarations, and the shared
    resources cdk-nag acknowledgements name."""

    code_zip: Path
    environment: Mapping[str, str]
    arns: Mapping[str, Sequence[str]]
    conditions: Mapping[str, Mapping[str, Any]]
    registry: Mapping[str, frozenset[Access]]
    alarm_topic: sns.ITopic
    table: dynamodb.Table
    buckets: Mapping[str, s3.Bucket]
    reserve_concurrency: bool = True
    _codes: dict[str, lambda_.Code] = field(default_factory=dict)

    def code(self, scope: Construct) -> lambda_.Code:
        """The one code asset, as a Code of `scope`'s stack (CDK binds a Code to a single stack; the
        asset itself, a zip keyed by its hash, is uploaded once)."""
        stack = cdk.Stack.of(scope)
        key = stack.node.path
        if key not in self._codes:
            self._codes[key] = lambda_.Code.from_asset(str(self.code_zip))
        return self._codes[key]


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
            common.cfn(child).add_metadata(FUNCTION_METADATA, spec.name)
        # The role's policy is part of the role, which the function already references (GetAtt):
        # CDK's DependsOn on the role would be redundant (cfn-lint W3005).
        common.cfn(self.function).add_deletion_override("DependsOn")
        common.alarm_on(
            self,
            "Errors",
            description=f"Videoplane {spec.name} ({spec.description}) raised errors",
            metric=self.function.metric_errors(period=common.FIVE_MINUTES, statistic="Sum"),
            topic=alarm_topic,
        )


def build(scope: Construct, spec: FunctionSpec, runtime: Runtime) -> AppFunction:
    """The function of `spec` in `scope` (construct id: the Chalice name in CamelCase), with its
    cdk-nag acknowledgements."""
    if spec.name not in runtime.registry:
        raise KeyError(
            f"{spec.name} ({spec.description}) declares no AWS access: "
            "call chalicelib.core.permissions.declare next to its code"
        )
    function = AppFunction(
        scope,
        camel(spec.name),
        spec=spec,
        code=runtime.code(scope),
        environment=runtime.environment,
        statements=policy_statements(runtime.registry[spec.name], runtime.arns, runtime.conditions),
        size=settings.settings_for(spec, reserve=runtime.reserve_concurrency),
        alarm_topic=runtime.alarm_topic,
    )
    _acknowledge_findings(function, runtime)
    return function


def _acknowledge_stages(fn: AppFunction, declared: set[str]) -> None:
    """IVS real-time actions on stage/* (and, for recordings, composition/*) of this account."""
    kinds = (["stage"] if declared & {IVS_STAGES, IVS_COMPOSITIONS} else []) + (
        ["composition"] if IVS_COMPOSITIONS in declared else []
    )
    for kind in kinds:
        common.acknowledge(
            fn.role,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ivs:<AWS::Region>:<AWS::AccountId>:{kind}/*]",
            f"IVS real-time actions (declared in chalicelib.core.permissions) on this account's {kind}s in this "
            "region only: stages are created per room and compositions per recording at run time, so their ids "
            "are not known in advance.",
        )


def _acknowledge_medialive(fn: AppFunction, declared: set[str]) -> None:
    """MediaLive actions on the account's channels, inputs and input security groups."""
    if MEDIALIVE not in declared:
        return
    for kind in ("channel", "input", "inputSecurityGroup"):
        common.acknowledge(
            fn.role,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:medialive:<AWS::Region>:<AWS::AccountId>:{kind}:*]",
            f"MediaLive actions (declared in chalicelib.core.permissions) on this account's {kind}s in this region "
            "only: they are created per managed live event at run time, so their ids are not known in advance.",
        )


def _acknowledge_incident_alarms(fn: AppFunction, declared: set[str]) -> None:
    """CloudWatch PutMetricAlarm and DeleteAlarms on the alarms named with the app's incident prefix."""
    if INCIDENT_ALARMS not in declared:
        return
    common.acknowledge(
        fn.role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:"
        f"{resources.INCIDENT_ALARM_PREFIX}*]",
        "CloudWatch alarm actions (declared in chalicelib.core.permissions) on this app's incident alarms only "
        "(their name prefix): one alarm per metric is made per managed live event at run time, so names are not "
        "known in advance.",
    )


def _acknowledge_findings(fn: AppFunction, runtime: Runtime) -> None:
    name = fn.spec.name
    common.acknowledge(
        fn.function,
        "AwsSolutions-L1",
        f"Runtime {settings.RUNTIME} is the interpreter the app is built and tested with "
        "(requirements.txt wheels are built for it); move with the project's Python version.",
    )
    wildcard = ["X-Ray's PutTraceSegments and PutTelemetryRecords (active tracing)"]
    if isinstance(fn.spec.source, DynamoDBEventConfig):
        wildcard.append("dynamodb:ListStreams (the stream event source mapping)")
    unscoped = sorted({a for access in runtime.registry[name] for a in access.iam_actions()} & UNSCOPED_ACTIONS)
    if unscoped:
        wildcard.append(f"{', '.join(unscoped)} (declared in chalicelib.core.permissions)")
    common.acknowledge(
        fn.role,
        "AwsSolutions-IAM5[Resource::*]",
        f"Only {' and '.join(wildcard)} use '*': these actions have no resource-level permissions.",
    )
    declared = {access.resource for access in runtime.registry[name]}
    if MEDIACONVERT in declared:
        common.acknowledge(
            fn.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:mediaconvert:<AWS::Region>:<AWS::AccountId>:*]",
            "mediaconvert:CreateJob (declared in chalicelib.core.permissions) on this account's MediaConvert "
            "resources in this region only: jobs go to the Default queue and get ids only when created.",
        )
    if IVS in declared:
        # The recording configuration is the stack's own; CreateChannel authorizes it too.
        for kind in ("channel", "stream-key", "recording-configuration"):
            common.acknowledge(
                fn.role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ivs:<AWS::Region>:<AWS::AccountId>:{kind}/*]",
                f"IVS actions (declared in chalicelib.core.permissions) on this account's {kind}s in this region "
                "only: channels are created per live stream at run time, so their ids are not known in advance.",
            )
    _acknowledge_medialive(fn, declared)
    _acknowledge_incident_alarms(fn, declared)
    _acknowledge_stages(fn, declared)
    for bucket_definition in resources.BUCKETS:
        if bucket_definition.permission in declared:
            bucket_arn = common.nag_arn(fn, runtime.buckets[bucket_definition.name])
            common.acknowledge(
                fn.role,
                f"AwsSolutions-IAM5[Resource::{bucket_arn}/*]",
                f"Objects of the {bucket_definition.name} bucket (declared in chalicelib.core.permissions); "
                "object keys are per video, so the wildcard covers only this one bucket.",
            )
    if "table-indexes" in declared:
        common.acknowledge(
            fn.role,
            f"AwsSolutions-IAM5[Resource::{common.nag_arn(fn, runtime.table)}/index/*]",
            "Queries the table's own global secondary indexes (declared in chalicelib.core.permissions); "
            "the wildcard covers only indexes of this one table.",
        )
