"""Every path parameter's pattern, checked at the edge before a view runs.

Ids end up in DynamoDB and S3 keys, where `#` and `/` separate parts: an id that is not in its
format could name another item of the partition. So no path parameter reaches a service unless
it matches its pattern, and a route whose parameter is not listed here fails at registration.
A malformed id answers as an unknown one would (404), a malformed language tag as an invalid
attribute (400), both as api.video answers them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chalicelib.core.domain.errors import DomainError, InvalidInput, NotFound, Problem

# 22 base62 characters, the body of every id (core.ids.new_id and new_sortable_id).
_ID_BODY = "[0-9A-Za-z]{22}"
# IETF language tags with dashes only, at most 35 characters (the captions and chapters rule), up
# to four subtags after the language ("zh-Hant-TW", "sr-Latn-RS"). A plain pattern and a length:
# a lookahead would do both, but fuzzers cannot generate values from one.
LANGUAGE_TAG = "^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,4}$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
DATE_TITLE = "The date must be a day as YYYY-MM-DD."
LANGUAGE_TITLE = 'The language must be an IETF language tag with dashes only, such as "en", "fr" or "pt-BR".'


@dataclass(frozen=True)
class PathParameter:
    pattern: str
    example: str  # a well-formed value, for the description and tests
    invalid_status: int = 404
    max_length: int | None = None
    # What a malformed value answers when `invalid_status` is 400.
    invalid_title: str = LANGUAGE_TITLE
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def matches(self, value: str) -> bool:
        too_long = self.max_length is not None and len(value) > self.max_length
        return not too_long and self._compiled.fullmatch(value) is not None

    def schema(self) -> dict[str, object]:
        schema: dict[str, object] = {"type": "string", "pattern": self.pattern}
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        return schema


def _id(prefix: str) -> PathParameter:
    return PathParameter(f"^{prefix}{_ID_BODY}$", prefix + "0" * 22)


PATH_PARAMETERS: dict[str, PathParameter] = {
    "videoId": _id("vi"),
    "webhookId": _id("webhook_"),
    "keyId": _id("key"),
    "uploadToken": _id("to"),
    "profileId": _id("ep"),
    "watermarkId": _id("watermark_"),
    "deliveryId": _id("dl"),
    "liveStreamId": _id("li"),
    "roomId": _id("ro"),
    "tokenId": _id("jt"),
    # IVS's participant ids: [a-zA-Z0-9-_]{0,64} (the ivs-realtime model).
    "participantId": PathParameter("^[0-9A-Za-z_-]{1,64}$", "pArTiCiPaNt01"),
    "playerId": _id("pl"),
    "sessionId": _id("rs"),
    "playbackKeyId": _id("pbk"),
    "projectId": _id("pr"),
    # A private video's single-use token (api.video's: a lowercase UUID).
    "privateToken": PathParameter(
        "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", "c77d7bf3-4e2f-4a85-9e15-5c35992c11fc"
    ),
    # S3's multipart upload ids are opaque: letters, digits, `.`, `_` and `-`.
    "uploadId": PathParameter("^[0-9A-Za-z._-]{1,1024}$", "upload-0"),
    "language": PathParameter(LANGUAGE_TAG, "pt-BR", invalid_status=400, max_length=35),
    # api.video's /data names (and Videoplane's QoE ones, such as `startup-time-p95`); an unknown
    # one answers 404 (unrecognized-request-url) in the view.
    "metric": PathParameter("^[a-z][a-z0-9-]{0,31}$", "play"),
    "aggregation": PathParameter("^[a-z][a-z0-9-]{0,31}$", "count"),
    "breakdown": PathParameter("^[a-z][a-z-]{0,31}$", "country"),
    "file": PathParameter("^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$", "swagger-ui-bundle.js"),
    # The EnableX facade's periods (`/enablex/v2/cdr/period/{fromDate}/{toDate}`): UTC days.
    "fromDate": PathParameter(DATE, "2026-01-01", invalid_status=400, invalid_title=DATE_TITLE),
    "toDate": PathParameter(DATE, "2026-01-31", invalid_status=400, invalid_title=DATE_TITLE),
    "templateId": _id("lt"),
    "liveEventId": _id("le"),
    # A player's playback session (analytics beacons' `session`, api.video v2's UUID `sid`); rooms
    # hold `sessionId`.
    "playbackSessionId": PathParameter("^[0-9A-Za-z_-]{16,64}$", "ps0123456789abcdef"),
}


_PLACEHOLDER = re.compile(r"{(\w+)}")


def parameter_names(path: str) -> list[str]:
    """`/videos/{videoId}/captions/{language}` -> ["videoId", "language"]."""
    return _PLACEHOLDER.findall(path)


def require_known(path: str, names: list[str]) -> None:
    """Fails registration of a route whose parameter has no pattern."""
    unknown = [name for name in names if name not in PATH_PARAMETERS]
    if unknown:
        raise LookupError(f"{path}: no pattern for path parameter(s) {unknown}; add them to PATH_PARAMETERS")


def check(params: dict[str, str]) -> None:
    """Raises the problem a malformed parameter answers; the first one found wins."""
    for name, value in params.items():
        parameter = PATH_PARAMETERS[name]
        if not isinstance(value, str) or not parameter.matches(value):
            raise _invalid(name, parameter)


def _invalid(name: str, parameter: PathParameter) -> DomainError:
    if parameter.invalid_status == 400:
        return InvalidInput([Problem("invalid-attribute", parameter.invalid_title, name)])
    return NotFound(name=name)
