"""The analytics event store in the template (infra.analytics): where it lives, how Firehose writes,
what Glue describes, where Athena puts results, and how long the bucket keeps raw events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from chalicelib.analytics.domain.queries import ROLLUP_COLUMNS, ROLLUP_TABLE
from chalicelib.core import resources
from infra.analytics import AnalyticsNames
from infra.retention import RAW_CONTEXT, ROLLUP_CONTEXT, Retention
from tests.infra.conftest import Synthesized, Template, as_list, functions_by_name, of_type, referenced_ids, synthesize
from tests.infra.test_pipeline import statements_of
from tests.infra.test_template import only, platform_ids

pytestmark = pytest.mark.integration

STORE_TYPES = (
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::Athena::WorkGroup",
)


def _bucket_arn(template: Template) -> dict[str, Any]:
    return {"Fn::GetAtt": [platform_ids(template)[resources.ANALYTICS_BUCKET.permission], "Arn"]}


def test_the_store_is_in_the_analytics_nested_stack_only(synthesized: Synthesized) -> None:
    for stack in synthesized.stacks:
        found = {kind for kind in STORE_TYPES if of_type(stack.template, kind)}
        assert found == (set(STORE_TYPES) if stack.name.endswith("Analytics") else set()), stack.name
        if found:
            # One stream, database and workgroup (each `only` fails otherwise); two tables: the raw
            # events and their hourly rollup.
            for kind in STORE_TYPES:
                if kind != "AWS::Glue::Table":
                    only(of_type(stack.template, kind))
            names = {
                t["Properties"]["TableInput"]["Name"] for t in of_type(stack.template, "AWS::Glue::Table").values()
            }
            assert len(names) == 2 and ROLLUP_TABLE in names, names


def test_default_names_are_the_devstacks() -> None:
    names = AnalyticsNames.of(resources.APP_NAME)
    assert (names.stream, names.database, names.table, names.workgroup) == (
        resources.ANALYTICS_STREAM.name,
        resources.ANALYTICS_DATABASE,
        resources.ANALYTICS_TABLE,
        resources.ANALYTICS_WORKGROUP,
    )
    # Another stack in the same account gets names of its own (Glue: lowercase, underscores).
    other = AnalyticsNames.of("Video-Staging")
    assert other.stream == "Video-Staging-beacons"
    assert other.database == "video_staging_analytics"
    assert other.workgroup == "Video-Staging-analytics"


def test_firehose_partitions_by_project_and_day_compressed_into_the_analytics_bucket(
    synthesized: Synthesized,
) -> None:
    template = synthesized.template
    _, stream = only(of_type(template, "AWS::KinesisFirehose::DeliveryStream"))
    properties = stream["Properties"]
    assert properties["DeliveryStreamType"] == "DirectPut"
    assert properties["DeliveryStreamEncryptionConfigurationInput"] == {"KeyType": "AWS_OWNED_CMK"}
    destination = properties["ExtendedS3DestinationConfiguration"]
    assert destination["BucketARN"] == _bucket_arn(template)
    assert destination["CompressionFormat"] == "GZIP"
    assert destination["DynamicPartitioningConfiguration"] == {"Enabled": True}
    assert destination["Prefix"].startswith(resources.ANALYTICS_EVENTS_PREFIX)
    assert "partitionKeyFromQuery:project" in destination["Prefix"]
    assert "partitionKeyFromQuery:dt" in destination["Prefix"]
    assert destination["ErrorOutputPrefix"].startswith(resources.ANALYTICS_ERRORS_PREFIX)
    # Firehose's minimum buffer with dynamic partitioning: the freshness of /data on AWS.
    assert destination["BufferingHints"]["IntervalInSeconds"] >= 60


def test_firehose_role_writes_only_the_event_and_error_prefixes(synthesized: Synthesized) -> None:
    template = synthesized.template
    _, stream = only(of_type(template, "AWS::KinesisFirehose::DeliveryStream"))
    role_id = stream["Properties"]["ExtendedS3DestinationConfiguration"]["RoleARN"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}}
    bucket = _bucket_arn(template)
    granted: dict[str, set[str]] = {}
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            for resource in as_list(statement["Resource"]):
                key = "bucket" if resource == bucket else resource["Fn::Join"][1][1]
                granted.setdefault(key, set()).update(as_list(statement["Action"]))
    assert granted == {
        "bucket": {"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"},
        f"/{resources.ANALYTICS_EVENTS_PREFIX}*": {"s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"},
        f"/{resources.ANALYTICS_ERRORS_PREFIX}*": {"s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"},
    }


def test_glue_table_projects_project_and_day_partitions_over_the_event_prefix(synthesized: Synthesized) -> None:
    (table_input,) = [
        t["Properties"]["TableInput"]
        for t in of_type(synthesized.template, "AWS::Glue::Table").values()
        if t["Properties"]["TableInput"]["Name"] != ROLLUP_TABLE
    ]
    assert [(c["Name"], c["Type"]) for c in table_input["PartitionKeys"]] == list(resources.ANALYTICS_PARTITIONS)
    descriptor = table_input["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in descriptor["Columns"]] == list(resources.ANALYTICS_COLUMNS)
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    parameters = table_input["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.project.type"] == "injected"  # every query names its project
    assert parameters["projection.dt.type"] == "date"
    assert parameters["projection.dt.format"] == "yyyy-MM-dd"
    template_parts = parameters["storage.location.template"]["Fn::Join"][1]
    assert template_parts[-1] == f"/{resources.ANALYTICS_EVENTS_PREFIX}project=${{project}}/dt=${{dt}}/"


def test_athena_workgroup_enforces_encrypted_results_under_query_results(synthesized: Synthesized) -> None:
    _, workgroup = only(of_type(synthesized.template, "AWS::Athena::WorkGroup"))
    configuration = workgroup["Properties"]["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] > 0
    results = configuration["ResultConfiguration"]
    assert results["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert results["OutputLocation"]["Fn::Join"][1][-1] == f"/{resources.ANALYTICS_QUERY_RESULTS_PREFIX}"


def test_raw_events_expire_after_the_retention_and_query_results_after_a_day(synthesized: Synthesized) -> None:
    template = synthesized.template
    bucket = template["Resources"][platform_ids(template)[resources.ANALYTICS_BUCKET.permission]]
    rules = {
        rule.get("Prefix"): rule.get("ExpirationInDays")
        for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    assert rules[resources.ANALYTICS_EVENTS_PREFIX] == resources.ANALYTICS_RAW_RETENTION_DAYS == 30
    assert rules[resources.ANALYTICS_ERRORS_PREFIX] == resources.ANALYTICS_RAW_RETENTION_DAYS
    assert rules[resources.ANALYTICS_QUERY_RESULTS_PREFIX] == 1
    # The rollup outlives the raw events it is made of.
    assert rules[resources.ANALYTICS_ROLLUP_PREFIX] == resources.ANALYTICS_ROLLUP_RETENTION_DAYS > 30


def test_retentions_follow_the_cdk_context(tmp_path: Path) -> None:
    context = {RAW_CONTEXT: "45", ROLLUP_CONTEXT: "730"}
    synthesized = synthesize(tmp_path / "cdk.out", context=context)
    template = synthesized.template
    bucket = template["Resources"][platform_ids(template)[resources.ANALYTICS_BUCKET.permission]]
    rules = {
        rule.get("Prefix"): rule.get("ExpirationInDays")
        for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    assert rules[resources.ANALYTICS_EVENTS_PREFIX] == rules[resources.ANALYTICS_ERRORS_PREFIX] == 45
    assert rules[resources.ANALYTICS_ROLLUP_PREFIX] == 730
    # Athena's partition projection covers the raw retention.
    tables = of_type(template, "AWS::Glue::Table").values()
    ranges = {t["Properties"]["TableInput"]["Parameters"].get("projection.dt.range") for t in tables}
    assert "NOW-45DAYS,NOW+1DAYS" in ranges


def test_a_rollup_kept_shorter_than_its_raw_events_is_refused() -> None:
    app = cdk.App(context={RAW_CONTEXT: "60", ROLLUP_CONTEXT: "30"})
    with pytest.raises(ValueError, match="rollupRetentionDays"):
        Retention.of(app.node)
    with pytest.raises(ValueError, match="at least 1"):
        Retention.of(cdk.App(context={RAW_CONTEXT: "0"}).node)
    assert Retention.of(cdk.App().node) == Retention(30, resources.ANALYTICS_ROLLUP_RETENTION_DAYS)


# -- the hourly rollup and the usage schedule ------------------------------------------------------


def test_the_rollup_table_is_parquet_under_rollup_partitioned_like_the_events(synthesized: Synthesized) -> None:
    glue_tables = of_type(synthesized.template, "AWS::Glue::Table").values()
    tables = {t["Properties"]["TableInput"]["Name"]: t["Properties"] for t in glue_tables}
    rollup = tables[ROLLUP_TABLE]["TableInput"]
    storage = rollup["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == list(ROLLUP_COLUMNS)
    assert [(c["Name"], c["Type"]) for c in rollup["PartitionKeys"]] == list(resources.ANALYTICS_PARTITIONS)
    assert storage["Location"]["Fn::Join"][1][-1] == f"/{resources.ANALYTICS_ROLLUP_PREFIX}"
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    parameters = rollup["Parameters"]
    assert parameters["projection.dt.range"] == f"NOW-{resources.ANALYTICS_ROLLUP_RETENTION_DAYS}DAYS,NOW+1DAYS"
    # Hive's layout (what INSERT INTO writes), so no location template.
    assert "storage.location.template" not in parameters


def _rules(template: Template) -> dict[str, dict[str, Any]]:
    functions = functions_by_name(template)
    return {
        name: rule["Properties"]
        for rule in of_type(template, "AWS::Events::Rule").values()
        for name, function_id in functions.items()
        if function_id in referenced_ids(rule["Properties"]["Targets"])
    }


def test_the_rollup_runs_hourly_and_the_usage_report_daily(synthesized: Synthesized) -> None:
    rules = _rules(synthesized.template)
    assert rules["roll_up_analytics_hour"]["ScheduleExpression"] == "cron(5 * * * ? *)"
    assert rules["report_daily_usage"]["ScheduleExpression"] == "cron(15 0 * * ? *)"
    # The app reads whole hours from the rollup once the table exists.
    for name in ("get_aggregated_metrics", "roll_up_analytics_hour"):
        function = synthesized.template["Resources"][functions_by_name(synthesized.template)[name]]
        assert function["Properties"]["Environment"]["Variables"][resources.ANALYTICS_ROLLUP_ENV] == "1"


def test_the_rollup_may_replace_files_and_add_partitions_only_in_the_analytics_store(
    synthesized: Synthesized,
) -> None:
    template = synthesized.template
    statements = statements_of(template, "roll_up_analytics_hour")
    actions = {action for s in statements for action in as_list(s["Action"])}
    assert {"s3:DeleteObject", "glue:BatchCreatePartition", "athena:StartQueryExecution"} <= actions
    assert not {a for a in actions if a.startswith(("dynamodb:", "sqs:", "events:"))}
    deleting = [s for s in statements if "s3:DeleteObject" in as_list(s["Action"])]
    bucket_id = platform_ids(template)[resources.ANALYTICS_BUCKET.permission]
    assert all(bucket_id in json.dumps(s["Resource"]) for s in deleting)
    # No other function deletes analytics files.
    for name in set(functions_by_name(template)) - {"roll_up_analytics_hour"}:
        for statement in statements_of(template, name):
            if "s3:DeleteObject" in as_list(statement["Action"]):
                assert bucket_id not in json.dumps(statement["Resource"]), name
