"""What `make synth` and tests/infra check on a synthesized cloud assembly: the parent template and
its nested stacks' templates, cdk-nag findings (CDK's validation report), acknowledged findings and
their reasons, and cfn-lint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# cfn-lint checks the template against the resource specs of these regions.
LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    path: str
    description: str

    def __str__(self) -> str:
        return f"{self.severity.upper()} {self.rule} at {self.path}: {self.description}"


@dataclass(frozen=True)
class Suppression:
    logical_id: str
    rule: str
    reason: str


@dataclass(frozen=True)
class LintProblem:
    rule: str
    message: str
    line: int

    @property
    def is_error(self) -> bool:
        return self.rule.startswith("E")

    def __str__(self) -> str:
        return f"{self.rule} line {self.line}: {self.message}"


def nag_findings(outdir: Path) -> list[Finding]:
    """Every unacknowledged cdk-nag finding (errors and warnings) from validation-report.json."""
    report = outdir / "validation-report.json"
    if not report.exists():
        raise FileNotFoundError(f"{report} is missing: was the cdk-nag plugin added to the app?")
    data = json.loads(report.read_text())
    return [
        Finding(
            rule=violation["ruleName"],
            severity=violation.get("severity", "error"),
            path=construct["constructPath"],
            description=violation.get("description", ""),
        )
        for plugin in data.get("pluginReports", [])
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]


def template(outdir: Path, stack_id: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((outdir / f"{stack_id}.template.json").read_text())
    return loaded


@dataclass(frozen=True)
class StackTemplate:
    """One CloudFormation template of the assembly: the parent's (`resource_id` None) or a nested
    stack's, with the logical id of its AWS::CloudFormation::Stack in `parent`."""

    name: str
    path: Path
    template: dict[str, Any]
    parent: str | None = None
    resource_id: str | None = None

    @property
    def resource_count(self) -> int:
        return len(self.template.get("Resources", {}))

    @property
    def parameter_count(self) -> int:
        return len(self.template.get("Parameters", {}))


NESTED_STACK = "AWS::CloudFormation::Stack"


def stack_templates(outdir: Path, stack_id: str) -> list[StackTemplate]:
    """The parent template, then every nested stack's (depth first), found through the parent's
    AWS::CloudFormation::Stack resources: their TemplateURL ends with the object key under which the
    asset manifest uploads the nested template file."""
    manifest = json.loads((outdir / f"{stack_id}.assets.json").read_text())
    by_key = {
        destination["objectKey"]: outdir / asset["source"]["path"]
        for asset in manifest.get("files", {}).values()
        for destination in asset.get("destinations", {}).values()
        if asset["source"].get("path", "").endswith(".template.json")
    }
    found: list[StackTemplate] = []

    def visit(item: StackTemplate) -> None:
        found.append(item)
        for logical_id, resource in item.template.get("Resources", {}).items():
            if resource["Type"] != NESTED_STACK:
                continue
            url = resource["Properties"]["TemplateURL"]
            key = url["Fn::Join"][1][-1].rsplit("/", 1)[-1] if isinstance(url, dict) else url.rsplit("/", 1)[-1]
            path = by_key[key]
            nested = json.loads(path.read_text())
            # `VodNestedStackVodNestedStackResource3F2CC38F` -> `Videoplane/Vod`
            name = f"{item.name}/{logical_id.split('NestedStack', 1)[0]}"
            visit(StackTemplate(name, path, nested, parent=item.name, resource_id=logical_id))

    path = outdir / f"{stack_id}.template.json"
    visit(StackTemplate(stack_id, path, json.loads(path.read_text())))
    return found


def suppressions(tmpl: dict[str, Any]) -> list[Suppression]:
    """cdk-nag acknowledgements, as written into resource metadata (`cdk_nag.rules_to_suppress`)."""
    found: list[Suppression] = []
    for logical_id, resource in tmpl.get("Resources", {}).items():
        rules = resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        found.extend(Suppression(logical_id, rule["id"], rule.get("reason", "")) for rule in rules)
    return found


def lint(template_path: Path) -> list[LintProblem]:
    from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]

    matches = lint_file(template_path, config=ManualArgs(regions=LINT_REGIONS))
    return [LintProblem(match.rule.id, match.message, match.linenumber) for match in matches]


def lint_all(templates: list[StackTemplate]) -> dict[str, list[LintProblem]]:
    """cfn-lint problems of each template, by stack name."""
    return {item.name: lint(item.path) for item in templates}
