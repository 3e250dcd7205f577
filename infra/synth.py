"""`make synth`: synthesize the stack offline into cdk.out/ (the parent template and one nested
template per context), then fail on any unacknowledged cdk-nag AwsSolutions finding, any cfn-lint
problem in any template, or a template over CloudFormation's limits.

    python -m infra.synth [--outdir cdk.out] [-c key=value ...] [--quiet]

Exit status 0 only when all are clean. Prints each template with its resource and parameter
counts, the acknowledged findings (rule, resource, reason) unless --quiet, and timings.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

from infra import checks, settings
from infra.app import DEFAULT_OUTDIR, build


def _context(pairs: list[str]) -> dict[str, str]:
    context = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"-c expects key=value, got {pair!r}")
        context[key] = value
    return context


def _print_sizes(templates: list[checks.StackTemplate]) -> list[str]:
    """Print each template's resource and parameter counts; the names of those over CloudFormation's limits."""
    oversized = []
    for item in templates:
        print(f"  {item.name:<24} {item.resource_count:>4} / {item.parameter_count:>3}  {item.path.name}")
        if (
            item.resource_count > settings.CLOUDFORMATION_MAX_RESOURCES
            or item.parameter_count > settings.CLOUDFORMATION_MAX_PARAMETERS
        ):
            oversized.append(item.name)
            print(
                f"  {item.name}: over CloudFormation's limits ({settings.CLOUDFORMATION_MAX_RESOURCES} resources, "
                f"{settings.CLOUDFORMATION_MAX_PARAMETERS} parameters)"
            )
    return oversized


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR)
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--quiet", action="store_true", help="do not list the acknowledged findings")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    app, stack = build(args.outdir, context=_context(args.context))
    try:
        app.synth()
    except RuntimeError as error:  # the jsii runtime's "ValidationFailed" when cdk-nag reports errors
        if "ValidationFailed" not in str(error):
            raise
    synthesized = time.perf_counter()
    templates = checks.stack_templates(args.outdir, stack.artifact_id)
    findings = checks.nag_findings(args.outdir)
    acknowledged = [item for t in templates for item in checks.suppressions(t.template)]
    lint = checks.lint_all(templates)
    linted = time.perf_counter()

    print(f"{len(stack.specs)} functions, {len(templates)} templates (resources / parameters):")
    oversized = _print_sizes(templates)
    if not args.quiet:
        grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
        for item in acknowledged:
            grouped[(item.rule, item.reason)].append(item.logical_id)
        print(f"cdk-nag: {len(acknowledged)} acknowledged findings ({len(grouped)} distinct reasons)")
        for (rule, reason), logical_ids in sorted(grouped.items()):
            print(f"  {rule} x{len(logical_ids)}: {reason}")
    print(f"cdk-nag: {len(findings)} unacknowledged findings")
    for finding in findings:
        print(f"  {finding}")
    problems = [(name, problem) for name, found in lint.items() for problem in found]
    print(
        f"cfn-lint: {len(problems)} problems ({sum(p.is_error for _, p in problems)} errors) in {len(lint)} templates"
    )
    for name, problem in problems:
        print(f"  {name}: {problem}")
    print(f"synth {synthesized - started:.1f} s, checks {linted - synthesized:.1f} s")
    return 1 if findings or problems or oversized else 0


if __name__ == "__main__":
    sys.exit(main())
