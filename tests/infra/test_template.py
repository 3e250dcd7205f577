"""The synthesized template against the code: functions, roles, permissions, API wiring, the
table the devstack creates, gateway responses, cfn-lint and cdk-nag."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import zipfile
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from chalice import Chalice

from chalicelib.core import resources
from chalicelib.core.api.http import cors_preflight
from chalicelib.platform.domain.tokens import SigningKeySet
from infra import checks, edge, keys, settings
from infra.analytics import CATALOG as ANALYTICS_CATALOG
from infra.analytics import STREAM as ANALYTICS_STREAM
from infra.analytics import WORKGROUP as ANALYTICS_WORKGROUP
from infra.api import DIRECT_UPLOAD_METADATA
from infra.context_stack import LIVE_EVENTS_CONTEXT
from infra.functions import (
    INCIDENT_ALARMS,
    IVS,
    IVS_COMPOSITIONS,
    IVS_STAGES,
    MEDIACONVERT,
    MEDIALIVE,
    UNSCOPED_ACTIONS,
)
from infra.health_push import STAGE as HEALTH_PUSH_STAGE
from infra.model import UnsupportedByInfra, plan
from infra.relays import RELAY_ROLES, RELAYS, RELAYS_CONTEXT
from infra.shared import NOTIFICATIONS_HANDLER_PREFIX
from tests.infra.conftest import (
    Synthesized,
    Template,
    as_list,
    expected_function_names,
    function_set_drift,
    functions_by_name,
    of_type,
    place_routes,
    referenced_ids,
    resource_path,
    role_statements,
    synthesize,
)

pytestmark = pytest.mark.integration

BASELINE_LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# What a Lambda event source mapping or on-failure destination needs from the function's role.
TRIGGER_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:SendMessage",
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}


def only(items: Mapping[str, Any]) -> tuple[str, Any]:
    assert len(items) == 1, f"expected exactly one, got {sorted(items)}"
    return next(iter(items.items()))


def secret(template: Template, construct_id: str) -> tuple[str, Any]:
    """The secret of that construct id: SigningKeys (access tokens), PlaybackSessionKeys,
    CdnOriginSecret or LivePlaybackKeySecret; besides them only the live context's LiveEventSrtPassphrase
    (tests/infra/test_live_event_srt.py)."""
    secrets = of_type(template, "AWS::SecretsManager::Secret")
    assert len([k for k in secrets if not k.startswith("LiveEventSrt")]) == 4, sorted(secrets)
    return only({k: v for k, v in secrets.items() if k.startswith(construct_id)})


# The symbolic resources of chalicelib.core.permissions that infra maps to ARNs.
SYMBOLIC = {
    "table",
    "table-indexes",
    "signing-secret",
    resources.PLAYBACK_SESSION_SECRET,
    resources.CDN_ORIGIN_SECRET,
    resources.LIVE_PLAYBACK_KEY_SECRET,
    resources.PLAYBACK_EDGE_STORE,
    resources.EVENT_BUS.permission,
    *(bucket.permission for bucket in resources.BUCKETS),
    *(role.permission for role in resources.SERVICE_ROLES),
    *(queue.permission for queue in resources.QUEUES),
    MEDIACONVERT,
    IVS,
    IVS_STAGES,
    IVS_COMPOSITIONS,
    MEDIALIVE,
    INCIDENT_ALARMS,
    ANALYTICS_STREAM,
    ANALYTICS_WORKGROUP,
    ANALYTICS_CATALOG,
    RELAYS,
    RELAY_ROLES,
    resources.LIVE_EVENT_HEALTH_API,
}
# This account's MediaConvert resources in this region (queues, presets, job templates, jobs).
MEDIACONVERT_ARN = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":mediaconvert:", {"Ref": "AWS::Region"}, ":",
         {"Ref": "AWS::AccountId"}, ":*"],
    ]
}  # fmt: skip


def _ivs_arn(kind: str) -> dict[str, Any]:
    """This account's IVS channels, stream keys or stages in this region (created at run time)."""
    return _arn("ivs", f"{kind}/*")


def _arn(service: str, resource: str) -> dict[str, Any]:
    """A resource of this account in this region, by name, as the template spells it."""
    return {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, f":{service}:", {"Ref": "AWS::Region"}, ":",
             {"Ref": "AWS::AccountId"}, f":{resource}"],
        ]
    }  # fmt: skip


def analytics_arns(template: Template) -> list[tuple[dict[str, Any], str]]:
    """The ARNs of the event store's resources, named as the template builds them (infra.analytics):
    a policy that names anything else is not classified, so a policy and a resource that drift apart fail."""
    if not of_type(template, "AWS::KinesisFirehose::DeliveryStream"):
        return []  # an app without the analytics context (tests/infra's synthetic apps)
    _, stream = only(of_type(template, "AWS::KinesisFirehose::DeliveryStream"))
    _, workgroup = only(of_type(template, "AWS::Athena::WorkGroup"))
    _, database = only(of_type(template, "AWS::Glue::Database"))
    database_name = database["Properties"]["DatabaseInput"]["Name"]
    tables = of_type(template, "AWS::Glue::Table").values()  # the raw events and their hourly rollup
    assert all(table["Properties"]["DatabaseName"] == database_name for table in tables)
    return [
        (_arn("firehose", f"deliverystream/{stream['Properties']['DeliveryStreamName']}"), ANALYTICS_STREAM),
        (_arn("athena", f"workgroup/{workgroup['Properties']['Name']}"), ANALYTICS_WORKGROUP),
        (_arn("glue", "catalog"), ANALYTICS_CATALOG),
        (_arn("glue", f"database/{database_name}"), ANALYTICS_CATALOG),
        *(
            (_arn("glue", f"table/{database_name}/{table['Properties']['TableInput']['Name']}"), ANALYTICS_CATALOG)
            for table in tables
        ),
    ]


