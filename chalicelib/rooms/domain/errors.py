"""What can go wrong with a room, its stage or a join, in the domain's words. Each refusal of a join
is its own problem type, so a client can tell "come back later" from "ask for a new token"."""

from __future__ import annotations

from chalicelib.core.domain.errors import DomainError, RepositoryUnavailable


class StageUnavailable(RepositoryUnavailable):
    """The real-time plane refused or failed for a reason a retry may fix (throttling, a 5xx)."""

    title = "The real-time service is temporarily unavailable; retry the request."


class StageQuotaExceeded(DomainError):
    status = 429
    slug = "too-many-requests"
    title = "The account's real-time stage quota is reached."


class StageNotFound(Exception):
    """The stage is already gone: for deletes, the work is done."""


class ModeIsFixed(DomainError):
    slug = "invalid-attribute"
    title = "A room's mode cannot change after creation."


class JoinRefused(DomainError):
    """A join token that does not open the room now. Subclasses name why."""

    status = 403
    slug = "room-join-refused"
    title = "The join token does not admit to this room."


class JoinTokenInvalid(JoinRefused):
    status = 401
    slug = "room-join-token-invalid"
    title = "The join token is malformed or its signature does not match."


class JoinTokenExpired(JoinRefused):
    status = 401
    slug = "room-join-token-expired"
    title = "The join token has expired."


class JoinTokenRevoked(JoinRefused):
    status = 401
    slug = "room-join-token-revoked"
    title = "The join token was revoked."


class JoinTokenUsed(JoinRefused):
    status = 409
    slug = "room-join-token-used"
    title = "This single-use join token was already exchanged."


class RoomClosed(JoinRefused):
    slug = "room-closed"
    title = "The room is not open at this time."


class RoomFull(JoinRefused):
    status = 409
    slug = "room-full"
    title = "The room has no seat left for this role."


class WaitingForModerator(JoinRefused):
    status = 409
    slug = "room-waiting-for-moderator"
    title = "The room waits for a moderator; retry after one has joined."


class CapabilityNotGranted(JoinRefused):
    slug = "room-capability-not-granted"
    title = "The token's role does not grant the capability asked for."


class RecordingUnavailable(RepositoryUnavailable):
    """The stack has no recording configuration, or the plane answered no place to record to."""

    title = "Recording is not available on this stack right now."


class NoActiveSession(DomainError):
    status = 409
    slug = "room-no-active-session"
    title = "The room has no active session to record; recording starts with a session."
