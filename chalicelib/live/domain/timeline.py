"""A managed live event's incident timeline: the API requests that changed it (audit entries, with
their request ids and actors) merged in time order with what the event recorded itself (state
transitions, media health entries, failovers, route overrides). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.core.domain.audit import AuditEvent
from chalicelib.live.domain.live_events import LiveEvent

REQUEST = "request"


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # request, transition, health, failover, route, automation
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    actor_key_id: str | None = None


def merge(event: LiveEvent, requests: Sequence[AuditEvent]) -> list[Entry]:
    """Oldest first; within one second (the clock's resolution) requests come first, in the order
    they were made (audit ids sort by time), then what the event recorded, in its own order."""
    entries = [
        Entry(
            at=r.at,
            kind=REQUEST,
            summary=r.action,
            request_id=r.request_id,
            actor_key_id=r.actor_key_id,
            detail={"auditEventId": r.event_id},
        )
        for r in sorted(requests, key=lambda r: (r.at, r.event_id))
    ]
    entries += [
        Entry(at=h.at, kind=h.kind.value, summary=h.summary, detail=dict(h.detail), request_id=h.request_id)
        for h in event.history
    ]
    return sorted(entries, key=lambda e: (e.at, e.kind != REQUEST))