def platform_ids(template: Template) -> dict[str, str]:
    """Logical id of each bucket, the event bus and each service role, keyed by its symbolic resource,
    found through the environment variable chalicelib.core.resources names (every function has the same)."""
    function_id = next(iter(functions_by_name(template).values()))
    env = template["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    ids = {bucket.permission: env[bucket.env]["Ref"] for bucket in resources.BUCKETS}
    ids[resources.EVENT_BUS.permission] = env[resources.EVENT_BUS.env]["Ref"]
    ids.update({role.permission: env[role.env]["Fn::GetAtt"][0] for role in resources.SERVICE_ROLES})
    ids.update({queue.permission: env[queue.env]["Ref"] for queue in resources.QUEUES})
    return ids


def classify(resource: Any, template: Template, log_group_id: str) -> str:
    """A statement's Resource in the symbolic vocabulary of chalicelib.core.permissions (or a baseline name)."""
    table_id, _ = only(of_type(template, "AWS::DynamoDB::Table"))
    secret_id, _ = secret(template, "SigningKeys")
    playback_secret_id, _ = secret(template, "PlaybackSessionKeys")
    origin_secret_id, _ = secret(template, "CdnOriginSecret")
    live_key_secret_id, _ = secret(template, "LivePlaybackKeySecret")
    store_id, _ = only(of_type(template, "AWS::CloudFront::KeyValueStore"))
    queues = set(of_type(template, "AWS::SQS::Queue"))
    if resource == "*":
        return "*"
    for symbol, logical_id in platform_ids(template).items():
        arn = {"Fn::GetAtt": [logical_id, "Arn"]}
        if resource in (arn, {"Fn::Join": ["", [arn, "/*"]]}):
            return symbol
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}
    exact = [
        (table_arn, "table"),
        ({"Fn::Join": ["", [table_arn, "/index/*"]]}, "table-indexes"),
        ({"Ref": secret_id}, "signing-secret"),
        ({"Ref": playback_secret_id}, resources.PLAYBACK_SESSION_SECRET),
        ({"Ref": origin_secret_id}, resources.CDN_ORIGIN_SECRET),
        ({"Ref": live_key_secret_id}, resources.LIVE_PLAYBACK_KEY_SECRET),
        ({"Fn::GetAtt": [store_id, "Arn"]}, resources.PLAYBACK_EDGE_STORE),
        (MEDIACONVERT_ARN, MEDIACONVERT),
        (_ivs_arn("channel"), IVS),
        (_ivs_arn("stream-key"), IVS),
        (_ivs_arn("recording-configuration"), IVS),
        (_ivs_arn("stage"), IVS_STAGES),
        (_ivs_arn("composition"), IVS_COMPOSITIONS),
        *((_arn("medialive", f"{kind}:*"), MEDIALIVE) for kind in ("channel", "input", "inputSecurityGroup")),
        (_arn("cloudwatch", f"alarm:{resources.INCIDENT_ALARM_PREFIX}*"), INCIDENT_ALARMS),
        *(
            ({"Fn::GetAtt": [configuration_id, "Arn"]}, IVS_COMPOSITIONS)
            for kind in ("AWS::IVS::StorageConfiguration", "AWS::IVS::EncoderConfiguration")
            for configuration_id in of_type(template, kind)
        ),
        ({"Fn::GetAtt": [log_group_id, "Arn"]}, "own-logs"),
        ({"Fn::GetAtt": [table_id, "StreamArn"]}, "trigger"),
        *analytics_arns(template),
        # The health push channel's connections (infra.health_push): ManageConnections on its stage.
        *(
            (
                {
                    "Fn::Join": [
                        "",
                        [
                            *_arn("execute-api", "")["Fn::Join"][1],
                            {"Ref": api_id},
                            f"/{HEALTH_PUSH_STAGE}/{method}/@connections/*",
                        ],
                    ]
                },
                resources.LIVE_EVENT_HEALTH_API,
            )
            for api_id in of_type(template, "AWS::ApiGatewayV2::Api")
            for method in ("POST", "DELETE")
        ),
    ]
    for known, symbol in exact:
        if resource == known:
            return symbol
    if isinstance(resource, dict) and referenced_ids(resource) and referenced_ids(resource) <= queues:
        return "trigger"
    return relay_symbol(resource, template) or f"unexpected {json.dumps(resource)}"


