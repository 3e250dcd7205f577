"""One synthesized assembly per session, and helpers that read it the way tests/infra needs.

The CDK app is synthesized offline (no AWS credentials) into a temporary cloud assembly; the
code asset comes from the cache in cdk.out/.build (built on first use, a few seconds).

Tests read one flattened template (`Synthesized.template`): the parent's resources and every
nested stack's, with each nested stack's parameters replaced by what the parent passes in. A
nested function's environment then reads `{"Ref": "<parent table id>"}`, as it did when Videoplane
was one stack, and the assertions keep their meaning whichever stack holds a resource.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from chalice import Chalice
from moto import mock_aws

from infra import checks, model
from infra.app import build, load_app
from infra.model import FUNCTION_METADATA

Template = dict[str, Any]


@dataclass
class Synthesized:
    outdir: Path
    # The parent's template, then each nested stack's, as synthesized.
    stacks: list[checks.StackTemplate]
    # All of them flattened into one (see the module's docstring).
    template: Template
    stack: Any

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources

    @property
    def template_paths(self) -> list[Path]:
        return [item.path for item in self.stacks]


def _substitute(value: Any, replacements: Mapping[str, Any], outputs: Mapping[tuple[str, str], Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in replacements:
            return replacements[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            target, attribute = value["Fn::GetAtt"]
            if (target, attribute) in outputs:
                return outputs[(target, attribute)]
        return {key: _substitute(item, replacements, outputs) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, replacements, outputs) for item in value]
    return value


def flatten(stacks: list[checks.StackTemplate]) -> Template:
    """One template with every stack's resources; nested parameters become the parent's values and a
    parent's `Fn::GetAtt [<nested stack>, Outputs.X]` the nested output's value. Logical ids must
    not collide across stacks (each stack names its resources after their construct path)."""
    parent = stacks[0]
    resources: dict[str, Any] = dict(parent.template["Resources"])
    passed: dict[str, Mapping[str, Any]] = {parent.name: {}}
    outputs: dict[tuple[str, str], Any] = {}
    for item in stacks[1:]:
        assert item.parent is not None and item.resource_id is not None
        parameters = stacks_by_name(stacks)[item.parent].template["Resources"][item.resource_id]["Properties"]
        replacements = {
            name: _substitute(value, passed[item.parent], {})
            for name, value in parameters.get("Parameters", {}).items()
        }
        passed[item.name] = replacements
        for logical_id, resource in item.template["Resources"].items():
            assert logical_id not in resources, f"{logical_id} is in two stacks"
            resources[logical_id] = _substitute(resource, replacements, {})
        for name, output in item.template.get("Outputs", {}).items():
            outputs[(item.resource_id, f"Outputs.{name}")] = _substitute(output["Value"], replacements, {})
    return {
        **parent.template,
        "Resources": {k: _substitute(v, {}, outputs) for k, v in resources.items()},
        "Outputs": _substitute(parent.template.get("Outputs", {}), {}, outputs),
    }


def stacks_by_name(stacks: list[checks.StackTemplate]) -> dict[str, checks.StackTemplate]:
    return {item.name: item for item in stacks}


def synthesize(outdir: Path, **kwargs: Any) -> Synthesized:
    if importlib.util.find_spec("aws_cdk") is None:
        pytest.fail("aws-cdk-lib is not installed: pip install -r infra/requirements.txt (requirements-dev.txt does)")
    app, stack = build(outdir, **kwargs)
    try:
        app.synth()
    except RuntimeError as error:  # cdk-nag errors: the report is still written; tests read it
        if "ValidationFailed" not in str(error):
            raise
    stacks = checks.stack_templates(outdir, stack.artifact_id)
    return Synthesized(outdir, stacks, flatten(stacks), stack)


# -- synthetic apps -------------------------------------------------------------------------


def place_routes(app: Chalice, module: str) -> Chalice:
    """Make `app`'s route views look defined in `module` (a `chalicelib.<context>.…` module): infra
    derives a route's context, hence its handler and nested stack, from its view's module."""
    for methods in app.routes.values():
        for entry in methods.values():
            entry.view_function.__module__ = module
    return app


@contextlib.contextmanager
def synthetic_contexts() -> Iterator[None]:
    """Synthetic apps' contexts (`chalicelib.things`, ...) have no handler module on disk: let infra
    take any `chalicelib.<context>.handler` as present (the real app's are checked for real)."""
    real = model.module_exists

    def exists(module: str) -> bool:
        parts = module.split(".")
        return real(module) or (len(parts) == 3 and parts[0] == model.CONTEXTS_PACKAGE and parts[2] == "handler")

    with mock.patch.object(model, "module_exists", exists):
        yield


@pytest.fixture(scope="session")
def chalice_app() -> Any:
    return load_app()[0]


@pytest.fixture(scope="session")
def registry() -> Mapping[str, Any]:
    return load_app()[1]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """boto3 against moto in this process (not a running devstack)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


# -- reading the template -------------------------------------------------------------------


def of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def functions_by_name(template: Template) -> dict[str, str]:
    """Chalice function name -> logical id of its AWS::Lambda::Function."""
    return {
        resource["Metadata"][FUNCTION_METADATA]: logical_id
        for logical_id, resource in of_type(template, "AWS::Lambda::Function").items()
        if FUNCTION_METADATA in resource.get("Metadata", {})
    }


def expected_function_names(app: Any) -> set[str]:
    """Straight from the Chalice app (not infra.model): routes, consumers, authorizers, lambdas."""
    routes = {entry.view_name for methods in app.routes.values() for entry in methods.values()}
    consumers = {source.name for source in app.event_sources}
    authorizers = {config.name for config in app.builtin_auth_handlers}
    lambdas = {fn.name for fn in app.pure_lambda_functions}
    return routes | consumers | authorizers | lambdas


def function_set_drift(app: Any, template: Template) -> tuple[set[str], set[str]]:
    """(functions the code needs that the template lacks, functions the template has that the code lacks)."""
    expected = expected_function_names(app)
    actual = set(functions_by_name(template))
    return expected - actual, actual - expected


def referenced_ids(value: Any) -> set[str]:
    """Logical ids referenced by Ref / Fn::GetAtt anywhere inside `value`."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for item in value.values():
            found |= referenced_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    return found


def resource_path(template: Template, resource_id: str | None) -> str:
    """The API path of an AWS::ApiGateway::Resource id (None: the root)."""
    parts: list[str] = []
    resources = template["Resources"]
    while resource_id is not None and resource_id in resources:
        properties = resources[resource_id]["Properties"]
        parts.append(properties["PathPart"])
        parents = referenced_ids(properties["ParentId"]) & set(of_type(template, "AWS::ApiGateway::Resource"))
        resource_id = next(iter(parents), None)
    return "/" + "/".join(reversed(parts))


def role_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    """Every statement granted to a role: inline Policies on it and AWS::IAM::Policy attached to it."""
    statements: list[dict[str, Any]] = []
    role = template["Resources"][role_id]["Properties"]
    for policy in role.get("Policies", []):
        statements.extend(policy["PolicyDocument"]["Statement"])
    for policy in of_type(template, "AWS::IAM::Policy").values():
        if role_id in referenced_ids(policy["Properties"].get("Roles", [])):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
