"""What `make synth` and tests/infra check on a synthesized cloud assembly: cdk-nag findings
(CDK's validation report), acknowledged findings and their reasons, and cfn-lint."""

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
