"""`POST /auth/api-key` and `POST /auth/refresh`."""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint
from pydantic import BaseModel, Field, StrictStr, StringConstraints

from chalicelib.core.api.http import Call, endpoint
from chalicelib.core.permissions import SIGNING_KEYS_READ, TABLE_READ, TABLE_WRITE
from chalicelib.platform import wiring

bp = Blueprint(__name__)


Secret = Annotated[StrictStr, StringConstraints(min_length=1, max_length=512)]


class ApiKeyPayload(BaseModel):
    api_key: Secret = Field(alias="apiKey")


class RefreshPayload(BaseModel):
    refresh_token: Secret = Field(alias="refreshToken")


@endpoint(
    bp,
    "/auth/api-key",
    "POST",
    permission=None,
    uses=(TABLE_READ, TABLE_WRITE, SIGNING_KEYS_READ),
    body=ApiKeyPayload,
    response="AccessToken",
    operation_id="POST_auth-api-key",
    errors=(401,),
)
def authenticate(call: Call) -> Any:
    payload = call.body(ApiKeyPayload)
    return wiring.auth_service().exchange_api_key(payload.api_key, call.request_id).to_wire()


@endpoint(
    bp,
    "/auth/refresh",
    "POST",
    permission=None,
    uses=(TABLE_READ, TABLE_WRITE, SIGNING_KEYS_READ),
    body=RefreshPayload,
    response="AccessToken",
    operation_id="POST_auth-refresh",
    errors=(401,),
)
def refresh(call: Call) -> Any:
    payload = call.body(RefreshPayload)
    return wiring.auth_service().refresh(payload.refresh_token, call.request_id).to_wire()
