"""The analytics event store, in the analytics context's nested stack: the Firehose stream that
writes player beacons to the analytics bucket (dynamic partitioning by project and day, GZIP),
the Glue database and table Athena reads (partition projection on project and day, so no
crawler and no partition to add) and the Athena workgroup with its result location.

Everything is translated from `chalicelib.core.resources` (the stream's S3 destination, the
columns, the prefixes), the definitions the devstack builds the same store from. Names are
derived from the stack name (`videoplane` gives the devstack's names), so the functions' policies
and environment name them before the nested stack exists; the bucket and its lifecycle (30 days of
raw events) are the parent's (`resources.ANALYTICS_BUCKET`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_s3 as s3
from constructs import Construct

from chalicelib.analytics.domain.queries import ROLLUP_COLUMNS, ROLLUP_TABLE
from chalicelib.core import resources
from infra import common

STREAM = resources.ANALYTICS_STREAM.permission
WORKGROUP = "analytics-workgroup"
CATALOG = "analytics-catalog"
# Athena stops a query that would scan more (a runaway query costs at most this much: $5 a TB).
BYTES_SCANNED_CUTOFF = 10 * 1024**3
# Partition projection's day range: the raw retention, plus today.
_DAY_FORMAT = "yyyy-MM-dd"
_JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"


@dataclass(frozen=True)
class AnalyticsNames:
    """The physical names of the event store's resources (Firehose, Glue and Athena name them)."""

    stream: str
    database: str
    table: str
    workgroup: str

    @classmethod
    def of(cls, stack_name: str) -> AnalyticsNames:
        """`videoplane` -> the names of `chalicelib.core.resources` (what the devstack uses)."""
        suffix = resources.ANALYTICS_STREAM.name.removeprefix(f"{resources.APP_NAME}-")
        workgroup = resources.ANALYTICS_WORKGROUP.removeprefix(f"{resources.APP_NAME}-")
        database = resources.ANALYTICS_DATABASE.removeprefix(f"{resources.APP_NAME}_")
        return cls(
            stream=f"{stack_name}-{suffix}",
            database=f"{re.sub(r'[^a-z0-9_]', '_', stack_name.lower())}_{database}",
            table=resources.ANALYTICS_TABLE,
            workgroup=f"{stack_name}-{workgroup}",
        )

    def environment(self) -> dict[str, str]:
        return {
            resources.ANALYTICS_STREAM.env: self.stream,
            resources.ANALYTICS_DATABASE_ENV: self.database,
            resources.ANALYTICS_WORKGROUP_ENV: self.workgroup,
            # The Glue `hourly` table exists (EventStore): /data reads whole hours from it.
            resources.ANALYTICS_ROLLUP_ENV: "1",
        }

    def arns(self, stack: cdk.Stack) -> dict[str, Sequence[str]]:
        """The symbolic resources of chalicelib.core.permissions, by name (see the module's docstring)."""
        return {
            STREAM: [stack.format_arn(service="firehose", resource="deliverystream", resource_name=self.stream)],
            WORKGROUP: [stack.format_arn(service="athena", resource="workgroup", resource_name=self.workgroup)],
            CATALOG: [
                stack.format_arn(service="glue", resource="catalog"),
                stack.format_arn(service="glue", resource="database", resource_name=self.database),
                stack.format_arn(service="glue", resource="table", resource_name=f"{self.database}/{self.table}"),
                stack.format_arn(service="glue", resource="table", resource_name=f"{self.database}/{ROLLUP_TABLE}"),
            ],
        }


