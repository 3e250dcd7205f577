"""Debian's Chromium driven by Playwright (`executable_path`; Playwright downloads no browser), for
the e2e tests that need a real page: media playback (MSE), text tracks, screenshots, iframes."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium")
SKIP_REASON = "Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)"
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
# What a closed network needs (no background fetches, no component updates) and root needs (no sandbox).
CLOSED_NETWORK = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Media tests start playback without a click.
ARGS = (*CLOSED_NETWORK, "--autoplay-policy=no-user-gesture-required")


@contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """A headless browser; the caller opens pages with `browser.new_page(...)`. `extra_args`: more
    switches (a fake camera for WebRTC pages)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*ARGS, *extra_args])
        try:
            yield browser
        finally:
            browser.close()


# Draws a PNG into a canvas and reads the pixels at the given points: the screenshot is checked
# by the browser that took it, so the test needs no image library.
_PIXELS = """async ([data, points]) => {
  const image = new Image();
  image.src = "data:image/png;base64," + data;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  return points.map(([x, y]) => Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3)));
}"""


def pixels(page: Any, png: bytes, points: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """The RGB colour of a PNG (a screenshot) at each point."""
    found = page.evaluate(_PIXELS, [base64.b64encode(png).decode(), [list(p) for p in points]])
    return [tuple(rgb) for rgb in found]
