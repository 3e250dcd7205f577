"""`make synth`: synthesize the stack offline into cdk.out/, then fail on any unacknowledged
cdk-nag AwsSolutions finding or any cfn-lint problem.

    python -m infra.synth [--outdir cdk.out] [-c key=value ...] [--quiet]

Exit status 0 only when both are clean. Prints the template path, the acknowledged findings
(rule, resource, reason) unless --quiet, and timings.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

from infra import checks
from infra.app import DEFAULT_OUTDIR, build


def _context(pairs: list[str]) -> dict[str, str]:
    context = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"-c expects key=value, got {pair!r}")
        context[key] = value
    return context


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
    template_path = args.outdir / f"{stack.artifact_id}.template.json"
    findings = checks.nag_findings(args.outdir)
    acknowledged = checks.suppressions(checks.template(args.outdir, stack.artifact_id))
    lint = checks.lint(template_path)
    linted = time.perf_counter()

    print(f"template: {template_path} ({len(stack.specs)} functions)")
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
    print(f"cfn-lint: {len(lint)} problems ({sum(p.is_error for p in lint)} errors)")
    for problem in lint:
        print(f"  {problem}")
    print(f"synth {synthesized - started:.1f} s, checks {linted - synthesized:.1f} s")
    return 1 if findings or lint else 0


if __name__ == "__main__":
    sys.exit(main())