class EventStore(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: AnalyticsNames,
        bucket: s3.IBucket,
        raw_days: int,
        rollup_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.names = names
        self.raw_days = raw_days
        self.rollup_days = rollup_days
        self.stream = self._stream(bucket)
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=cdk.Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=names.database, description="Videoplane analytics: player events"
            ),
        )
        self.table = self._table(bucket)
        self.table.add_dependency(self.database)
        self.rollup = self._rollup(bucket)
        self.rollup.add_dependency(self.database)
        self.workgroup = self._workgroup(bucket)

    def _stream(self, bucket: s3.IBucket) -> firehose.CfnDeliveryStream:
        definition = resources.ANALYTICS_STREAM
        prefixes = (resources.ANALYTICS_EVENTS_PREFIX, resources.ANALYTICS_ERRORS_PREFIX)
        # Inline (not a separate AWS::IAM::Policy): Firehose checks it may write the bucket when the
        # stream is created, and the stream's reference to the role then covers the policy too.
        policy = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                    resources=[bucket.bucket_arn],
                ),
                iam.PolicyStatement(
                    actions=["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"],
                    resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes],
                ),
            ]
        )
        role = iam.Role(
            self,
            "DeliveryRole",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": cdk.Aws.ACCOUNT_ID}}
            ),
            description="Videoplane: Firehose writes player events into the analytics bucket",
            inline_policies={"Delivery": policy},
        )
        for prefix in prefixes:
            common.acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::{common.nag_arn(self, bucket)}/{prefix}*]",
                f"Firehose writes objects whose keys it makes (project, day, time) under {prefix} of the "
                "analytics bucket only.",
            )
        destination = definition.extended_s3(bucket.bucket_arn, role.role_arn)
        stream = firehose.CfnDeliveryStream(
            self,
            "Stream",
            delivery_stream_name=self.names.stream,
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="AWS_OWNED_CMK"
            ),
        )
        # The API's shape of the destination is CloudFormation's: one definition, no translation.
        stream.add_property_override("ExtendedS3DestinationConfiguration", destination)
        return stream

    def _table(self, bucket: s3.IBucket) -> glue.CfnTable:
        location = f"s3://{bucket.bucket_name}/{resources.ANALYTICS_EVENTS_PREFIX}"
        days = self.raw_days
        parameters: Mapping[str, str] = {
            "classification": "json",
            "compressionType": "gzip",
            # Partition projection: Athena computes the partitions from the query's project and day.
            "projection.enabled": "true",
            "projection.project.type": "injected",
            "projection.dt.type": "date",
            "projection.dt.format": _DAY_FORMAT,
            "projection.dt.range": f"NOW-{days}DAYS,NOW+1DAYS",
            "projection.dt.interval": "1",
            "projection.dt.interval.unit": "DAYS",
            "storage.location.template": f"{location}project=${{project}}/dt=${{dt}}/",
        }
        return glue.CfnTable(
            self,
            "Table",
            catalog_id=cdk.Aws.ACCOUNT_ID,
            database_name=self.names.database,
            table_input=glue.CfnTable.TableInputProperty(
                name=self.names.table,
                description="Player events as Firehose writes them (newline-delimited JSON, GZIP)",
                table_type="EXTERNAL_TABLE",
                parameters=dict(parameters),
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in resources.ANALYTICS_PARTITIONS
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=[
                        glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in resources.ANALYTICS_COLUMNS
                    ],
                    location=location,
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library=_JSON_SERDE, parameters={"ignore.malformed.json": "true"}
                    ),
                ),
            ),
        )

    def _rollup(self, bucket: s3.IBucket) -> glue.CfnTable:
        """The hourly rollup (queries.ROLLUP_COLUMNS), Parquet under rollup/, partitioned like the raw
        events and projected over the rollup's retention; the hourly schedule's INSERT INTO writes it
        in Hive's layout (`project=…/dt=…/`)."""
        location = f"s3://{bucket.bucket_name}/{resources.ANALYTICS_ROLLUP_PREFIX}"
        parameters: Mapping[str, str] = {
            "classification": "parquet",
            "parquet.compression": "SNAPPY",
            "projection.enabled": "true",
            "projection.project.type": "injected",
            "projection.dt.type": "date",
            "projection.dt.format": _DAY_FORMAT,
            "projection.dt.range": f"NOW-{self.rollup_days}DAYS,NOW+1DAYS",
            "projection.dt.interval": "1",
            "projection.dt.interval.unit": "DAYS",
        }
        return glue.CfnTable(
            self,
            "RollupTable",
            catalog_id=cdk.Aws.ACCOUNT_ID,
            database_name=self.names.database,
            table_input=glue.CfnTable.TableInputProperty(
                name=ROLLUP_TABLE,
                description="Hourly partial sums of the player events (chalicelib.analytics.domain.queries)",
                table_type="EXTERNAL_TABLE",
                parameters=dict(parameters),
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in resources.ANALYTICS_PARTITIONS
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=[glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in ROLLUP_COLUMNS],
                    location=location,
                    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                    ),
                ),
            ),
        )

    def _workgroup(self, bucket: s3.IBucket) -> athena.CfnWorkGroup:
        return athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=self.names.workgroup,
            description="Videoplane /data queries (results expire with the bucket's query-results/ rule)",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{bucket.bucket_name}/{resources.ANALYTICS_QUERY_RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )
