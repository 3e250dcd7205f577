"""The buckets, the media distribution, the event bus and the media services' roles: built from
chalicelib.core.resources, handed to every function by the environment variables named there, and the
same (lifecycle, CORS) as what the devstack creates."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from chalicelib.core import resources
from devstack import emulator
from infra import settings
from tests.infra.conftest import Synthesized, Template, as_list, of_type, referenced_ids, role_statements
from tests.infra.test_template import platform_ids

pytestmark = pytest.mark.integration

# CloudFormation's spelling of S3's CORS rule keys (the S3 API's spelling is what resources uses).
CFN_CORS_KEYS = {
    "ID": "Id",
    "AllowedMethods": "AllowedMethods",
    "AllowedOrigins": "AllowedOrigins",
    "AllowedHeaders": "AllowedHeaders",
    "ExposeHeaders": "ExposedHeaders",
    "MaxAgeSeconds": "MaxAge",
}


def bucket_properties(template: Template, definition: resources.Bucket) -> dict[str, Any]:
    bucket = template["Resources"][platform_ids(template)[definition.permission]]
    assert bucket["Type"] == "AWS::S3::Bucket"
    properties: dict[str, Any] = bucket["Properties"]
    return properties


def lifecycle_as_s3_api(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CloudFormation lifecycle rules in the S3 API's shape (what get_bucket_lifecycle_configuration returns)."""
    converted = []
    for rule in rules:
        item: dict[str, Any] = {
            "ID": rule["Id"],
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "AbortIncompleteMultipartUpload" in rule:
            item["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        if "ExpirationInDays" in rule:
            item["Expiration"] = {"Days": rule["ExpirationInDays"]}
        assert set(rule) <= {"Id", "Status", "Prefix", "AbortIncompleteMultipartUpload", "ExpirationInDays"}, rule
        converted.append(item)
    return converted


def cors_as_s3_api(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    to_s3 = {cfn: api for api, cfn in CFN_CORS_KEYS.items()}
    return [{to_s3[key]: value for key, value in rule.items()} for rule in rules]


# -- buckets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("definition", resources.BUCKETS, ids=lambda d: d.name)
def test_bucket_is_private_encrypted_logged_and_follows_its_definition(
    synthesized: Synthesized, definition: resources.Bucket
) -> None:
    template = synthesized.template
    properties = bucket_properties(template, definition)
    # CloudFormation names the bucket: the only names written down are the devstack's.
    assert "BucketName" not in properties
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (log_bucket_id,) = referenced_ids(properties["LoggingConfiguration"]["DestinationBucketName"])
    assert template["Resources"][log_bucket_id]["Type"] == "AWS::S3::Bucket"
    assert lifecycle_as_s3_api(properties["LifecycleConfiguration"]["Rules"]) == definition.lifecycle["Rules"]
    aborts = [rule.get("AbortIncompleteMultipartUpload") for rule in properties["LifecycleConfiguration"]["Rules"]]
    assert {"DaysAfterInitiation": resources.ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS} in aborts
    if definition.cors:
        assert cors_as_s3_api(properties["CorsConfiguration"]["CorsRules"]) == definition.cors["CORSRules"]
    else:
        assert "CorsConfiguration" not in properties
    assert template["Resources"][platform_ids(template)[definition.permission]]["DeletionPolicy"] == "Retain"


def test_every_bucket_refuses_plain_http(synthesized: Synthesized) -> None:
    template = synthesized.template
    buckets = set(of_type(template, "AWS::S3::Bucket"))
    guarded = set()
    for policy in of_type(template, "AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                guarded |= referenced_ids(policy["Properties"]["Bucket"])
    assert guarded == buckets


def test_uploads_bucket_aborts_incomplete_multipart_uploads(synthesized: Synthesized) -> None:
    properties = bucket_properties(synthesized.template, resources.UPLOADS_BUCKET)
    assert properties["LifecycleConfiguration"]["Rules"][0]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": resources.ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS
    }


@pytest.mark.parametrize("definition", resources.BUCKETS, ids=lambda d: d.name)
def test_bucket_matches_what_the_devstack_creates(
    synthesized: Synthesized, moto_aws: None, definition: resources.Bucket
) -> None:
    from devstack.bootstrap import create_bucket

    properties = bucket_properties(synthesized.template, definition)
    client = boto3.client("s3")
    name = create_bucket(client, definition, f"devstack-{definition.name}")
    created_lifecycle = client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert lifecycle_as_s3_api(properties["LifecycleConfiguration"]["Rules"]) == created_lifecycle
    if definition.cors:
        created_cors = client.get_bucket_cors(Bucket=name)["CORSRules"]
        assert cors_as_s3_api(properties["CorsConfiguration"]["CorsRules"]) == created_cors
    else:
        assert "CorsConfiguration" not in properties
    block = client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert block == properties["PublicAccessBlockConfiguration"]


# -- the media distribution --------------------------------------------------------------------


def test_media_bucket_is_served_by_cloudfront_with_origin_access_control(synthesized: Synthesized) -> None:
    template = synthesized.template
    media_id = platform_ids(template)[resources.MEDIA_BUCKET.permission]
    distribution_id, distribution = next(iter(of_type(template, "AWS::CloudFront::Distribution").items()))
    config = distribution["Properties"]["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    (origin,) = [o for o in config["Origins"] if o["Id"] == behavior["TargetOriginId"]]
    assert origin["DomainName"] == {"Fn::GetAtt": [media_id, "RegionalDomainName"]}
    (oac_id,) = referenced_ids(origin["OriginAccessControlId"])
    oac = template["Resources"][oac_id]
    assert oac["Type"] == "AWS::CloudFront::OriginAccessControl"
    assert oac["Properties"]["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert set(behavior["AllowedMethods"]) <= {"GET", "HEAD", "OPTIONS"}
    assert "Bucket" in config["Logging"]
    # Only CloudFront (this distribution) may read the media bucket.
    (policy,) = [
        p
        for p in of_type(template, "AWS::S3::BucketPolicy").values()
        if referenced_ids(p["Properties"]["Bucket"]) == {media_id}
    ]
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    # Besides CloudFront's read, only IVS's composite writer may put room recordings (infra.shared).
    (allow,) = [s for s in allows if s.get("Sid") != "IvsCompositeWrite"]
    (composite,) = [s for s in allows if s.get("Sid") == "IvsCompositeWrite"]
    assert set(as_list(composite["Action"])) == {"s3:PutObject", "s3:PutObjectAcl"}
    assert composite["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    assert "aws:SourceAccount" in composite["Condition"]["StringEquals"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert as_list(allow["Action"]) == ["s3:GetObject"]
    assert distribution_id in referenced_ids(allow["Condition"])
    # Players' CORS at the edge comes from the same definition as the bucket's.
    (headers_id,) = referenced_ids(behavior["ResponseHeadersPolicyId"])
    headers = template["Resources"][headers_id]["Properties"]["ResponseHeadersPolicyConfig"]
    (rule,) = (resources.MEDIA_BUCKET.cors or {})["CORSRules"]
    cors = headers["CorsConfig"]
    assert cors["AccessControlAllowOrigins"]["Items"] == rule["AllowedOrigins"]
    assert set(rule["AllowedMethods"]) <= set(cors["AccessControlAllowMethods"]["Items"])
    assert cors["AccessControlExposeHeaders"]["Items"] == rule["ExposeHeaders"]
    assert cors["AccessControlMaxAgeSec"] == rule["MaxAgeSeconds"]
    assert "StrictTransportSecurity" in headers["SecurityHeadersConfig"]
    assert template["Outputs"]["MediaDomain"]["Value"] == {"Fn::GetAtt": [distribution_id, "DomainName"]}


def test_the_media_domain_forwards_the_embed_page_and_oembed_to_the_api(synthesized: Synthesized) -> None:
    """assets.player is <media domain>/embed/vod/{id}: CloudFront sends /embed/* and /oembed to the
    API's stage (infra.player), where the playback context's public routes answer."""
    template = synthesized.template
    (api_id,) = of_type(template, "AWS::ApiGateway::RestApi")
    _, distribution = next(iter(of_type(template, "AWS::CloudFront::Distribution").items()))
    config = distribution["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviors) == {f"{settings.PLAYER_PATH}/*", "/oembed"}
    for behavior in behaviors.values():
        origin = origins[behavior["TargetOriginId"]]
        assert api_id in referenced_ids(origin["DomainName"])
        assert origin["OriginPath"] == f"/{settings.API_STAGE}"
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
        # The header the API believes the viewer's country by: the secret, resolved at deploy.
        (header,) = origin["OriginCustomHeaders"]
        assert header["HeaderName"] == resources.CDN_ORIGIN_HEADER
        value = json.dumps(header["HeaderValue"])
        assert "{{resolve:secretsmanager:" in value and "CdnOriginSecret" in value
        assert behavior["ViewerProtocolPolicy"] == "https-only"
        assert set(behavior["AllowedMethods"]) <= {"GET", "HEAD", "OPTIONS"}
        (headers_id,) = referenced_ids(behavior["ResponseHeadersPolicyId"])
        security = template["Resources"][headers_id]["Properties"]["ResponseHeadersPolicyConfig"][
            "SecurityHeadersConfig"
        ]
        # Embedding is the page's purpose: no X-Frame-Options here (the media objects keep DENY).
        assert "FrameOptions" not in security and "StrictTransportSecurity" in security
    (cache_id,) = referenced_ids(behaviors["/oembed"]["CachePolicyId"])
    keys = template["Resources"][cache_id]["Properties"]["CachePolicyConfig"][
        "ParametersInCacheKeyAndForwardedToOrigin"
    ]
    assert set(keys["QueryStringsConfig"]["QueryStrings"]) == {"url", "maxwidth", "maxheight", "format"}
    # The project's geo restriction: the viewer's country keys the cache and reaches the API.
    geo = {"HeaderBehavior": "whitelist", "Headers": ["CloudFront-Viewer-Country"]}
    assert keys["HeadersConfig"] == geo
    # A private video's page: its credentials reach the API, and the embedding site's Referer too.
    page = behaviors[f"{settings.PLAYER_PATH}/*"]
    (cache_id,) = referenced_ids(page["CachePolicyId"])
    keys = template["Resources"][cache_id]["Properties"]["CachePolicyConfig"][
        "ParametersInCacheKeyAndForwardedToOrigin"
    ]
    assert set(keys["QueryStringsConfig"]["QueryStrings"]) == {"token", "avh"}
    assert keys["HeadersConfig"] == geo
    (requests_id,) = referenced_ids(page["OriginRequestPolicyId"])
    forwarded = template["Resources"][requests_id]["Properties"]["OriginRequestPolicyConfig"]["HeadersConfig"]
    assert forwarded == {"HeaderBehavior": "whitelist", "Headers": ["Referer"]}


# -- the event bus --------------------------------------------------------------------------------


def test_event_bus_is_exported_and_takes_events_from_this_account_only(synthesized: Synthesized) -> None:
    template = synthesized.template
    bus_id = platform_ids(template)[resources.EVENT_BUS.permission]
    bus = template["Resources"][bus_id]
    assert bus["Type"] == "AWS::Events::EventBus"
    assert bus["Properties"]["Name"] == f"{synthesized.stack.stack_name}-{resources.EVENT_BUS.name}"
    outputs = template["Outputs"]
    assert outputs["EventBusArn"]["Value"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert outputs["EventBusName"]["Value"] == {"Ref": bus_id}
    assert "Export" in outputs["EventBusArn"] and "Export" in outputs["EventBusName"]
    (policy,) = of_type(template, "AWS::Events::EventBusPolicy").values()
    assert referenced_ids(policy["Properties"]["EventBusName"]) == {bus_id}
    statement = policy["Properties"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "events:PutEvents"
    principal = statement["Principal"]["AWS"]["Fn::Join"][1]
    assert {"Ref": "AWS::AccountId"} in principal and principal[-1] == ":root"
    assert "Condition" not in statement


# -- the media services' roles -----------------------------------------------------------------------


@pytest.mark.parametrize("definition", resources.SERVICE_ROLES, ids=lambda d: d.name)
def test_service_role_is_trusted_by_its_service_and_reaches_only_its_buckets(
    synthesized: Synthesized, definition: resources.ServiceRole
) -> None:
    template = synthesized.template
    ids = platform_ids(template)
    role_id = ids[definition.permission]
    role = template["Resources"][role_id]
    assert role["Type"] == "AWS::IAM::Role"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": definition.service_principal}
    assert trust["Action"] == "sts:AssumeRole"
    assert not role["Properties"].get("ManagedPolicyArns")
    granted: dict[str, set[str]] = {}
    by_name = {bucket.name: ids[bucket.permission] for bucket in resources.BUCKETS}
    prefixes = {by_name[name]: prefix for name, prefix in definition.object_prefixes.items()}
    for statement in role_statements(template, role_id):
        assert statement["Effect"] == "Allow"
        (resource,) = as_list(statement["Resource"])
        if definition is resources.MEDIALIVE_ROLE and statement["Action"] == "secretsmanager:GetSecretValue":
            continue  # live events' SRT passphrase, that secret only (tests/infra/test_live_event_srt.py)
        (bucket_id,) = referenced_ids(resource)
        keys = f"/{prefixes.get(bucket_id, '')}*"
        assert resource == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, keys]]}
        granted.setdefault(bucket_id, set()).update(as_list(statement["Action"]))
    assert granted == {
        by_name[bucket]: {f"s3:{action}" for action in actions} for bucket, actions in definition.object_access.items()
    }


def test_outputs(synthesized: Synthesized) -> None:
    outputs = synthesized.template["Outputs"]
    assert {"ApiUrl", "MediaDomain", "EventBusArn", "UploadsBucket", "MediaBucket"} <= set(outputs)
    ids = platform_ids(synthesized.template)
    assert outputs["UploadsBucket"]["Value"] == {"Ref": ids[resources.UPLOADS_BUCKET.permission]}
    assert outputs["MediaBucket"]["Value"] == {"Ref": ids[resources.MEDIA_BUCKET.permission]}


# -- the devstack's environment ------------------------------------------------------------------------


def test_devstack_environment_names_every_resource(moto_aws: None) -> None:
    from devstack.bootstrap import create_bucket, create_event_bus

    env = emulator.aws_environment("http://127.0.0.1:1")
    expected = {
        resources.TABLE_ENV,
        resources.SIGNING_SECRET_ENV,
        resources.EVENT_BUS.env,
        *(bucket.env for bucket in resources.BUCKETS),
        *(role.env for role in resources.SERVICE_ROLES),
    }
    assert expected <= set(env)
    s3 = boto3.client("s3")
    for bucket in resources.BUCKETS:
        assert create_bucket(s3, bucket) == env[bucket.env]
    arn = create_event_bus(boto3.client("events"))
    assert arn.endswith(f":event-bus/{env[resources.EVENT_BUS.env]}")
    for role in resources.SERVICE_ROLES:
        assert env[role.env] == f"arn:aws:iam::123456789012:role/{resources.APP_NAME}-{role.name}"


def test_project_bus_feeds_the_webhook_queue_and_the_stream_feeds_the_publisher(synthesized: Synthesized) -> None:
    template = synthesized.template
    ids = platform_ids(template)
    rules = [
        rule["Properties"]
        for rule in of_type(template, "AWS::Events::Rule").values()
        if rule["Properties"].get("EventBusName") == {"Ref": ids[resources.EVENT_BUS.permission]}
    ]
    routes = [(resources.WEBHOOK_EVENTS_QUEUE, resources.WEBHOOK_RULE_PATTERN)]
    routes += [(route.queue, route.pattern) for route in (*resources.REMOVAL_ROUTES, *resources.BUS_ROUTES)]
    assert len(rules) == len(routes)
    for queue, pattern in routes:
        arn = {"Fn::GetAtt": [ids[queue.permission], "Arn"]}
        (rule,) = [rule for rule in rules if rule["EventPattern"] == pattern and rule["Targets"][0]["Arn"] == arn]
        target = rule["Targets"][0]
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    mappings = [m["Properties"] for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()]
    table_id = next(iter(of_type(template, "AWS::DynamoDB::Table")))
    stream = {"Fn::GetAtt": [table_id, "StreamArn"]}
    from_stream = [m for m in mappings if m["EventSourceArn"] == stream]
    assert from_stream and all(m["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in from_stream)
    # The outbox publisher is invoked only for what it publishes, as the devstack's poller does.
    patterns = [{"Pattern": json.dumps(pattern, separators=(",", ":"))} for pattern in resources.TABLE_STREAM_FILTERS]
    assert [m.get("FilterCriteria") for m in from_stream] == [{"Filters": patterns}] * len(from_stream)


def test_devstack_routes_bus_events_to_the_webhook_queue(moto_aws: None) -> None:
    import json

    from devstack.bootstrap import bootstrap

    bootstrap()
    sqs = boto3.client("sqs")
    boto3.client("events").put_events(
        Entries=[{"Source": resources.EVENT_SOURCE, "DetailType": "video.created", "Detail": json.dumps({"x": 1}),
                  "EventBusName": emulator.EVENT_BUS_NAME}]
    )  # fmt: skip
    url = sqs.get_queue_url(QueueName=resources.WEBHOOK_EVENTS_QUEUE.name)["QueueUrl"]
    body = json.loads(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])
    assert body["detail-type"] == "video.created" and body["detail"] == {"x": 1}
