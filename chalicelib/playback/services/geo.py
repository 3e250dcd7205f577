"""A project's geo restriction (Videoplane extension): read and replace, audited when it changes and
announced (`playback-geo.updated`, through the outbox) so the edge applies it to media."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.core.domain import audit, events
from chalicelib.core.domain.access import Actor
from chalicelib.playback.domain import geo
from chalicelib.playback.domain.geo import GeoPolicy, GeoRestriction
from chalicelib.playback.ports import GeoPolicies

RESOURCE = "playback_geo"


class GeoService:
    def __init__(self, policies: GeoPolicies, clock: Callable[[], datetime]) -> None:
        self.policies = policies
        self.clock = clock

    def get(self, actor: Actor) -> GeoPolicy:
        return self.policies.get(actor.project_id)

    def set(self, actor: Actor, restriction: GeoRestriction) -> GeoPolicy:
        """Replaces the restriction; the same one again writes nothing (a retry, or a no-op)."""
        current = self.policies.get(actor.project_id)
        now = self.clock()
        updated = geo.with_restriction(actor.project_id, restriction, now)
        if geo.snapshot(updated) == geo.snapshot(current):
            return current
        entry = audit.record(
            actor, "playback_geo.update", RESOURCE, actor.project_id, now,
            before=geo.snapshot(current), after=geo.snapshot(updated),
        )  # fmt: skip
        changed = events.PlaybackGeoUpdated(
            **events.envelope(actor.project_id, now), mode=updated.mode, countries=list(updated.countries)
        )
        self.policies.save(updated, entry, changed)
        return updated
