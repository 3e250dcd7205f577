"""One synthesized template per session, and helpers that read it the way tests/infra needs.

The CDK app is synthesized offline (no AWS credentials) into a temporary cloud assembly; the
code asset comes from the cache in cdk.out/.build (built on first use, a few seconds).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from infra import checks
from infra.app import build, load_app
from infra.model import FUNCTION_METADATA

Template = dict[str, Any]


@dataclass
class Synthesized:
    outdir: Path
    template_path: Path
    template: Template
    stack: Any

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources


def synthesize(outdir: Path, **kwargs: Any) -> Synthesized:
    if importlib.util.find_spec("aws_cdk") is None:
        pytest.fail("aws-cdk-lib is not installed: pip install -r infra/requirements.txt (requirements-dev.txt does)")
    app, stack = build(outdir, **kwargs)
    try:
        app.synth()
    except RuntimeError as error:  # cdk-nag errors: the report is still written; tests read it
        if "ValidationFailed" not in str(error):
            raise
    path = outdir / f"{stack.artifact_id}.template.json"
    return Synthesized(outdir, path, checks.template(outdir, stack.artifact_id), stack)


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
