"""The VOD pipeline's AWS side: uploads bucket notifications (prefix -> queue), the default-bus
rule for MediaConvert job states, the consumers on their queues, MediaConvert permissions, and
the same wiring in the devstack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
import pytest
from chalice.app import SQSEventConfig

from chalicelib.core import resources
from chalicelib.core.permissions import MEDIACONVERT_JOBS, MEDIACONVERT_PASS_ROLE
from infra.functions import UNSCOPED_ACTIONS
from tests.infra.conftest import (
    Synthesized,
    Template,
    as_list,
    functions_by_name,
    of_type,
    referenced_ids,
    role_statements,
)
from tests.infra.test_template import MEDIACONVERT_ARN, only, platform_ids

pytestmark = pytest.mark.integration

QUEUES_BY_NAME = {queue.name: queue for queue in resources.QUEUES}


def queue_id(template: Template, definition: resources.Queue) -> str:
    return platform_ids(template)[definition.permission]


def queue_policy_statements(template: Template, logical_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in of_type(template, "AWS::SQS::QueuePolicy").values()
        if logical_id in referenced_ids(policy["Properties"]["Queues"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


# -- uploads bucket -> queues -----------------------------------------------------------------


def template_notifications(template: Template) -> dict[str, str]:
    """Prefix -> logical id of the queue, from CDK's Custom::S3BucketNotifications of the uploads bucket."""
    _, custom = only(of_type(template, "Custom::S3BucketNotifications"))
    properties = custom["Properties"]
    assert properties["BucketName"] == {"Ref": platform_ids(template)[resources.UPLOADS_BUCKET.permission]}
    configuration = properties["NotificationConfiguration"]
    assert set(configuration) == {"QueueConfigurations"}
    found = {}
    for item in configuration["QueueConfigurations"]:
        assert item["Events"] == ["s3:ObjectCreated:*"]
        (rule,) = item["Filter"]["Key"]["FilterRules"]
        assert rule["Name"] == "prefix"
        (target,) = referenced_ids(item["QueueArn"])
        found[rule["Value"]] = target
    return found


def test_uploads_bucket_notifies_one_queue_per_prefix(synthesized: Synthesized) -> None:
    template = synthesized.template
    expected = {prefix: queue_id(template, queue) for prefix, queue in resources.BUCKET_NOTIFICATIONS}
    assert template_notifications(template) == expected
    bucket_arn = {"Fn::GetAtt": [platform_ids(template)[resources.UPLOADS_BUCKET.permission], "Arn"]}
    for logical_id in expected.values():
        # S3 may send to the queue, for this bucket only; the queue's encryption is SQS-managed (no KMS key
        # S3 would need access to).
        assert synthesized.resources[logical_id]["Properties"]["SqsManagedSseEnabled"] is True
        allows = [s for s in queue_policy_statements(template, logical_id) if s["Effect"] == "Allow"]
        (allow,) = allows
        assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
        assert "sqs:SendMessage" in as_list(allow["Action"])
        assert allow["Condition"] == {"ArnLike": {"aws:SourceArn": bucket_arn}}


def test_devstack_notifies_the_same_queues_for_the_same_prefixes(synthesized: Synthesized, moto_aws: None) -> None:
    from devstack.bootstrap import bootstrap
    from devstack.emulator import bucket_name

    bootstrap()
    configuration = boto3.client("s3").get_bucket_notification_configuration(
        Bucket=bucket_name(resources.UPLOADS_BUCKET)
    )
    devstack = {}
    for item in configuration["QueueConfigurations"]:
        assert item["Events"] == ["s3:ObjectCreated:*"]
        (rule,) = item["Filter"]["Key"]["FilterRules"]
        devstack[rule["Value"]] = item["QueueArn"].rsplit(":", 1)[1]
    ids_by_name = {queue.name: queue_id(synthesized.template, queue) for queue in resources.QUEUES}
    assert {prefix: ids_by_name[name] for prefix, name in devstack.items()} == template_notifications(
        synthesized.template
    )


