"""Source uploads (`POST /videos/{videoId}/source`, `POST /upload?token=`) and upload tokens.

The two upload routes never run a Lambda with the body: API Gateway stores each request body in
the uploads bucket (see resources.DIRECT_UPLOAD_ROUTES and docs/uploads.md). `authorize_upload`
is their REQUEST authorizer: it sees the headers, applies every rule that needs no body, and
tells the gateway where to store the body and what to answer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.api.operation import MULTIPART, Operation
from chalicelib.core.api.problems import problem_body
from chalicelib.core.domain.access import Actor, Permission, role_allows
from chalicelib.core.domain.errors import AuthenticationFailed, DomainError, Forbidden
from chalicelib.core.permissions import SIGNING_KEYS_READ, TABLE_INDEX_READ, TABLE_READ, TABLE_WRITE, declare
from chalicelib.platform.api.authorizer import api_key_authorizer, deny
from chalicelib.vod import wiring
from chalicelib.vod.api import presenters
from chalicelib.vod.domain.uploads import RANGE_METADATA, TOKEN_METADATA, UploadTokenCreation, UploadTokenQuery

if TYPE_CHECKING:
    from chalicelib.vod.services.uploads import Admission

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE

declare(resources.UPLOAD_AUTHORIZER, (TABLE_READ, TABLE_INDEX_READ, TABLE_WRITE, SIGNING_KEYS_READ))

_CONTENT_RANGE = {
    "type": "string",
    "description": "`bytes start-end/total` for a chunk, or `part n/total` for a progressive upload.",
}
# The routes API Gateway serves without a route function, for `/openapi.json`.
DIRECT_UPLOAD_OPERATIONS = {
    ("POST", "/videos/{videoId}/source"): Operation(
        summary="Upload a video's source, whole or in chunks",
        status=201,
        operation_id="POST_videos-videoId-source",
        tag="Videos",
        response="Video",
        response_package=__name__.rpartition(".")[0],
        content_types=(MULTIPART,),
        header_fields={"Content-Range": _CONTENT_RANGE},
    ),
    ("POST", "/upload"): Operation(
        summary="Upload with an upload token",
        status=201,
        authenticated=False,
        operation_id="POST_upload",
        tag="Videos",
        response="Video",
        response_package=__name__.rpartition(".")[0],
        content_types=(MULTIPART,),
        form_fields={"videoId": {"type": "string", "description": "The video of the second and later chunks."}},
        query_fields={
            "token": {"type": "string", "description": "The upload token."},
            "videoId": {
                "type": "string",
                "description": "The video of a later chunk, where the gateway sees it (Videoplane extension): "
                "needed when two uploads of one token could take the same chunk.",
            },
        },
        errors=(401, 404, 409, 429),
        header_fields={"Content-Range": _CONTENT_RANGE},
    ),
}


@bp.lambda_function(name=resources.UPLOAD_AUTHORIZER)
def authorize_upload(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return decide(event)


def decide(event: dict[str, Any]) -> dict[str, Any]:
    """API Gateway REQUEST authorizer event → policy whose context drives the S3 integration."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    query = event.get("queryStringParameters") or {}
    path_parameters = event.get("pathParameters") or {}
    request_id = str((event.get("requestContext") or {}).get("requestId"))
    length_header = str(headers.get("content-length", ""))
    body_length = int(length_header) if length_header.isdigit() else None
    content_range = headers.get("content-range")
    content_type = headers.get("content-type")
    service = wiring.upload_service()
    try:
        if "videoId" in path_parameters:
            actor = _uploader(headers.get("authorization"), request_id)
            admission = service.admit(actor, path_parameters["videoId"], content_range, body_length, content_type)
        else:
            admission = service.admit_delegated(
                query.get("token"), content_range, body_length, request_id, content_type, query.get("videoId")
            )
    except AuthenticationFailed as failure:
        return deny(event["methodArn"], failure)
    except DomainError as refused:
        # Allowed through so that the gateway can answer with the problem; the body is parked
        # under rejected/ and expires.
        return _allow(event, f"{resources.REJECTED_PREFIX}{request_id}", refused.status, problem_body(refused), {})
    return _allow(event, admission.object_key, 201, presenters.video(admission.video), _metadata(admission))


def _uploader(authorization: str | None, request_id: str) -> Actor:
    principal = wiring.authenticator().authenticate(authorization, request_id)
    actor = Actor(principal, request_id)
    core_wiring.rate_limiter().check(actor.project_id, "uploads")
    if not role_allows(principal.role, WRITE):
        raise Forbidden(detail=f"A {principal.role.value} key cannot upload.")
    return actor


def _metadata(admission: Admission) -> dict[str, str]:
    return {RANGE_METADATA: admission.content_range.header(), TOKEN_METADATA: admission.token_id or ""}


def _allow(
    event: dict[str, Any], object_key: str, status: int, body: dict[str, Any], metadata: dict[str, str]
) -> dict[str, Any]:
    return {
        "principalId": "uploader",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [event["methodArn"]]}],
        },
        "context": {
            "objectKey": object_key,
            "responseStatus": str(status),
            "responseBody": json.dumps(body, separators=(",", ":")),
            "contentRange": metadata.get(RANGE_METADATA, ""),
            "uploadToken": metadata.get(TOKEN_METADATA, ""),
        },
    }


# -- upload tokens ----------------------------------------------------------------------------


@endpoint(
    bp,
    "/upload-tokens",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=200,
    body=UploadTokenCreation,
    body_required=False,
    response="UploadToken",
    operation_id="POST_upload-tokens",
)
def create_upload_token(call: Call) -> Any:
    payload = call.body(UploadTokenCreation) if call.request.raw_body.strip() else UploadTokenCreation()
    return presenters.upload_token(wiring.upload_token_service().create(call.actor, payload))


@endpoint(
    bp,
    "/upload-tokens",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    query=UploadTokenQuery,
    response="UploadToken",
    paged=True,
    operation_id="GET_upload-tokens",
)
def list_upload_tokens(call: Call) -> Any:
    query = call.query(UploadTokenQuery, {k: v for k in ("sortBy", "sortOrder") if (v := call.single(k)) is not None})
    page = wiring.upload_token_service().list(call.actor, query, call.page())
    return page.envelope(
        [presenters.upload_token(t) for t in page.items], "/upload-tokens", call.filters("sortBy", "sortOrder")
    )


@endpoint(
    bp,
    "/upload-tokens/{uploadToken}",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="UploadToken",
    operation_id="GET_upload-tokens-uploadToken",
)
def get_upload_token(call: Call, uploadToken: str) -> Any:  # noqa: N803 - path parameter named as in api.video
    return presenters.upload_token(wiring.upload_token_service().get(call.actor, uploadToken))


@endpoint(
    bp,
    "/upload-tokens/{uploadToken}",
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    operation_id="DELETE_upload-tokens-uploadToken",
)
def delete_upload_token(call: Call, uploadToken: str) -> Any:  # noqa: N803
    wiring.upload_token_service().delete(call.actor, uploadToken)
    return Reply(status=204)
