"""Cold import time of each Lambda function's handler module against a bare `import boto3`.

    .venv/bin/python benchmarks/cold_start.py [--runs 5] [--source bundle|venv] [--detail]
                                              [--count time|instructions]

For every function infra/ deploys (one per route, authorizer, consumer), a fresh interpreter
imports the module of that function's handler and resolves the handler: for a route, its
context's app (`chalicelib.<context>.handler.app`, which the context's routes share: one module,
one figure), otherwise the function's own module. The baseline is a fresh interpreter running
`import boto3`. Only the import is timed (interpreter start-up is not), median of --runs.
Then a summary per context: the median over its functions and its ratio to the baseline.
Goal: ratio <= 1.3. The slowest imports (`-X importtime`) are listed for every handler module over
the goal, and for all with --detail.

--source bundle (default) measures what Lambda loads: the code asset infra/ builds (the wheels
for Lambda, Chalice's runtime, app.py, chalicelib/ and their precompiled .pyc), extracted to a
temporary directory and run with `python -S` so nothing from this venv leaks in. --source venv
measures the repository in this venv instead (no bundle build, no PyPI).

--count instructions counts the CPU instructions of each import under valgrind's callgrind
instead of timing it (one run each, about 10 s per module): the count does not change with what
else the machine is doing, so the ratios hold on a busy machine where timings swing by 30%.

This is a development machine, not Lambda: the absolute numbers differ there, the ratio less so.
Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.3
BASELINE_MODULE = "boto3"
_PROBE = """
import sys, time
sys.path.insert(0, {path!r})
started = time.perf_counter()
import importlib
module = importlib.import_module({module!r})
for part in {attributes!r}:
    module = getattr(module, part)
print(time.perf_counter() - started)
"""


@dataclass(frozen=True)
class Target:
    function: str
    kind: str
    handler: str
    context: str

    @property
    def module(self) -> str:
        return self.handler.rpartition(".")[0]


@dataclass(frozen=True)
class Measured:
    median_ms: float  # milliseconds, or millions of instructions with --count instructions
    samples_ms: list[float]


UNITS = {"time": "ms", "instructions": "M instr"}
_CALLGRIND_TOTAL = re.compile(r"Collected : (\d+)")


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "VIDEOPLANE_TABLE": "videoplane",
            "VIDEOPLANE_SIGNING_SECRET_ID": "videoplane-signing-keys",
            "POWERTOOLS_SERVICE_NAME": "videoplane-api",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    # What infra sets on every function besides the resource names.
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from infra import settings

    env.update(settings.RUNTIME_ENVIRONMENT)
    return env


def targets() -> list[Target]:
    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from app import app
    from infra.model import plan

    return [Target(spec.name, spec.kind, spec.handler, spec.context) for spec in plan(app)]


def interpreter(source: str) -> list[str]:
    if source == "bundle":
        # No site-packages: only the standard library and the bundle, as on Lambda.
        return [getattr(sys, "_base_executable", sys.executable), "-S", "-E"]
    return [sys.executable, "-E"]


def measure(command: Sequence[str], path: Path, module: str, attributes: list[str], runs: int) -> Measured:
    samples = []
    probe = _PROBE.format(path=str(path), module=module, attributes=attributes)
    for _ in range(runs):
        done = subprocess.run(
            [*command, "-c", probe], cwd=path, env=environment(), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"importing {module} failed:\n{done.stderr}")
        samples.append(float(done.stdout.strip().splitlines()[-1]) * 1000)
    return Measured(statistics.median(samples), samples)


def count_instructions(command: Sequence[str], path: Path, module: str, attributes: list[str]) -> Measured:
    """Millions of instructions the import costs: the probe under callgrind, less the same probe
    importing nothing (the interpreter's start-up). Hash randomization off, so runs repeat."""

    def collected(target: str, parts: list[str]) -> int:
        probe = _PROBE.format(path=str(path), module=target, attributes=parts)
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command, "-c", probe],
            cwd=path,
            env={**environment(), "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            check=False,
        )
        found = _CALLGRIND_TOTAL.search(done.stderr)
        if done.returncode != 0 or found is None:
            raise RuntimeError(f"counting the import of {target} failed:\n{done.stderr[-2000:]}")
        return int(found.group(1))

    millions = (collected(module, attributes) - collected("sys", [])) / 1e6
    return Measured(millions, [millions])


