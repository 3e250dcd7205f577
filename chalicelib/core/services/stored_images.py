"""Replacing the image a resource points at (a live stream's thumbnail, a player's logo) without
ever pointing at a missing file: the new file is stored under a key of its own first, the
resource is changed to name it, and only then is the replaced file deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chalicelib.core.observability import logger
from chalicelib.core.ports import MediaFiles

T = TypeVar("T")


def replace(
    files: MediaFiles,
    key: str,
    data: bytes,
    content_type: str,
    current_key: Callable[[], str | None],
    point_at: Callable[[], T],
) -> T:
    """`current_key` reads the key the resource names now; `point_at` changes the resource to name
    `key`. When that fails, the new file goes again; the old one is kept."""
    files.put(key, data, content_type)
    try:
        before = current_key()
        changed = point_at()
    except Exception:
        forget(files, key)
        raise
    if before is not None and before != key:
        forget(files, before)
    return changed


def forget(files: MediaFiles, key: str) -> None:
    """Best effort: an unreferenced image costs a few KiB, never a broken resource."""
    try:
        files.delete(key)
    except Exception:  # noqa: BLE001 - the resource is already consistent
        logger.warning("image object left behind", extra={"key": key})
