"""What a view declares about itself for the OpenAPI description (`endpoint(..., doc=...)`).

Kept apart from the builder (`openapi.py`) so that declaring costs a route function nothing at
cold start: no pydantic schema work happens until the description is built, offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

MULTIPART = "multipart/form-data"
JSON_BODY = "application/json"


@dataclass(frozen=True)
class Operation:
    """What a view declares about itself for the description; the rest comes from the route."""

    summary: str
    status: int = 200
    authenticated: bool = True
    operation_id: str | None = None  # api.video's operationId where it has the operation
    tag: str | None = None
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    # The name of a model in the view package's `schemas` module (imported only when building,
    # so the response models cost no cold start).
    response: str | None = None
    paged: bool = False
    content_types: tuple[str, ...] = (JSON_BODY,)
    # Multipart fields besides `file` (name -> JSON Schema), for the upload routes.
    form_fields: Mapping[str, Any] = field(default_factory=dict)
    query_fields: Mapping[str, Any] = field(default_factory=dict)
    header_fields: Mapping[str, Any] = field(default_factory=dict)
    response_content_type: str = JSON_BODY
    response_package: str | None = None
    # Statuses the route answers besides those its shape implies (credentials in the body: 401).
    errors: tuple[int, ...] = ()
    # The model (in the package's `schemas`) of the route's own refusals, where they are not
    # api.video's problem JSON; the gateway's (401, 413, 415) stay problems.
    error_response: str | None = None
