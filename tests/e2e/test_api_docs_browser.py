"""`GET /docs` in a real browser: Debian's Chromium, headless, renders Swagger UI from the vendored
files and the served description, with one block per operation."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import requests

from .browser import CHROMIUM, CLOSED_NETWORK, SKIP_REASON
from .support import Devstack

# A tall window: with the default 800x600, headless Chromium dumps the DOM of this 133-operation
# description with only its first tag rendered, whatever the virtual time budget (React has not
# rendered the tags below the fold yet); 1280x40000 holds every tag.
FLAGS = ("--headless", *CLOSED_NETWORK, "--virtual-time-budget=15000", "--window-size=1280,40000")
_OPERATION_BLOCK = re.compile(r'class="opblock opblock-(get|post|put|patch|delete)')
_PATH = re.compile(r'class="opblock-summary-path" data-path="([^"]+)"')


@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_docs_page_renders_every_operation(devstack: Devstack, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    document = requests.get(f"{devstack.api_url}/openapi.json", timeout=10).json()
    operations = sum(len(item) for item in document["paths"].values())
    run = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", f"{devstack.api_url}/docs"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = run.stdout
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Videoplane API" in dom, dom[:2000]
    assert len(_OPERATION_BLOCK.findall(dom)) == operations
    assert set(_PATH.findall(dom)) == set(document["paths"])