# -- MediaConvert job states (default bus) -> queue ------------------------------------------------


def default_bus_rule_to(template: Template, pattern: Mapping[str, Any], queue: resources.Queue) -> dict[str, Any]:
    """The one rule with this pattern: on the default bus, to this queue (which allows that rule only)."""
    target_queue = queue_id(template, queue)
    rules = {
        rule_id: rule["Properties"]
        for rule_id, rule in of_type(template, "AWS::Events::Rule").items()
        if rule["Properties"].get("EventPattern") == pattern
    }
    rule_id, rule = only(rules)
    assert "EventBusName" not in rule  # the default bus, where AWS services report
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [target_queue, "Arn"]}
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    allows = [s for s in queue_policy_statements(template, target_queue) if s["Effect"] == "Allow"]
    (allow,) = allows
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}
    return dict(rule)


def test_default_bus_routes_this_apps_mediaconvert_jobs_to_the_media_events_queue(synthesized: Synthesized) -> None:
    default_bus_rule_to(synthesized.template, resources.MEDIACONVERT_RULE_PATTERN, resources.MEDIA_EVENTS_QUEUE)


def test_default_bus_routes_this_apps_ivs_stream_changes_to_the_live_events_queue(synthesized: Synthesized) -> None:
    rule = default_bus_rule_to(synthesized.template, resources.IVS_RULE_PATTERN, resources.LIVE_EVENTS_QUEUE)
    assert rule["EventPattern"]["detail"]["channel_name"] == [{"prefix": "videoplane-"}]
    assert "IVS Recording State Change" in rule["EventPattern"]["detail-type"]


def test_the_stacks_recording_configuration_records_to_the_media_bucket(synthesized: Synthesized) -> None:
    """One per stack (resources.LIVE_RECORDING_CONFIGURATION), named by every function's settings."""
    template = synthesized.template
    ((config_id, config),) = of_type(template, "AWS::IVS::RecordingConfiguration").items()
    properties = config["Properties"]
    media = platform_ids(template)[resources.MEDIA_BUCKET.permission]
    assert properties["DestinationConfiguration"] == {"S3": {"BucketName": {"Ref": media}}}
    assert properties["RecordingReconnectWindowSeconds"] == 0
    assert properties["ThumbnailConfiguration"] == {"RecordingMode": "DISABLED"}
    function_id = next(iter(functions_by_name(template).values()))
    env = template["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    assert env[resources.LIVE_RECORDING_CONFIGURATION_ENV] == {"Fn::GetAtt": [config_id, "Arn"]}


def test_stage_updates_and_session_starts_reach_the_room_events_queue(synthesized: Synthesized) -> None:
    """Two rules, one queue: IVS's stage updates (default bus) and `room.session.started` (project bus);
    the queue allows exactly those two."""
    template = synthesized.template
    target_queue = queue_id(template, resources.ROOM_EVENTS_QUEUE)
    patterns = (resources.IVS_STAGE_RULE_PATTERN, resources.ROOM_SESSION_RULE_PATTERN)
    rules = {
        rule_id: rule["Properties"]
        for rule_id, rule in of_type(template, "AWS::Events::Rule").items()
        if rule["Properties"].get("EventPattern") in patterns
    }
    assert sorted(("EventBusName" in r) for r in rules.values()) == [False, True]
    for rule in rules.values():
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [target_queue, "Arn"]}
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    allows = [s for s in queue_policy_statements(template, target_queue) if s["Effect"] == "Allow"]
    assert sorted(a["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0] for a in allows) == sorted(rules)


# -- consumers ------------------------------------------------------------------------------------


def test_every_sqs_consumer_reads_its_queue_with_partial_batch_responses(
    synthesized: Synthesized, chalice_app: Any
) -> None:
    template = synthesized.template
    functions = functions_by_name(template)
    mappings = [m["Properties"] for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()]
    alarmed = {
        dimension_id
        for alarm in of_type(template, "AWS::CloudWatch::Alarm").values()
        for dimension_id in referenced_ids(alarm["Properties"].get("Dimensions", []))
    }
    consumers = [source for source in chalice_app.event_sources if isinstance(source, SQSEventConfig)]
    assert {"receive_upload_parts", "ingest_sources", "track_encoding_jobs"} <= {c.name for c in consumers}
    for source in consumers:
        logical_id = queue_id(template, QUEUES_BY_NAME[source.queue or ""])
        (mapping,) = [m for m in mappings if functions[source.name] in referenced_ids(m["FunctionName"])]
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [logical_id, "Arn"]}, source.name
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], source.name
        assert mapping["BatchSize"] == source.batch_size, source.name
        queue = synthesized.resources[logical_id]["Properties"]
        function = synthesized.resources[functions[source.name]]["Properties"]
        assert queue["VisibilityTimeout"] >= 6 * function["Timeout"], source.name
        (dlq_id,) = referenced_ids(queue["RedrivePolicy"]["deadLetterTargetArn"])
        assert dlq_id in alarmed, f"{source.name}: no depth alarm on its queue's DLQ"
    ingest = next(source for source in consumers if source.name == "ingest_sources")
    assert ingest.batch_size == 1


