"""Domain errors. Each carries the api.video problem slug it maps to; the API layer renders it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Problem:
    """One api.video problem entry: `type` is built from the slug by the API layer."""

    slug: str
    title: str
    name: str = ""
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    status: ClassVar[int] = 400
    slug: ClassVar[str] = "invalid-attribute"
    title: ClassVar[str] = "An attribute is invalid."

    def __init__(
        self,
        name: str = "",
        detail: str | None = None,
        problems: list[Problem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.name = name
        self.detail = detail
        self.problems = problems or []
        self.headers = headers or {}


class InvalidInput(DomainError):
    """One or more request problems; the first is repeated at the top level."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(name=first.name, detail=first.detail, problems=problems)
        self.first = first


class InvalidPayload(DomainError):
    slug = "invalid-payload"
    title = "The payload is invalid."


class NotFound(DomainError):
    status = 404
    slug = "resource-not-found"
    title = "The requested resource was not found."


class UnrecognizedRequestUrl(DomainError):
    status = 404
    slug = "unrecognized-request-url"
    title = "Unrecognized request URL."


class MethodNotAllowed(DomainError):
    status = 405
    slug = "method-not-allowed"
    title = "Method is not allowed for this route."


class Conflict(DomainError):
    status = 409
    slug = "version-conflict"
    title = "The resource was modified concurrently; retry the request."


class Forbidden(DomainError):
    status = 403
    slug = "authorization-insufficient-role"
    title = "The API key's role does not allow this operation."


class AuthenticationFailed(DomainError):
    status = 401


class InvalidApiKey(AuthenticationFailed):
    slug = "authentication-invalid-api-key"
    title = "The API key is invalid."


class InvalidAccessToken(AuthenticationFailed):
    slug = "authentication-invalid-access-token"
    title = "The access token is invalid or expired."


class InvalidRefreshToken(AuthenticationFailed):
    slug = "authentication-invalid-refresh-token"
    title = "The refresh token is invalid."


class InvalidAuthorizationHeader(AuthenticationFailed):
    slug = "authentication-invalid-authorization-header-value"
    title = 'The "Authorization" header value is invalid.'


class MissingAuthorizationHeader(AuthenticationFailed):
    slug = "authentication-missing-authorization-header"
    title = 'The "Authorization" header is missing.'


class TooManyRequests(DomainError):
    status = 429
    slug = "too-many-requests"
    title = "Too many requests."


class IdempotencyKeyReused(DomainError):
    status = 422
    slug = "idempotency-key-reused"
    title = "The Idempotency-Key was already used with a different request."


class IdempotencyKeyInFlight(DomainError):
    status = 409
    slug = "idempotency-key-in-flight"
    title = "A request with this Idempotency-Key is still being processed."


class RepositoryUnavailable(DomainError):
    status = 503
    slug = "service-unavailable"
    title = "The service is temporarily unavailable; retry the request."


class UnsupportedMediaType(DomainError):
    status = 415
    slug = "unsupported-media-type"
    title = "The request's Content-Type is not supported."


class ServerError(DomainError):
    status = 500
    slug = "server-error"
    title = "Server error"
