"""Event consumers, exercised on a synthetic Chalice app until the real app has some: one
function each, queues with DLQs and partial batch responses, the table's stream, default-bus
rules, and the cases infra refuses (on_s3_event, undeclared access)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from chalice import Blueprint, Chalice, Rate

from chalicelib.core import resources
from chalicelib.core.permissions import SIGNING_KEYS_READ, TABLE_INDEX_READ, TABLE_READ, TABLE_WRITE, Access
from infra import checks
from infra.app import build
from infra.model import UnsupportedByInfra, plan
from tests.infra.conftest import (
    Synthesized,
    function_set_drift,
    functions_by_name,
    of_type,
    place_routes,
    referenced_ids,
    role_statements,
    synthesize,
    synthetic_contexts,
)
from tests.infra.test_template import check_policies, only, platform_ids

pytestmark = pytest.mark.integration

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/placeholder/stream/2024-01-01T00:00:00.000"
MEDIACONVERT = {"source": ["aws.mediaconvert"], "detail-type": ["MediaConvert Job State Change"]}

# Declarations on the platform resources no real function makes yet (chalicelib.core.permissions has no
# constants for them): the symbolic names infra must map.
UPLOADS_READ = Access("s3", ("GetObject",), resources.UPLOADS_BUCKET.permission)
MEDIA_WRITE = Access("s3", ("PutObject", "ListBucket"), resources.MEDIA_BUCKET.permission)
EVENTS_PUT = Access("events", ("PutEvents",), resources.EVENT_BUS.permission)
PASS_MEDIACONVERT_ROLE = Access("iam", ("PassRole",), resources.MEDIACONVERT_ROLE.permission)
PASS_MEDIALIVE_ROLE = Access("iam", ("PassRole",), resources.MEDIALIVE_ROLE.permission)


# The synthetic app's one context: its handlers are this module's functions under that name.
CONTEXT_MODULE = "chalicelib.things.api.synthetic"


def synthetic_app() -> tuple[Chalice, dict[str, frozenset[Any]]]:
    app = Blueprint(CONTEXT_MODULE)

    @app.authorizer(ttl_seconds=30)
    def token_authorizer(auth_request: Any) -> Any:
        return None

    @app.route("/things", methods=["GET"], authorizer=token_authorizer)
    def list_things() -> Any:
        return []

    @app.route("/things/{thingId}", methods=["PUT"], authorizer=token_authorizer)
    def put_thing(thingId: str) -> Any:
        return {}

    @app.on_sqs_message(queue="uploads", batch_size=5)
    def on_upload(event: Any) -> Any:
        return {"batchItemFailures": []}

    @app.on_dynamodb_record(stream_arn=STREAM_ARN, starting_position="TRIM_HORIZON")
    def publish_outbox(event: Any) -> Any:
        return {"batchItemFailures": []}

    @app.on_cw_event(MEDIACONVERT)
    def on_job_state(event: Any) -> None:
        return None

    @app.schedule(Rate(5, unit=Rate.MINUTES))
    def sweep(event: Any) -> None:
        return None

    @app.lambda_function()
    def deliver(event: Any, context: Any) -> None:
        return None

    # The REQUEST authorizer of resources.DIRECT_UPLOAD_ROUTES, which every stack deploys.
    @app.lambda_function(name=resources.UPLOAD_AUTHORIZER)
    def authorize_upload(event: Any, context: Any) -> None:
        return None

    registry = {
        "token_authorizer": frozenset({TABLE_READ, SIGNING_KEYS_READ}),
        "list_things": frozenset({TABLE_READ, TABLE_INDEX_READ}),
        "put_thing": frozenset({TABLE_READ, TABLE_WRITE}),
        "on_upload": frozenset({TABLE_WRITE, UPLOADS_READ, PASS_MEDIACONVERT_ROLE}),
        "publish_outbox": frozenset({TABLE_READ, EVENTS_PUT}),
        "on_job_state": frozenset({TABLE_WRITE, MEDIA_WRITE}),
        "sweep": frozenset({TABLE_WRITE, PASS_MEDIALIVE_ROLE}),
        "deliver": frozenset({TABLE_READ}),
        resources.UPLOAD_AUTHORIZER: frozenset({TABLE_READ, TABLE_WRITE}),
    }
    chalice_app = Chalice(app_name="synthetic")
    chalice_app.register_blueprint(app)
    return place_routes(chalice_app, CONTEXT_MODULE), registry


@pytest.fixture(scope="module")
def dummy_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("code") / "code.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "app = None\n")
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory, dummy_zip: Path) -> tuple[Chalice, Synthesized]:
    app, registry = synthetic_app()
    with synthetic_contexts():
        synthesized = synthesize(
            tmp_path_factory.mktemp("synthetic.out"), chalice_app=app, registry=registry, code_zip=dummy_zip
        )
    return app, synthesized


def test_one_function_per_route_consumer_authorizer_and_lambda(synthetic: tuple[Chalice, Synthesized]) -> None:
    app, synthesized = synthetic
    assert function_set_drift(app, synthesized.template) == (set(), set())
    assert set(functions_by_name(synthesized.template)) == {
        "token_authorizer",
        "list_things",
        "put_thing",
        "on_upload",
        "publish_outbox",
        "on_job_state",
        "sweep",
        "deliver",
        resources.UPLOAD_AUTHORIZER,
    }


def test_policies_follow_the_registry_plus_each_consumers_own_trigger(synthetic: tuple[Chalice, Synthesized]) -> None:
    app, synthesized = synthetic
    _, registry = synthetic_app()
    check_policies(synthesized.template, registry, {source.name for source in app.event_sources})


def test_platform_resources_map_to_their_arns(synthetic: tuple[Chalice, Synthesized]) -> None:
    """uploads-bucket / media-bucket: the bucket and its objects; event-bus: the bus; a role: the role,
    passed only to its own service."""
    _, synthesized = synthetic
    template = synthesized.template
    ids = platform_ids(template)
    functions = functions_by_name(template)

    def statements(name: str) -> list[dict[str, Any]]:
        role_id = template["Resources"][functions[name]]["Properties"]["Role"]["Fn::GetAtt"][0]
        return role_statements(template, role_id)

    def bucket(permission: str) -> list[Any]:
        arn = {"Fn::GetAtt": [ids[permission], "Arn"]}
        return [arn, {"Fn::Join": ["", [arn, "/*"]]}]

    assert {"Action": "s3:GetObject", "Effect": "Allow", "Resource": bucket("uploads-bucket")} in statements(
        "on_upload"
    )
    assert {
        "Action": ["s3:ListBucket", "s3:PutObject"],
        "Effect": "Allow",
        "Resource": bucket("media-bucket"),
    } in statements("on_job_state")
    assert {
        "Action": "events:PutEvents",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [ids["event-bus"], "Arn"]},
    } in statements("publish_outbox")
    for name, definition in (("on_upload", resources.MEDIACONVERT_ROLE), ("sweep", resources.MEDIALIVE_ROLE)):
        assert {
            "Action": "iam:PassRole",
            "Condition": {"StringEquals": {"iam:PassedToService": definition.service_principal}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [ids[definition.permission], "Arn"]},
        } in statements(name)
    # Nothing undeclared: the real app's functions declare none of these yet.
    assert not [s for s in statements("deliver") if str(s["Action"]).startswith(("s3:", "events:", "iam:"))]


def mapping_for(synthesized: Synthesized, name: str) -> dict[str, Any]:
    function_id = functions_by_name(synthesized.template)[name]
    mappings = {
        k: v
        for k, v in of_type(synthesized.template, "AWS::Lambda::EventSourceMapping").items()
        if function_id in referenced_ids(v["Properties"]["FunctionName"])
    }
    _, mapping = only(mappings)
    properties: dict[str, Any] = mapping["Properties"]
    return properties


def test_sqs_consumer_gets_its_queue_dlq_and_partial_batch_responses(synthetic: tuple[Chalice, Synthesized]) -> None:
    _, synthesized = synthetic
    mapping = mapping_for(synthesized, "on_upload")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 5
    (queue_id,) = referenced_ids(mapping["EventSourceArn"])
    queue = synthesized.resources[queue_id]["Properties"]
    (dlq_id,) = referenced_ids(queue["RedrivePolicy"]["deadLetterTargetArn"])
    assert queue["SqsManagedSseEnabled"] is True
    consumer = synthesized.resources[functions_by_name(synthesized.template)["on_upload"]]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * consumer["Timeout"]
    assert any(
        dlq_id in referenced_ids(alarm["Properties"].get("Dimensions", []))
        for alarm in of_type(synthesized.template, "AWS::CloudWatch::Alarm").values()
    ), "no DLQ depth alarm"


def test_stream_consumer_reads_the_tables_stream(synthetic: tuple[Chalice, Synthesized]) -> None:
    _, synthesized = synthetic
    mapping = mapping_for(synthesized, "publish_outbox")
    table_id, _ = only(of_type(synthesized.template, "AWS::DynamoDB::Table"))
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert "OnFailure" in mapping["DestinationConfig"]


def test_event_rules_are_on_the_default_bus_with_a_dlq(synthetic: tuple[Chalice, Synthesized]) -> None:
    _, synthesized = synthetic
    functions = functions_by_name(synthesized.template)
    rules = {
        name: rule["Properties"]
        for rule in of_type(synthesized.template, "AWS::Events::Rule").values()
        for name, function_id in functions.items()
        if function_id in referenced_ids(rule["Properties"]["Targets"])
    }
    assert rules["on_job_state"]["EventPattern"] == MEDIACONVERT
    assert rules["sweep"]["ScheduleExpression"] == "rate(5 minutes)"
    for rule in rules.values():
        assert "EventBusName" not in rule
        (target,) = rule["Targets"]
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] >= 1


def test_synthetic_stack_is_lint_and_nag_clean(synthetic: tuple[Chalice, Synthesized]) -> None:
    _, synthesized = synthetic
    assert [str(finding) for finding in checks.nag_findings(synthesized.outdir)] == []
    assert {path.name: [str(p) for p in checks.lint(path)] for path in synthesized.template_paths} == {
        path.name: [] for path in synthesized.template_paths
    }


def test_every_consumer_acknowledgement_is_needed(
    synthetic: tuple[Chalice, Synthesized], tmp_path: Path, dummy_zip: Path
) -> None:
    _, synthesized = synthetic
    app, registry = synthetic_app()
    with mock.patch("infra.common.acknowledge"), synthetic_contexts():
        bare = synthesize(tmp_path / "bare", chalice_app=app, registry=registry, code_zip=dummy_zip)
    raised = {finding.rule for finding in checks.nag_findings(bare.outdir)}
    acknowledged = {suppression.rule for suppression in checks.suppressions(synthesized.template)}
    assert acknowledged <= raised, f"stale acknowledgements: {sorted(acknowledged - raised)}"


def test_on_s3_event_is_refused() -> None:
    app = Chalice(app_name="s3")

    @app.on_s3_event(bucket="uploads")
    def on_object(event: Any) -> None:
        return None

    with pytest.raises(UnsupportedByInfra, match="on_s3_event"):
        plan(app)


def test_direct_upload_routes_need_their_authorizer_function(tmp_path: Path, dummy_zip: Path) -> None:
    app, registry = synthetic_app()
    app.pure_lambda_functions = [fn for fn in app.pure_lambda_functions if fn.name != resources.UPLOAD_AUTHORIZER]
    del registry[resources.UPLOAD_AUTHORIZER]
    with pytest.raises(KeyError, match=resources.UPLOAD_AUTHORIZER), synthetic_contexts():
        build(tmp_path, chalice_app=app, registry=registry, code_zip=dummy_zip)


def test_a_function_without_declared_access_is_refused(tmp_path: Path, dummy_zip: Path) -> None:
    app, registry = synthetic_app()
    del registry["sweep"]
    with pytest.raises(KeyError, match="sweep"), synthetic_contexts():
        build(tmp_path, chalice_app=app, registry=registry, code_zip=dummy_zip)


def test_the_tables_stream_has_one_reader() -> None:
    """DynamoDB Streams throttles a shard read by more than two processes (Lambda's event-source
    mappings count): every other context hears of removals through resources.REMOVAL_ROUTES."""
    from chalice.app import DynamoDBEventConfig

    from app import app

    readers = [source.name for source in app.event_sources if isinstance(source, DynamoDBEventConfig)]
    assert readers == ["publish_outbox"]
