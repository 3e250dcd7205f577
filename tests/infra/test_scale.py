"""Room to grow: one nested stack per bounded context, every stack (parent or nested) under
settings.STACK_RESOURCE_BUDGET resources, and the same for a generated app of 300 routes over six
contexts (the two of today and the four announced: live, playback, analytics, rooms)."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from chalice import Blueprint, Chalice

from chalicelib.core.permissions import SIGNING_KEYS_READ, TABLE_READ, TABLE_WRITE
from infra import settings
from infra.api import direct_upload_authorizers
from infra.context_stack import stack_id
from infra.model import FUNCTION_METADATA, plan
from tests.infra.conftest import Synthesized, place_routes, synthesize, synthetic_contexts

pytestmark = pytest.mark.integration

CONTEXTS = ("platform", "vod", "live", "playback", "analytics", "rooms")
ROUTES = 300
# Per context: collections of five routes each (list, create, get, update, delete).
COLLECTIONS = ROUTES // len(CONTEXTS) // 5
# Above this, the generated app's synthesis is too slow for the suite (see the test).
SYNTH_SECONDS = 120


def assert_within_limits(synthesized: Synthesized) -> None:
    sizes = {item.name: (item.resource_count, item.parameter_count) for item in synthesized.stacks}
    over = {
        name: size
        for name, size in sizes.items()
        if size[0] > settings.STACK_RESOURCE_BUDGET or size[1] > settings.CLOUDFORMATION_MAX_PARAMETERS
    }
    assert not over, (
        f"over {settings.STACK_RESOURCE_BUDGET} resources or {settings.CLOUDFORMATION_MAX_PARAMETERS} "
        f"parameters: {over} (all: {sizes})"
    )


def function_stacks(synthesized: Synthesized) -> dict[str, str]:
    """Chalice function name -> the name of the stack whose template holds its Lambda function."""
    return {
        resource["Metadata"][FUNCTION_METADATA]: item.name
        for item in synthesized.stacks
        for resource in item.template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function" and FUNCTION_METADATA in resource.get("Metadata", {})
    }


def test_every_stack_stays_under_the_resource_budget(synthesized: Synthesized) -> None:
    assert_within_limits(synthesized)


def test_one_nested_stack_per_context_holds_its_functions_and_methods(
    synthesized: Synthesized, chalice_app: Any
) -> None:
    specs = plan(chalice_app)
    parent = synthesized.stacks[0].name
    in_parent = {spec.name for spec in specs if spec.kind == "authorizer" or spec.name in direct_upload_authorizers()}
    contexts = {spec.context for spec in specs if spec.name not in in_parent}
    assert contexts >= {"platform", "vod"}
    assert {item.name for item in synthesized.stacks[1:]} == {f"{parent}/{stack_id(c)}" for c in contexts}
    expected = {spec.name: parent if spec.name in in_parent else f"{parent}/{stack_id(spec.context)}" for spec in specs}
    assert function_stacks(synthesized) == expected
    for item in synthesized.stacks[1:]:
        types = {resource["Type"] for resource in item.template["Resources"].values()}
        # What every context shares stays in the parent.
        assert not types & {
            "AWS::ApiGateway::RestApi",
            "AWS::ApiGateway::Resource",
            "AWS::ApiGateway::Authorizer",
            "AWS::ApiGateway::Deployment",
            "AWS::ApiGateway::Stage",
            "AWS::DynamoDB::Table",
            "AWS::S3::Bucket",
            "AWS::Events::EventBus",
            "AWS::SNS::Topic",
        }, item.name
        methods = [r for r in item.template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"]
        for method in methods:
            assert expected[method["Metadata"][FUNCTION_METADATA]] == item.name
    # The stage is deployed after every nested stack (which hold the methods).
    parent_resources = synthesized.stacks[0].template["Resources"]
    (deployment,) = [r for r in parent_resources.values() if r["Type"] == "AWS::ApiGateway::Deployment"]
    nested_ids = {item.resource_id for item in synthesized.stacks[1:]}
    assert nested_ids <= set(deployment.get("DependsOn", []))


def generated_app() -> tuple[Chalice, dict[str, frozenset[Any]]]:
    """ROUTES routes (behind a TOKEN authorizer) and one SQS consumer per context, plus the
    authorizers every stack deploys."""
    app = Chalice(app_name="generated")
    auth = Blueprint("chalicelib.platform.api.authorizer")

    @auth.authorizer(ttl_seconds=30)
    def token_authorizer(auth_request: Any) -> Any:
        return None

    @auth.lambda_function(name="authorize_upload")
    def authorize_upload(event: Any, context: Any) -> None:
        return None

    app.register_blueprint(auth)
    registry: dict[str, frozenset[Any]] = {
        "token_authorizer": frozenset({TABLE_READ, SIGNING_KEYS_READ}),
        "authorize_upload": frozenset({TABLE_READ, TABLE_WRITE}),
    }
    for context in CONTEXTS:
        consumers = Blueprint(f"chalicelib.{context}.consumers.generated")

        def consume(event: Any) -> Any:
            return {"batchItemFailures": []}

        consume.__name__ = f"consume_{context}"
        consumers.on_sqs_message(queue=f"{context}-work", name=consume.__name__)(consume)
        app.register_blueprint(consumers)
        registry[consume.__name__] = frozenset({TABLE_WRITE})
        routes = Chalice(app_name=context)
        for number in range(COLLECTIONS):
            collection = f"/{context}-things-{number}"
            item = f"{collection}/{{thingId}}"
            for method, path, verb in (
                ("GET", collection, "list"),
                ("POST", collection, "create"),
                ("GET", item, "get"),
                ("PATCH", item, "update"),
                ("DELETE", item, "delete"),
            ):
                name = f"{verb}_{context}_thing_{number}"

                def view(**params: str) -> dict[str, Any]:
                    return {}

                view.__name__ = name
                routes.route(path, methods=[method], authorizer=token_authorizer, name=name)(view)
                registry[name] = frozenset({TABLE_READ, TABLE_WRITE})
        place_routes(routes, f"chalicelib.{context}.api.generated")
        for path, methods in routes.routes.items():
            for method, entry in methods.items():
                app.routes[path][method] = entry
    return app, registry


def test_generated_300_routes_over_six_contexts_fit_every_stack(tmp_path: Path) -> None:
    app, registry = generated_app()
    assert sum(len(methods) for methods in app.routes.values()) == ROUTES
    code = tmp_path / "code.zip"
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("chalicelib/__init__.py", "")
    started = time.perf_counter()
    with synthetic_contexts():
        synthesized = synthesize(tmp_path / "cdk.out", chalice_app=app, registry=registry, code_zip=code)
    elapsed = time.perf_counter() - started
    assert len(synthesized.stacks) == 1 + len(CONTEXTS)
    assert_within_limits(synthesized)
    assert elapsed < SYNTH_SECONDS, f"synthesizing {ROUTES} routes took {elapsed:.0f} s"