# -- MediaConvert permissions -----------------------------------------------------------------------


def statements_of(template: Template, name: str) -> list[dict[str, Any]]:
    function = template["Resources"][functions_by_name(template)[name]]
    return role_statements(template, function["Properties"]["Role"]["Fn::GetAtt"][0])


def test_mediaconvert_is_scoped_to_this_account_and_region_and_its_role_passed_only_to_it(
    synthesized: Synthesized, registry: Mapping[str, frozenset[Any]]
) -> None:
    template = synthesized.template
    users = [name for name, accesses in registry.items() if MEDIACONVERT_JOBS in accesses]
    assert users, "no function declares MEDIACONVERT_JOBS"
    role_arn = {"Fn::GetAtt": [platform_ids(template)[resources.MEDIACONVERT_ROLE.permission], "Arn"]}
    for name in users:
        statements = statements_of(template, name)
        scoped = {a for s in statements if s["Resource"] == MEDIACONVERT_ARN for a in as_list(s["Action"])}
        assert scoped == set(MEDIACONVERT_JOBS.iam_actions()) - UNSCOPED_ACTIONS, name
        # Probe has no resource-level permissions in IAM: alone on "*", in a statement of its own.
        (probe,) = [s for s in statements if "mediaconvert:Probe" in as_list(s["Action"])]
        assert probe == {"Action": "mediaconvert:Probe", "Effect": "Allow", "Resource": "*"}
        if MEDIACONVERT_PASS_ROLE in registry[name]:
            assert {
                "Action": "iam:PassRole",
                "Condition": {"StringEquals": {"iam:PassedToService": "mediaconvert.amazonaws.com"}},
                "Effect": "Allow",
                "Resource": role_arn,
            } in statements
    for name in set(functions_by_name(template)) - set(users):
        assert not [s for s in statements_of(template, name) if "mediaconvert:" in str(s["Action"])], name


# -- direct-to-S3 upload routes --------------------------------------------------------------------

# What API Gateway sends S3 (resources.DirectUploadRoute documents the authorizer's context keys).
EXPECTED_REQUEST_PARAMETERS = {
    "integration.request.path.objectKey": "context.authorizer.objectKey",
    "integration.request.header.Content-Type": "'application/octet-stream'",
    "integration.request.header.x-amz-meta-content-range": "context.authorizer.contentRange",
    "integration.request.header.x-amz-meta-upload-token": "context.authorizer.uploadToken",
    "integration.request.header.x-amz-meta-content-type": "method.request.header.Content-Type",
}
EXPECTED_RESPONSE_TEMPLATE = (
    "#set($context.responseOverride.status = $context.authorizer.responseStatus)$context.authorizer.responseBody"
)


