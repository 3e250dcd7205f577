"""Placeholder replaced by the event-source pollers (being written)."""

from __future__ import annotations

from chalice import Chalice


class EventSourcePollers:
    def __init__(self, app: Chalice) -> None:
        self.app = app
        self.count = 0

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None
