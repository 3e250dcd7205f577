"""Restream relays in the live nested stack (docs/live.md, "Restream relays"): IVS does not
restream, so each restream target of a broadcasting live stream gets one ECS Fargate task running
`infra/relay/relay.py` (ffmpeg: the channel's live HLS, copied, pushed to the target).

- A VPC of its own with public subnets in two zones and no NAT gateway (a task needs only egress,
  to IVS's playback CDN, the targets and SQS; a NAT gateway would cost more than the relays), and
  a security group with no ingress. Rejected traffic is logged (flow log).
- The cluster, the task definition (0.25 vCPU, 512 MiB: `-c copy` moves packets, it does not
  transcode), the container image built from infra/relay, its log group.
- The task role may only send to the live-events queue (its state reports); the execution role
  pulls the image and writes the log group.
- The live functions get `VIDEOPLANE_LIVE_RELAYS` (cluster, task definition, subnets, security
  group) and, through `chalicelib.core.permissions.RESTREAM_RELAYS*`, RunTask of this task
  definition, ListTasks and StopTask on this cluster, and PassRole of these two roles to ECS.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.core import resources
from infra import common, settings
from infra.functions import AppFunction, Runtime

# The context whose nested stack holds the relays, and the symbolic resources its functions declare.
RELAYS_CONTEXT = "live"
RELAYS = "restream-relays"
RELAY_ROLES = "restream-relay-roles"
RELAY_PROGRAM = Path(__file__).resolve().parent / "relay"
CONTAINER = "relay"
CPU, MEMORY_MIB = 256, 512
CIDR = "10.80.0.0/16"


class RestreamRelays(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, report_queue: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Network",
            ip_addresses=ec2.IpAddresses.cidr(CIDR),
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="relays", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
            ],
            # The default group is unused; restricting it takes a custom resource (a Lambda).
            restrict_default_security_group=False,
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=logs.RetentionDays[settings.LOG_RETENTION],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.vpc.add_flow_log(
            "Rejected",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "Relays",
            vpc=self.vpc,
            allow_all_outbound=True,
            description="Videoplane restream relays: no ingress; egress to IVS playback, targets and SQS",
        )
        self.cluster = ecs.Cluster(self, "Cluster", vpc=self.vpc)
        common.acknowledge(
            self.cluster,
            "AwsSolutions-ECS4",
            "Relays report their own state (connecting, live, retrying, failed) to the app; Container "
            "Insights would add per-task metrics billed per relay for little more.",
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays[settings.LOG_RETENTION],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.task = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=CPU,
            memory_limit_mib=MEMORY_MIB,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.task.add_container(
            CONTAINER,
            container_name=CONTAINER,
            image=ecs.ContainerImage.from_asset(str(RELAY_PROGRAM)),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=CONTAINER, log_group=self.log_group),
            readonly_root_filesystem=True,
        )
        report_queue.grant_send_messages(self.task.task_role)
        execution_role = self.task.obtain_execution_role()
        common.acknowledge(
            execution_role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken (pulling the relay image) has no resource-level permissions.",
        )
        self.roles = [self.task.task_role.role_arn, execution_role.role_arn]

    def environment(self) -> str:
        """VIDEOPLANE_LIVE_RELAYS (chalicelib.live.adapters.relays.RelayTaskSettings)."""
        return cdk.Stack.of(self).to_json_string(
            {
                "cluster": self.cluster.cluster_name,
                "taskDefinition": self.task.task_definition_arn,
                "container": CONTAINER,
                "subnets": [subnet.subnet_id for subnet in self.vpc.public_subnets],
                "securityGroups": [self.security_group.security_group_id],
            }
        )

    def _in_cluster(self, kind: str) -> str:
        return cdk.Stack.of(self).format_arn(
            service="ecs", resource=kind, resource_name=f"{self.cluster.cluster_name}/*"
        )

    def runtime(self, runtime: Runtime) -> Runtime:
        """The live functions' runtime: with where relays run and what they may do with them."""
        return dataclasses.replace(
            runtime,
            environment={**runtime.environment, resources.LIVE_RELAYS_ENV: self.environment()},
            arns={
                **runtime.arns,
                RELAYS: [
                    self.task.task_definition_arn,
                    self._in_cluster("task"),
                    self._in_cluster("container-instance"),
                ],
                RELAY_ROLES: self.roles,
            },
            conditions={
                **runtime.conditions,
                RELAY_ROLES: {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
        )

    def acknowledge_users(self, functions: dict[str, AppFunction], runtime: Runtime) -> None:
        """The wildcards of the live functions' relay statements: tasks get ids when they start."""
        cluster = f"<{cdk.Stack.of(self).get_logical_id(common.cfn(self.cluster))}>"
        for fn in functions.values():
            if not any(access.resource == RELAYS for access in runtime.registry[fn.spec.name]):
                continue
            for kind in ("task", "container-instance"):
                common.acknowledge(
                    fn.role,
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:"
                    f"{kind}/{cluster}/*]",
                    f"ECS ListTasks/StopTask on the {kind}s of the relay cluster only: relay tasks get their "
                    "ids when they start.",
                )