def test_direct_upload_routes_store_the_body_in_the_uploads_bucket(synthesized: Synthesized) -> None:
    from tests.infra.test_template import methods_by_route

    template = synthesized.template
    bucket_id = platform_ids(template)[resources.UPLOADS_BUCKET.permission]
    methods = methods_by_route(template, direct=True)
    assert set(methods) == {(route.method, route.path) for route in resources.DIRECT_UPLOAD_ROUTES}
    role_ids = set()
    for route, method in methods.items():
        integration = method["Integration"]
        assert integration["Type"] == "AWS" and integration["IntegrationHttpMethod"] == "PUT", route
        uri = integration["Uri"]["Fn::Join"][1]
        assert uri[-3:] == [":s3:path/", {"Ref": bucket_id}, "/{objectKey}"], route
        assert integration["RequestParameters"] == EXPECTED_REQUEST_PARAMETERS, route
        assert method["RequestParameters"] == {"method.request.header.Content-Type": False}, route
        # The body goes through untouched (no request template; multipart/form-data is a binary type).
        assert "RequestTemplates" not in integration and integration["PassthroughBehavior"] == "WHEN_NO_TEMPLATES"
        assert "ContentHandling" not in integration
        responses = {r.get("SelectionPattern"): r for r in integration["IntegrationResponses"]}
        assert set(responses) == {None, r"[45]\d{2}"}, route
        ok, failed = responses[None], responses[r"[45]\d{2}"]
        assert ok["StatusCode"] == "200"
        assert ok["ResponseTemplates"] == {"application/json": EXPECTED_RESPONSE_TEMPLATE}
        assert failed["StatusCode"] == "500"
        assert failed["ResponseTemplates"] == {
            "application/json": resources.GATEWAY_RESPONSES["AUTHORIZER_FAILURE"]["template"]
        }
        for response in (ok, failed):
            assert response["ResponseParameters"] == {"method.response.header.Content-Type": "'application/json'"}
        (role_id,) = referenced_ids(integration["Credentials"])
        role_ids.add(role_id)
    (role_id,) = role_ids
    role = template["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert not role.get("ManagedPolicyArns")
    bucket_arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    assert role_statements(template, role_id) == [
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": [
                {"Fn::Join": ["", [bucket_arn, f"/{resources.INCOMING_PREFIX}*"]]},
                {"Fn::Join": ["", [bucket_arn, f"/{resources.REJECTED_PREFIX}*"]]},
            ],
        }
    ]
    _, api = only(of_type(template, "AWS::ApiGateway::RestApi"))
    assert "multipart/form-data" in api["Properties"]["BinaryMediaTypes"]


def test_direct_upload_routes_are_guarded_by_the_upload_request_authorizer(synthesized: Synthesized) -> None:
    from tests.infra.test_template import methods_by_route

    template = synthesized.template
    functions = functions_by_name(template)
    authorizers = of_type(template, "AWS::ApiGateway::Authorizer")
    for route, method in methods_by_route(template, direct=True).items():
        assert method["AuthorizationType"] == "CUSTOM", route
        (authorizer_id,) = referenced_ids(method["AuthorizerId"])
        authorizer = authorizers[authorizer_id]["Properties"]
        assert authorizer["Type"] == "REQUEST"
        # Never cached (every part differs), and no identity source: the authorizer always runs and
        # answers in api.video's format, rather than API Gateway's 401 for a missing header.
        assert authorizer["AuthorizerResultTtlInSeconds"] == 0
        assert "IdentitySource" not in authorizer
        assert functions[resources.UPLOAD_AUTHORIZER] in referenced_ids(authorizer["AuthorizerUri"])
    grants = [
        p["Properties"]
        for p in of_type(template, "AWS::Lambda::Permission").values()
        if functions[resources.UPLOAD_AUTHORIZER] in referenced_ids(p["Properties"]["FunctionName"])
    ]
    (grant,) = grants
    assert grant["Principal"] == "apigateway.amazonaws.com"
    assert "/authorizers/" in grant["SourceArn"]["Fn::Join"][1]
