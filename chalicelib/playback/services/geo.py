"""A project's geo restriction (Videoplane extension): read and replace, audited when it changes and
announced (`playback-geo.updated`, through the outbox) so the edge applies it to media."""

from __future__ import annotations

import hmac
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


class ViewerCountries:
    """The viewer's country of a request to the API: `CloudFront-Viewer-Country`, believed only when
    the request came through the CDN (its origin header carries the secret CloudFront sends) or
    when every client is trusted (the devstack); otherwise geo.UNVERIFIED."""

    def __init__(self, trust_all: bool, origin_secret: Callable[[], str] | None) -> None:
        self.trust_all = trust_all
        self.origin_secret = origin_secret

    def country(self, country_header: str | None, origin_header: str | None) -> str | None:
        if not self.trust_all and not self._through_cdn(origin_header):
            return geo.UNVERIFIED
        return geo.viewer_country(country_header)

    def _through_cdn(self, origin_header: str | None) -> bool:
        if origin_header is None or self.origin_secret is None:
            return False
        return hmac.compare_digest(origin_header.encode(), self.origin_secret().encode())
