"""Markers follow the folder: unit/, integration/, devstack/ (integration), e2e/."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_MARKERS = {"unit": "unit", "integration": "integration", "devstack": "integration", "e2e": "e2e"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        marker = _MARKERS.get(folder)
        if marker is not None:
            item.add_marker(getattr(pytest.mark, marker))
