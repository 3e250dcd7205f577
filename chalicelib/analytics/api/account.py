"""api.video's old account resource (`GET /account`: quota, term, features) with Videoplane's
usage breakdown, and the usage per day (`GET /account/usage`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.analytics import wiring
from chalicelib.analytics.api import presenters
from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import (
    ANALYTICS_CATALOG_READ,
    ANALYTICS_OBJECTS_QUERY,
    ANALYTICS_QUERIES,
    MEDIA_LIST,
    UPLOADS_LIST,
)
from chalicelib.platform.api.authorizer import api_key_authorizer

bp = Blueprint(__name__)
TAG = "Account"
USAGE_ACCESS = (ANALYTICS_QUERIES, ANALYTICS_CATALOG_READ, ANALYTICS_OBJECTS_QUERY)


class UsageQuery(BaseModel):
    from_: date = Field(alias="from", description="First UTC day, YYYY-MM-DD")
    to: date = Field(description="Last UTC day, YYYY-MM-DD (included; at most 93 days after `from`)")


@endpoint(
    bp,
    "/account",
    "GET",
    permission=Permission.READ,
    authorizer=api_key_authorizer,
    uses=(*USAGE_ACCESS, MEDIA_LIST, UPLOADS_LIST),
    response="Account",
    operation_id="GET_account",
    tag=TAG,
)
def get_account(call: Call) -> Any:
    """Show account"""
    return presenters.account(wiring.usage_service().account(call.actor.project_id))


@endpoint(
    bp,
    "/account/usage",
    "GET",
    permission=Permission.READ,
    authorizer=api_key_authorizer,
    uses=USAGE_ACCESS,
    query=UsageQuery,
    response="UsageDays",
    tag=TAG,
)
def get_account_usage(call: Call) -> Any:
    """Usage per UTC day (Videoplane extension)"""
    query = call.query(UsageQuery, {name: value for name in ("from", "to") if (value := call.single(name)) is not None})
    return presenters.usage_days(wiring.usage_service().days(call.actor.project_id, query.from_, query.to))
