"""Resumable direct uploads with presigned S3 multipart URLs (a Videoplane extension; see
docs/uploads.md). Each route declares exactly the S3 actions it performs or lends to a URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.clock import to_atom
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import UPLOADS_ABORT, UPLOADS_OBJECTS_READ, UPLOADS_PARTS_LIST, UPLOADS_PUT
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.vod import wiring
from chalicelib.vod.api import presenters
from chalicelib.vod.domain import ingest
from chalicelib.vod.domain.ingest import DirectUpload

if TYPE_CHECKING:
    from chalicelib.vod.services.direct_uploads import Grant

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE
BASE = "/videos/{videoId}/multipart-uploads"


class DirectUploadCreation(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    filesize: StrictInt = Field(ge=1, le=ingest.MAX_OBJECT_BYTES)
    part_size: StrictInt | None = Field(default=None, alias="partSize", ge=ingest.MIN_PART_BYTES,
                                        le=ingest.MAX_PART_BYTES)  # fmt: skip


def upload_body(upload: DirectUpload) -> dict[str, Any]:
    return {
        "uploadId": upload.upload_id,
        "videoId": upload.video_id,
        "status": upload.status.value,
        "filesize": upload.filesize,
        "partSize": upload.part_size,
        "partsCount": upload.parts_count,
        "createdAt": to_atom(upload.created_at),
    }


def grant_body(grant: Grant) -> dict[str, Any]:
    return {
        **upload_body(grant.upload),
        "expiresAt": to_atom(grant.expires_at) if grant.expires_at else None,
        # Presigned UploadPart PUTs for the parts S3 does not hold yet.
        "parts": [{"partNumber": p.number, "url": p.url, "size": p.size} for p in grant.urls],
        "uploadedParts": [{"partNumber": p.number, "size": p.size, "etag": p.etag.strip('"')} for p in grant.stored],
    }


# CreateMultipartUpload is s3:PutObject; a failed record aborts it; the URLs lend s3:PutObject.
@endpoint(
    bp,
    BASE,
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=201,
    uses=(UPLOADS_PUT, UPLOADS_ABORT),
    body=DirectUploadCreation,
    response="DirectUploadGrant",
)
def create_direct_upload(call: Call, videoId: str) -> Any:  # noqa: N803 - path parameter named as in api.video
    payload = call.body(DirectUploadCreation)
    return grant_body(wiring.direct_upload_service().create(call.actor, videoId, payload.filesize, payload.part_size))


@endpoint(bp, BASE, "GET", permission=READ, authorizer=api_key_authorizer, response="DirectUploads")
def list_direct_uploads(call: Call, videoId: str) -> Any:  # noqa: N803
    return {"data": [upload_body(u) for u in wiring.direct_upload_service().list_uploads(call.actor, videoId)]}


# ListParts, and fresh presigned URLs (s3:PutObject) for the parts still missing.
@endpoint(
    bp,
    BASE + "/{uploadId}",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    uses=(UPLOADS_PARTS_LIST, UPLOADS_PUT),
    response="DirectUploadGrant",
)
def get_direct_upload(call: Call, videoId: str, uploadId: str) -> Any:  # noqa: N803
    return grant_body(wiring.direct_upload_service().get(call.actor, videoId, uploadId))


# ListParts, CompleteMultipartUpload (s3:PutObject), HeadObject (s3:GetObject) after a lost answer.
@endpoint(
    bp,
    BASE + "/{uploadId}/complete",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(UPLOADS_PARTS_LIST, UPLOADS_PUT, UPLOADS_OBJECTS_READ),
    response="Video",
)
def complete_direct_upload(call: Call, videoId: str, uploadId: str) -> Any:  # noqa: N803
    return presenters.video(*wiring.direct_upload_service().complete(call.actor, videoId, uploadId))


@endpoint(bp, BASE + "/{uploadId}", "DELETE", permission=WRITE, authorizer=api_key_authorizer, status=204,
          uses=(UPLOADS_ABORT,))  # fmt: skip
def abort_direct_upload(call: Call, videoId: str, uploadId: str) -> Any:  # noqa: N803
    wiring.direct_upload_service().abort(call.actor, videoId, uploadId)
    return Reply(status=204)
