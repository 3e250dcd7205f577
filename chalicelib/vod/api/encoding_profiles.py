"""Encoding profiles (a Videoplane extension; api.video has no equivalent)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.vod import wiring
from chalicelib.vod.api import subresource_presenters as presenters
from chalicelib.vod.domain.encoding_profiles import EncodingProfileCreation, EncodingProfileUpdate

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE
PROFILE = "/encoding-profiles/{profileId}"


@endpoint(
    bp,
    "/encoding-profiles",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=201,
    body=EncodingProfileCreation,
    response="EncodingProfile",
)
def create_encoding_profile(call: Call) -> Any:
    return presenters.encoding_profile(
        wiring.encoding_profile_service().create(call.actor, call.body(EncodingProfileCreation))
    )


@endpoint(
    bp,
    "/encoding-profiles",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="EncodingProfile",
    paged=True,
)
def list_encoding_profiles(call: Call) -> Any:
    page = wiring.encoding_profile_service().list(call.actor, call.page())
    return page.envelope([presenters.encoding_profile(p) for p in page.items], "/encoding-profiles", [])


@endpoint(bp, PROFILE, "GET", permission=READ, authorizer=api_key_authorizer, response="EncodingProfile")
def get_encoding_profile(call: Call, profileId: str) -> Any:  # noqa: N803 - named like api.video's ids
    return presenters.encoding_profile(wiring.encoding_profile_service().get(call.actor, profileId))


@endpoint(
    bp,
    PROFILE,
    "PATCH",
    permission=WRITE,
    authorizer=api_key_authorizer,
    body=EncodingProfileUpdate,
    response="EncodingProfile",
)
def update_encoding_profile(call: Call, profileId: str) -> Any:  # noqa: N803
    payload = call.body(EncodingProfileUpdate)
    nulls = payload.null_violations()
    if nulls:
        raise InvalidInput([Problem("invalid-attribute", "This attribute must not be null.", n) for n in nulls])
    return presenters.encoding_profile(wiring.encoding_profile_service().update(call.actor, profileId, payload))


@endpoint(bp, PROFILE, "DELETE", permission=WRITE, authorizer=api_key_authorizer, status=204)
def delete_encoding_profile(call: Call, profileId: str) -> Any:  # noqa: N803
    wiring.encoding_profile_service().delete(call.actor, profileId)
    return Reply(status=204)
