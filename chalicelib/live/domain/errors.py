"""What can go wrong with a live stream's channel, in the domain's words (the IVS adapter maps
ClientError codes to these)."""

from __future__ import annotations

from chalicelib.core.domain.errors import DomainError, RepositoryUnavailable


class ChannelUnavailable(RepositoryUnavailable):
    """The live plane refused or failed for a reason a retry may fix (throttling, a 5xx)."""

    title = "The live streaming service is temporarily unavailable; retry the request."


class ChannelQuotaExceeded(DomainError):
    status = 429
    slug = "too-many-requests"
    title = "The account's live stream quota is reached."


class ChannelNotFound(Exception):
    """The channel (or key) is already gone: for deletes, the work is done."""


class RelayUnavailable(RepositoryUnavailable):
    """A restream relay could not be started or stopped for a reason a retry may fix."""

    title = "The restream relays are temporarily unavailable; retry the request."


class ChannelRefused(DomainError):
    """MediaLive refused a managed live event's request (its settings, a quota): a retry will not fix it."""

    status = 422
    slug = "live-event-channel-refused"
    title = "MediaLive refused the live event's channel."


class ChannelEnded(DomainError):
    """A start found its live event's channel deleted: an end released it while the start waited."""

    status = 409
    slug = "live-event-ended"
    title = "The live event was ended while its channel was starting."