def relay_symbol(resource: Any, template: Template) -> str | None:
    """The restream relays' task definition, the tasks and container instances of their cluster
    (infra.relays), and the two roles the task runs with."""
    task_id, task = only(of_type(template, "AWS::ECS::TaskDefinition"))
    cluster_id, _ = only(of_type(template, "AWS::ECS::Cluster"))
    task_roles = [task["Properties"][key] for key in ("TaskRoleArn", "ExecutionRoleArn")]
    if resource in task_roles:
        return RELAY_ROLES
    cluster_arn = re.compile(
        r"arn:\{Ref:AWS::Partition\}:ecs:\{Ref:AWS::Region\}:\{Ref:AWS::AccountId\}:"
        r"(task|container-instance)/\{Ref:" + cluster_id + r"\}/\*"
    )
    flat = "".join(
        part if isinstance(part, str) else "{Ref:" + str(part.get("Ref")) + "}"
        for part in (resource.get("Fn::Join", ["", []])[1] if isinstance(resource, dict) else [])
    )
    if resource == {"Ref": task_id} or cluster_arn.fullmatch(flat):
        return RELAYS
    return None


def check_policies(template: Template, registry: Mapping[str, frozenset[Any]], consumers: set[str]) -> None:
    """Each function's role grants exactly what REGISTRY declares, plus its own log group, X-Ray, and
    (consumers only) what its event source mapping needs on its own queue or stream."""
    for name, function_id in functions_by_name(template).items():
        properties = template["Resources"][function_id]["Properties"]
        role_id = properties["Role"]["Fn::GetAtt"][0]
        log_group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
        granted: dict[str, set[str]] = defaultdict(set)
        for statement in role_statements(template, role_id):
            assert statement["Effect"] == "Allow"
            assert "NotAction" not in statement and "NotResource" not in statement
            symbols = [classify(resource, template, log_group_id) for resource in as_list(statement["Resource"])]
            if IVS_COMPOSITIONS in symbols:  # a composition starts on a stage: stage/* is part of that grant
                symbols = [IVS_COMPOSITIONS if symbol == IVS_STAGES else symbol for symbol in symbols]
            for symbol in symbols:
                granted[symbol].update(as_list(statement["Action"]))
        declared: dict[str, set[str]] = defaultdict(set)
        for access in registry[name]:
            declared[access.resource].update(access.iam_actions())
            # Actions IAM authorizes only on "*" count for the resource that declares them.
            for action in set(access.iam_actions()) & UNSCOPED_ACTIONS & granted.get("*", set()):
                granted[access.resource].add(action)
        if "*" in granted:
            granted["*"] -= UNSCOPED_ACTIONS
        symbolic = {key: value for key, value in granted.items() if key in SYMBOLIC}
        assert symbolic == declared, name
        assert granted.pop("own-logs") == BASELINE_LOGS, name
        wildcard = granted.pop("*", set())
        assert wildcard >= XRAY, name
        assert wildcard - XRAY <= ({"dynamodb:ListStreams"} if name in consumers else set()), name
        trigger = granted.pop("trigger", set())
        assert not trigger or name in consumers, name
        assert trigger <= TRIGGER_ACTIONS, name
        assert set(granted) <= set(symbolic), f"{name}: {sorted(granted)}"


# -- the function set ---------------------------------------------------------------------


def test_function_set_equals_routes_consumers_and_authorizers(synthesized: Synthesized, chalice_app: Any) -> None:
    missing, extra = function_set_drift(chalice_app, synthesized.template)
    assert (missing, extra) == (set(), set())
    # Every Lambda function in the template is one of the app's (no shared or stray functions), but
    # for CDK's handler that writes the uploads bucket's notification configuration at deploy time
    # and the live playback key's custom resource (infra/live_playback_key.py).
    others = set(of_type(synthesized.template, "AWS::Lambda::Function")) - set(
        functions_by_name(synthesized.template).values()
    )
    others = {other for other in others if not other.startswith("LivePlaybackKeyFunction")}
    assert len(others) == 1 and next(iter(others)).startswith(NOTIFICATIONS_HANDLER_PREFIX)
    assert len(functions_by_name(synthesized.template)) == len(expected_function_names(chalice_app))


def test_a_route_added_without_infra_is_caught(synthesized: Synthesized, chalice_app: Any) -> None:
    clone = copy.copy(chalice_app)
    clone.routes = defaultdict(dict, {path: dict(methods) for path, methods in chalice_app.routes.items()})
    clone.handler_map = dict(chalice_app.handler_map)

    @clone.route("/fake-things", methods=["GET"])
    def fake_route() -> dict[str, Any]:
        return {}

    assert function_set_drift(clone, synthesized.template) == ({"fake_route"}, set())
    assert "fake_route" not in {e.view_name for m in chalice_app.routes.values() for e in m.values()}


def test_every_override_names_a_function(chalice_app: Any) -> None:
    names = {spec.name for spec in plan(chalice_app)}
    assert set(settings.OVERRIDES) <= names


# -- roles and permissions -----------------------------------------------------------------


def test_no_role_is_shared(synthesized: Synthesized) -> None:
    template = synthesized.template
    roles = [template["Resources"][fid]["Properties"]["Role"] for fid in functions_by_name(template).values()]
    role_ids = [role["Fn::GetAtt"][0] for role in roles]
    assert len(set(role_ids)) == len(role_ids)
    for role_id in role_ids:
        role = template["Resources"][role_id]["Properties"]
        assert not role.get("ManagedPolicyArns"), role_id
    for policy_id, policy in of_type(template, "AWS::IAM::Policy").items():
        attached = referenced_ids(policy["Properties"].get("Roles", []))
        assert len(attached) == 1, policy_id