def import_profile(command: Sequence[str], path: Path, module: str, top: int = 12) -> list[tuple[float, str]]:
    """The modules with the largest cumulative import time (python -X importtime)."""
    probe = f"import sys; sys.path.insert(0, {str(path)!r}); import {module}"
    done = subprocess.run(
        [*command, "-X", "importtime", "-c", probe],
        cwd=path,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match and len(match.group(3)) <= 3:  # top-level and first-level imports only
            rows.append((int(match.group(2)) / 1000, match.group(3)[1:] + match.group(4)))
    return sorted(rows, reverse=True)[:top]


def extract_bundle(into: Path) -> Path:
    from infra import bundle

    archive = bundle.build(REPO_ROOT, REPO_ROOT / "cdk.out" / ".build")
    with zipfile.ZipFile(archive) as code:
        code.extractall(into)
    return into


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", choices=["bundle", "venv"], default="bundle")
    parser.add_argument("--detail", action="store_true", help="print the slowest imports of each handler module")
    parser.add_argument("--count", choices=sorted(UNITS), default="time")
    args = parser.parse_args(argv)
    unit = UNITS[args.count]

    def measured(path: Path, module: str, attributes: list[str]) -> Measured:
        if args.count == "instructions":
            return count_instructions(command, path, module, attributes)
        return measure(command, path, module, attributes, args.runs)

    functions = targets()
    command = interpreter(args.source)
    with tempfile.TemporaryDirectory(prefix="videoplane-cold-") as scratch:
        path = extract_bundle(Path(scratch)) if args.source == "bundle" else REPO_ROOT
        baseline = measured(path, BASELINE_MODULE, [])
        by_handler: dict[str, Measured] = {}
        for target in functions:
            if target.handler not in by_handler:
                attributes = target.handler[len(target.module) + 1 :].split(".")
                by_handler[target.handler] = measured(path, target.module, attributes)
        over = {t.module for t in functions if by_handler[t.handler].median_ms / baseline.median_ms > GOAL}
        modules = {t.module for t in functions} if args.detail else over
        profiles = {module: import_profile(command, path, module) for module in sorted(modules)}

    where = "the code asset" if args.source == "bundle" else str(path)
    how = f"median of {args.runs}" if args.count == "time" else "instructions counted by callgrind"
    print(f"cold import, fresh interpreter, {how}, from {where}")
    print(f"baseline: import {BASELINE_MODULE} = {baseline.median_ms:.1f} {unit}")
    print()
    report_functions(functions, by_handler, baseline, unit)
    print()
    report_contexts(functions, by_handler, baseline, unit)
    for module, rows in profiles.items():
        print(f"\nslowest imports under {module} (cumulative ms, -X importtime):")
        for cumulative, name in rows:
            print(f"  {cumulative:8.1f}  {name}")
    return 0


def report_functions(functions: list[Target], by_handler: dict[str, Measured], baseline: Measured, unit: str) -> None:
    header = f"{'function':<28} {'kind':<10} {'handler':<48} {unit:>10} {'ratio':>6}  goal <= {GOAL}"
    print(header)
    print("-" * len(header))
    met = 0
    for target in functions:
        result = by_handler[target.handler]
        ratio = result.median_ms / baseline.median_ms
        met += ratio <= GOAL
        verdict = "ok" if ratio <= GOAL else "over"
        figures = f"{result.median_ms:>10.1f} {ratio:>6.2f}  {verdict}"
        print(f"{target.function:<28} {target.kind:<10} {target.handler:<48} {figures}")
    print()
    shared = {h: sum(t.handler == h for t in functions) for h in by_handler}
    for handler, count in shared.items():
        if count > 1:
            print(f"{count} functions share handler {handler}: one module, measured once")
    print(f"{met} of {len(functions)} functions meet the goal (ratio <= {GOAL})")


def report_contexts(functions: list[Target], by_handler: dict[str, Measured], baseline: Measured, unit: str) -> None:
    """Per context: the median of its functions' import times (each function counts, so a context's
    figure is mostly its route handler's) and the ratio to the baseline."""
    header = f"{'context':<12} {'functions':>9} {unit:>10} {'ratio':>6}  goal <= {GOAL}"
    print(header)
    print("-" * len(header))
    for context in sorted({t.context for t in functions}):
        mine = [t for t in functions if t.context == context]
        median = statistics.median(by_handler[t.handler].median_ms for t in mine)
        ratio = median / baseline.median_ms
        print(f"{context:<12} {len(mine):>9} {median:>10.1f} {ratio:>6.2f}  {'ok' if ratio <= GOAL else 'over'}")


if __name__ == "__main__":
    sys.exit(main())