def test_no_policy_grants_wildcard_actions(synthesized: Synthesized) -> None:
    template = synthesized.template
    for role_id in of_type(template, "AWS::IAM::Role"):
        for statement in role_statements(template, role_id):
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{role_id}: {action}"
            if "*" in as_list(statement["Resource"]):
                assert set(as_list(statement["Action"])) <= XRAY | {"dynamodb:ListStreams"} | UNSCOPED_ACTIONS, role_id


def test_each_function_is_granted_exactly_what_its_code_declares(
    synthesized: Synthesized, registry: Mapping[str, frozenset[Any]], chalice_app: Any
) -> None:
    consumers = {source.name for source in chalice_app.event_sources}
    check_policies(synthesized.template, registry, consumers)


# -- API Gateway ------------------------------------------------------------------------------


def methods_by_route(
    template: Template, *, direct: bool = False, preflights: bool = False
) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) -> the method's properties: the Chalice routes' (Lambda proxy), or with `direct`
    the direct-to-S3 upload routes' (resources.DIRECT_UPLOAD_ROUTES), or with `preflights` the CORS
    preflights API Gateway answers itself."""
    api_resources = set(of_type(template, "AWS::ApiGateway::Resource"))
    routes = {}
    for method in of_type(template, "AWS::ApiGateway::Method").values():
        if (DIRECT_UPLOAD_METADATA in method.get("Metadata", {})) != direct:
            continue
        if (method["Properties"]["Integration"]["Type"] == "MOCK") != preflights:
            continue
        properties = method["Properties"]
        resource_id = next(iter(referenced_ids(properties["ResourceId"]) & api_resources), None)
        routes[(properties["HttpMethod"], resource_path(template, resource_id))] = properties
    return routes


def test_every_route_is_wired_to_its_own_function(synthesized: Synthesized, chalice_app: Any) -> None:
    template = synthesized.template
    functions = functions_by_name(template)
    methods = methods_by_route(template)
    expected = {
        (entry.method, path): entry for path, entries in chalice_app.routes.items() for entry in entries.values()
    }
    assert set(methods) == set(expected)
    targets = {}
    for route, properties in methods.items():
        integration = properties["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        (target,) = referenced_ids(integration["Uri"]) & set(functions.values())
        assert target == functions[expected[route].view_name], route
        targets[route] = target
    assert len(set(targets.values())) == len(targets), "two routes share a function"


def test_the_routes_pages_call_from_any_origin_have_their_preflight_answered_by_the_gateway(
    synthesized: Synthesized, chalice_app: Any
) -> None:
    preflights = methods_by_route(synthesized.template, preflights=True)
    expected = {
        path: cors_preflight(entries) for path, entries in chalice_app.routes.items() if cors_preflight(entries)
    }
    assert {path for method, path in preflights} == set(expected) >= {"/join", "/join/stats", "/embed/beacons"}
    for (method, path), properties in preflights.items():
        assert method == "OPTIONS" and properties["AuthorizationType"] == "NONE"
        (response,) = properties["Integration"]["IntegrationResponses"]
        headers = {k.removeprefix("method.response.header."): v for k, v in response["ResponseParameters"].items()}
        assert headers == {name: f"'{value}'" for name, value in (expected[path] or {}).items()}
        assert headers["Access-Control-Allow-Origin"] == "'*'"
    # Only credential-less routes: none of them is behind the authorizer.
    assert all(e.authorizer is None for path in expected for e in chalice_app.routes[path].values() if e.cors)


def test_each_function_may_be_invoked_only_by_its_route(synthesized: Synthesized, chalice_app: Any) -> None:
    template = synthesized.template
    functions = functions_by_name(template)
    permissions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for permission in of_type(template, "AWS::Lambda::Permission").values():
        (target,) = referenced_ids(permission["Properties"]["FunctionName"])
        permissions[target].append(permission["Properties"])
    for path, entries in chalice_app.routes.items():
        for entry in entries.values():
            (grant,) = permissions[functions[entry.view_name]]
            assert grant["Principal"] == "apigateway.amazonaws.com"
            suffix = grant["SourceArn"]["Fn::Join"][1][-1]
            arn_path = re.sub(r"\{[^}]*\}", "*", path)
            assert suffix == f"/{settings.API_STAGE}/{entry.method}{arn_path}", (entry.method, path, suffix)
    for config in chalice_app.builtin_auth_handlers:
        (grant,) = permissions[functions[config.name]]
        assert "/authorizers/" in grant["SourceArn"]["Fn::Join"][1]


def test_authorizer_guards_exactly_the_routes_that_declare_it(synthesized: Synthesized, chalice_app: Any) -> None:
    template = synthesized.template
    functions = functions_by_name(template)
    authorizers = {
        k: v for k, v in of_type(template, "AWS::ApiGateway::Authorizer").items() if v["Properties"]["Type"] == "TOKEN"
    }
    assert {v["Properties"]["Name"] for v in authorizers.values()} == {
        a.name for a in chalice_app.builtin_auth_handlers
    }
    for properties in authorizers.values():
        assert properties["Properties"]["Type"] == "TOKEN"
        assert properties["Properties"]["IdentitySource"] == "method.request.header.Authorization"
        assert properties["Properties"]["AuthorizerResultTtlInSeconds"] == resources.AUTHORIZER_RESULT_TTL_SECONDS
    methods = methods_by_route(template)
    for path, entries in chalice_app.routes.items():
        for entry in entries.values():
            method = methods[(entry.method, path)]
            if entry.authorizer is None:
                assert method["AuthorizationType"] == "NONE", path
                continue
            assert method["AuthorizationType"] == "CUSTOM", path
            (authorizer_id,) = referenced_ids(method["AuthorizerId"])
            uri = authorizers[authorizer_id]["Properties"]["AuthorizerUri"]
            assert functions[entry.authorizer.name] in referenced_ids(uri)


def test_gateway_responses_come_from_resources(synthesized: Synthesized) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in of_type(synthesized.template, "AWS::ApiGateway::GatewayResponse").values()
    }
    assert set(responses) == set(resources.GATEWAY_RESPONSES)
    for response_type, expected in resources.GATEWAY_RESPONSES.items():
        assert responses[response_type]["StatusCode"] == str(expected["status"])
        assert responses[response_type]["ResponseTemplates"] == {"application/json": expected["template"]}


def test_stage_has_access_logs_tracing_and_binary_types(synthesized: Synthesized, chalice_app: Any) -> None:
    _, stage = only(of_type(synthesized.template, "AWS::ApiGateway::Stage"))
    properties = stage["Properties"]
    assert properties["StageName"] == settings.API_STAGE
    assert properties["TracingEnabled"] is True
    fields = json.loads(properties["AccessLogSetting"]["Format"])
    assert {"requestId", "status", "resourcePath", "principalId"} <= set(fields)
    assert "Authorization" not in properties["AccessLogSetting"]["Format"]
    assert properties["MethodSettings"][0]["DataTraceEnabled"] is False
    _, api = only(of_type(synthesized.template, "AWS::ApiGateway::RestApi"))
    # The app's binary types, then infra's own (multipart/form-data: SDK uploads) unless the app has them.
    extra = [t for t in settings.EXTRA_BINARY_MEDIA_TYPES if t not in chalice_app.api.binary_types]
    assert "multipart/form-data" in settings.EXTRA_BINARY_MEDIA_TYPES
    assert api["Properties"]["BinaryMediaTypes"] == [*chalice_app.api.binary_types, *extra]


# -- functions ---------------------------------------------------------------------------------


def test_functions_share_one_code_asset_and_are_configured(synthesized: Synthesized, chalice_app: Any) -> None:
    template = synthesized.template
    specs = {spec.name: spec for spec in plan(chalice_app)}
    functions = functions_by_name(template)
    codes = {json.dumps(template["Resources"][fid]["Properties"]["Code"], sort_keys=True) for fid in functions.values()}
    assert len(codes) == 1
    table_id, _ = only(of_type(template, "AWS::DynamoDB::Table"))
    secret_id, _ = secret(template, "SigningKeys")
    playback_secret_id, _ = secret(template, "PlaybackSessionKeys")
    origin_secret_id, _ = secret(template, "CdnOriginSecret")
    live_key_secret_id, _ = secret(template, "LivePlaybackKeySecret")
    store_id, _ = only(of_type(template, "AWS::CloudFront::KeyValueStore"))
    ids = platform_ids(template)
    distribution_id, _ = only(of_type(template, "AWS::CloudFront::Distribution"))
    recording_id, _ = only(of_type(template, "AWS::IVS::RecordingConfiguration"))
    room_storage_id, _ = only(of_type(template, "AWS::IVS::StorageConfiguration"))
    room_encoder_id, _ = only(of_type(template, "AWS::IVS::EncoderConfiguration"))
    media_url = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}
    # The event store's names, as its resources are named (infra.analytics).
    analytics = {
        resources.ANALYTICS_STREAM.env: only(of_type(template, "AWS::KinesisFirehose::DeliveryStream"))[1][
            "Properties"
        ]["DeliveryStreamName"],
        resources.ANALYTICS_DATABASE_ENV: only(of_type(template, "AWS::Glue::Database"))[1]["Properties"][
            "DatabaseInput"
        ]["Name"],
        resources.ANALYTICS_WORKGROUP_ENV: only(of_type(template, "AWS::Athena::WorkGroup"))[1]["Properties"]["Name"],
        resources.ANALYTICS_ROLLUP_ENV: "1",
    }
    relays_task_id, _ = only(of_type(template, "AWS::ECS::TaskDefinition"))
    relays_cluster_id, _ = only(of_type(template, "AWS::ECS::Cluster"))
    for name, function_id in functions.items():
        properties = template["Resources"][function_id]["Properties"]
        size = settings.settings_for(specs[name])
        # The live context's functions start restream relays: where (infra.relays), as JSON.
        variables = dict(properties["Environment"]["Variables"])
        relays = variables.pop(resources.LIVE_RELAYS_ENV, None)
        assert (relays is not None) == (specs[name].context == RELAYS_CONTEXT), name
        # Live events' SRT passphrase secret: the live functions' (tests/infra/test_live_event_srt.py).
        srt = variables.pop(resources.LIVE_EVENT_SRT_SECRET_ENV, None)
        assert (srt is not None) == (specs[name].context == LIVE_EVENTS_CONTEXT), name
        assert relays is None or {relays_task_id, relays_cluster_id} <= referenced_ids(relays), name
        # The health push channel's URLs (infra.health_push): its WebSocket API's, on its stage.
        (push_api_id,) = of_type(template, "AWS::ApiGatewayV2::Api")
        for env, scheme in ((resources.LIVE_EVENT_HEALTH_PUSH_URL_ENV, "wss://"),
                            (resources.LIVE_EVENT_HEALTH_CALLBACK_URL_ENV, "https://")):  # fmt: skip
            parts = variables.pop(env)["Fn::Join"][1]
            assert parts[0] == scheme and parts[1] == {"Ref": push_api_id}, name
            assert parts[-1].endswith(f"/{HEALTH_PUSH_STAGE}"), name
        assert properties["Handler"] == specs[name].handler
        assert properties["Runtime"] == settings.RUNTIME
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["MemorySize"] == size.memory_mb
        assert properties["Timeout"] == size.timeout_seconds
        assert properties.get("ReservedConcurrentExecutions") == size.reserved_concurrency
        assert variables == {
            resources.TABLE_ENV: {"Ref": table_id},
            resources.SIGNING_SECRET_ENV: {"Ref": secret_id},
            **{bucket.env: {"Ref": ids[bucket.permission]} for bucket in resources.BUCKETS},
            resources.EVENT_BUS.env: {"Ref": ids[resources.EVENT_BUS.permission]},
            **analytics,
            **{role.env: {"Fn::GetAtt": [ids[role.permission], "Arn"]} for role in resources.SERVICE_ROLES},
            **{queue.env: {"Ref": ids[queue.permission]} for queue in resources.QUEUES},
            "POWERTOOLS_SERVICE_NAME": settings.POWERTOOLS_SERVICE_NAME,
            **settings.RUNTIME_ENVIRONMENT,
            resources.MEDIA_BASE_URL_ENV: media_url,
            resources.PLAYER_BASE_URL_ENV: {"Fn::Join": ["", [*media_url["Fn::Join"][1], settings.PLAYER_PATH]]},
            resources.PLAYBACK_EDGE_STORE_ENV: {"Fn::GetAtt": [store_id, "Arn"]},
            resources.PLAYBACK_SESSION_SECRET_ENV: {"Ref": playback_secret_id},
            # Never TRUST_VIEWER_COUNTRY_ENV: on AWS the country is believed only through the CDN.
            resources.CDN_ORIGIN_SECRET_ENV: {"Ref": origin_secret_id},
            resources.LIVE_PLAYBACK_KEY_SECRET_ENV: {"Ref": live_key_secret_id},
            resources.LIVE_RECORDING_CONFIGURATION_ENV: {"Fn::GetAtt": [recording_id, "Arn"]},
            resources.ROOM_STORAGE_CONFIGURATION_ENV: {"Fn::GetAtt": [room_storage_id, "Arn"]},
            resources.ROOM_ENCODER_CONFIGURATION_ENV: {"Fn::GetAtt": [room_encoder_id, "Arn"]},
        }
        log_group = template["Resources"][properties["LoggingConfig"]["LogGroup"]["Ref"]]
        assert log_group["Properties"]["RetentionInDays"] > 0
    alarmed = {
        next(iter(referenced_ids(alarm["Properties"].get("Dimensions", []))), None)
        for alarm in of_type(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "Errors"
    }
    assert set(functions.values()) <= alarmed


def test_route_handlers_are_their_contexts_app_and_others_their_own_module(chalice_app: Any) -> None:
    for spec in plan(chalice_app):
        if spec.route is not None:
            entry = chalice_app.routes[spec.route.path][spec.route.method]
            package, context = entry.view_function.__module__.split(".")[:2]
            assert (package, spec.context) == ("chalicelib", context)
            assert spec.handler == f"chalicelib.{context}.handler.app", spec.name
        else:
            module, _, attribute = spec.handler.rpartition(".")
            assert module.startswith(f"chalicelib.{spec.context}.") and attribute == spec.name


def test_a_route_of_a_context_without_a_handler_module_is_refused() -> None:
    app = Chalice(app_name="orphan")

    @app.route("/orphans", methods=["GET"])
    def list_orphans() -> list[Any]:
        return []

    with pytest.raises(UnsupportedByInfra, match=re.escape("chalicelib.orphans.handler")):
        plan(place_routes(app, "chalicelib.orphans.api.orphans"))
    with pytest.raises(UnsupportedByInfra, match="not in a context package"):
        plan(place_routes(app, "app"))


def code_asset(outdir: Path) -> Path:
    """The app's code asset (the other zip is the live playback key's provider, infra/live_playback_key.py)."""
    (asset,) = [
        path for path in outdir.glob("asset.*.zip") if "ivs_key_provider.py" not in zipfile.ZipFile(path).namelist()
    ]
    return asset


def test_every_handler_imports_from_the_code_asset_alone(
    synthesized: Synthesized, chalice_app: Any, tmp_path: Path
) -> None:
    """What Lambda would do: only the standard library and the asset on sys.path (python -S)."""
    asset = code_asset(synthesized.outdir)
    with zipfile.ZipFile(asset) as code:
        code.extractall(tmp_path)
    handlers = sorted({spec.handler for spec in plan(chalice_app)})
    probe = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        f"for handler in {handlers!r}:\n"
        "    module, _, name = handler.rpartition('.')\n"
        "    assert callable(getattr(importlib.import_module(module), name)), handler\n"
        "assert all(m.__file__ is None or m.__file__.startswith(("
        f"{str(tmp_path)!r}, sys.base_prefix)) for m in list(sys.modules.values()) if getattr(m, '__file__', None))\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run(
        [getattr(sys, "_base_executable", sys.executable), "-S", "-E", "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_each_handler_loads_only_its_own_module_and_a_context_app_serves_its_routes(
    synthesized: Synthesized, chalice_app: Any, tmp_path: Path
) -> None:
    """Each handler module alone, in a fresh interpreter on the code asset: it never imports app.py
    (which holds every context), and a context's app has exactly the routes of that context's
    functions (Chalice finds a route by resourcePath and httpMethod in the app the handler names)."""
    asset = code_asset(synthesized.outdir)
    with zipfile.ZipFile(asset) as code:
        assert "app.py" not in code.namelist()
        code.extractall(tmp_path)
    specs = plan(chalice_app)
    probe = (
        "import importlib, json, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "module_name, attribute = sys.argv[1:3]\n"
        "module = importlib.import_module(module_name)\n"
        "assert callable(getattr(module, attribute))\n"
        "assert 'app' not in sys.modules, 'imports app.py'\n"
        "app = getattr(module, attribute)\n"
        "routes = getattr(app, 'routes', {})\n"
        "print(json.dumps(sorted([method, path, entry.view_name] for path, methods in routes.items() "
        "for method, entry in methods.items()) if module_name.endswith('.handler') else []))\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"}
    python = getattr(sys, "_base_executable", sys.executable)
    running = {
        handler: subprocess.Popen(
            [python, "-S", "-E", "-c", probe, *handler.rsplit(".", 1)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for handler in sorted({spec.handler for spec in specs})
    }
    for handler, process in running.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"{handler}: {err}"
        if handler.endswith(".handler.app"):
            expected = sorted(
                [spec.route.method, spec.route.path, spec.name]
                for spec in specs
                if spec.handler == handler and spec.route is not None
            )
            assert json.loads(out) == expected, handler


# -- the table and the secret, against the devstack ---------------------------------------------------


def test_table_matches_what_the_devstack_creates(synthesized: Synthesized, moto_aws: None) -> None:
    from devstack.bootstrap import create_table

    _, table = only(of_type(synthesized.template, "AWS::DynamoDB::Table"))
    properties = table["Properties"]
    client = boto3.client("dynamodb")
    create_table(client, "devstack-table")
    created = client.describe_table(TableName="devstack-table")["Table"]
    ttl = client.describe_time_to_live(TableName="devstack-table")["TimeToLiveDescription"]

    def by_name(items: Any) -> list[Any]:
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))

    assert by_name(properties["AttributeDefinitions"]) == by_name(created["AttributeDefinitions"])
    assert properties["KeySchema"] == created["KeySchema"]
    assert by_name(properties["GlobalSecondaryIndexes"]) == by_name(
        [{k: index[k] for k in ("IndexName", "KeySchema", "Projection")} for index in created["GlobalSecondaryIndexes"]]
    )
    assert properties["BillingMode"] == created["BillingModeSummary"]["BillingMode"]
    assert created["StreamSpecification"]["StreamEnabled"] is True
    assert properties["StreamSpecification"]["StreamViewType"] == created["StreamSpecification"]["StreamViewType"]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": ttl["AttributeName"], "Enabled": True}
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    # And both against the one definition.
    assert properties["KeySchema"] == resources.TABLE["KeySchema"]
    assert ttl["AttributeName"] == resources.TTL_ATTRIBUTE
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_initial_signing_secret_is_seeded_by_the_rotation(synthesized: Synthesized, moto_aws: None) -> None:
    _, signing = secret(synthesized.template, "SigningKeys")
    generator = signing["Properties"]["GenerateSecretString"]
    initial = {**json.loads(generator["SecretStringTemplate"]), generator["GenerateStringKey"]: "x" * 32}
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="videoplane-signing", SecretString=json.dumps(initial))["ARN"]

    class Stacks:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            return {"Stacks": [{"Outputs": [{"OutputKey": keys.SECRET_OUTPUT, "OutputValue": arn}]}]}

    assert keys.secret_arn("videoplane", Stacks()) == arn
    first = keys.seed(arn, client)
    assert keys.seed(arn, client).active_kid == first.active_kid  # seeding again changes nothing
    second = keys.rotate(arn, client)
    stored = SigningKeySet.from_json(json.loads(client.get_secret_value(SecretId=arn)["SecretString"]))
    assert stored.active_kid == second.active_kid != first.active_kid
    assert {key.kid for key in stored.keys} == {first.active_kid, second.active_kid}
    outputs = synthesized.template["Outputs"]
    assert keys.SECRET_OUTPUT in outputs


# -- lint and cdk-nag -----------------------------------------------------------------------------


def test_cfn_lint_is_clean(synthesized: Synthesized) -> None:
    assert len(synthesized.template_paths) > 1, "no nested stack template found"
    assert {path.name: [str(p) for p in checks.lint(path)] for path in synthesized.template_paths} == {
        path.name: [] for path in synthesized.template_paths
    }


def test_cdk_nag_has_no_unacknowledged_findings(synthesized: Synthesized) -> None:
    assert [str(finding) for finding in checks.nag_findings(synthesized.outdir)] == []
    for suppression in checks.suppressions(synthesized.template):
        assert len(suppression.reason) >= 40, suppression


def test_every_acknowledgement_is_needed(synthesized: Synthesized, tmp_path: Path) -> None:
    with mock.patch("infra.common.acknowledge"):
        bare = synthesize(tmp_path / "unacknowledged")
    raised = {finding.rule for finding in checks.nag_findings(bare.outdir)}
    # aws-cdk-lib's own EC2 constructs (the relay VPC reads the stack's availability zones, its
    # flow log) write CloudFormation-Validate acknowledgements for cfn-lint, not ours to prune.
    acknowledged = {
        suppression.rule
        for suppression in checks.suppressions(synthesized.template)
        if not suppression.rule.startswith("CloudFormation-Validate::")
    }
    assert acknowledged <= raised, f"stale acknowledgements: {sorted(acknowledged - raised)}"


# -- the edge check for private videos (infra/edge.py) ---------------------------------------------


def test_the_media_behaviour_checks_playback_sessions_at_the_edge(synthesized: Synthesized) -> None:
    template = synthesized.template
    store_id, _ = only(of_type(template, "AWS::CloudFront::KeyValueStore"))
    function_id, function = only(of_type(template, "AWS::CloudFront::Function"))
    config = function["Properties"]["FunctionConfig"]
    assert config["Runtime"] == "cloudfront-js-2.0"
    assert config["KeyValueStoreAssociations"] == [{"KeyValueStoreARN": {"Fn::GetAtt": [store_id, "Arn"]}}]
    assert function["Properties"]["AutoPublish"] is True
    assert function["Properties"]["FunctionCode"] == edge.FUNCTION_CODE.read_text()
    _, distribution = only(of_type(template, "AWS::CloudFront::Distribution"))
    settings_ = distribution["Properties"]["DistributionConfig"]
    association = {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [function_id, "FunctionARN"]}}
    assert settings_["DefaultCacheBehavior"]["FunctionAssociations"] == [association]
    # The viewer's country reaches the function (an origin request policy), not the cache key.
    default = settings_["DefaultCacheBehavior"]
    (requests_id,) = referenced_ids(default["OriginRequestPolicyId"])
    forwarded = template["Resources"][requests_id]["Properties"]["OriginRequestPolicyConfig"]["HeadersConfig"]
    assert forwarded == {"HeaderBehavior": "whitelist", "Headers": ["CloudFront-Viewer-Country"]}
    # The embed page and oEmbed go to the API: not checked here (the API checks its own tokens).
    assert all("FunctionAssociations" not in behaviour for behaviour in settings_.get("CacheBehaviors", []))


def test_edge_refusals_are_counted_by_reason_from_the_functions_log(synthesized: Synthesized) -> None:
    """One metric filter per refusal reason on the function's log group, which CloudFront writes in
    us-east-1: both exist only when the stack is there (a condition on the region)."""
    template = synthesized.template
    function_id, _ = only(of_type(template, "AWS::CloudFront::Function"))
    group_id, group = only(
        {k: v for k, v in of_type(template, "AWS::Logs::LogGroup").items() if k.startswith("PlaybackCheckLog")}
    )
    name = group["Properties"]["LogGroupName"]
    assert name["Fn::Join"][1][0] == "/aws/cloudfront/function/"
    assert group["Properties"]["RetentionInDays"] > 0
    condition = template["Conditions"][group["Condition"]]
    assert condition == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    filters = of_type(template, "AWS::Logs::MetricFilter")
    counted = {}
    for metric_filter in filters.values():
        properties = metric_filter["Properties"]
        if properties["LogGroupName"] != {"Ref": group_id}:
            continue
        assert metric_filter["Condition"] == group["Condition"]
        (transformation,) = properties["MetricTransformations"]
        assert transformation["MetricNamespace"] == edge.DENIAL_NAMESPACE and transformation["MetricValue"] == "1"
        counted[transformation["MetricName"]] = properties["FilterPattern"]
    assert counted == {
        f"{edge.DENIAL_METRIC_PREFIX}{reason}": f'"playback-denied {reason} "' for reason in edge.EDGE_DENIALS
    }
    # The reasons the function can log are the ones counted.
    code = edge.FUNCTION_CODE.read_text()
    assert {reason for reason in edge.EDGE_DENIALS if f"'{reason}'" in code} == set(edge.EDGE_DENIALS)
    assert function_id


def test_bus_routes_send_their_events_to_their_queue(synthesized: Synthesized) -> None:
    template = synthesized.template
    rules = of_type(template, "AWS::Events::Rule")
    ids = platform_ids(template)
    for route in resources.BUS_ROUTES:
        arn = {"Fn::GetAtt": [ids[route.queue.permission], "Arn"]}
        (target,) = [
            target
            for rule in rules.values()
            if rule["Properties"].get("EventPattern") == route.pattern
            for target in rule["Properties"]["Targets"]
            if target["Arn"] == arn
        ]
        assert "DeadLetterConfig" in target
