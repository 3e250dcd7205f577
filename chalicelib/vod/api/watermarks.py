"""Watermark images of a project (api.video WatermarksApi)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api.files import FILE_BODY, uploaded_file
from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.permissions import MEDIA_OBJECTS_WRITE
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.vod import wiring
from chalicelib.vod.api import subresource_presenters
from chalicelib.vod.domain.watermarks import WatermarkQuery

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE


@endpoint(
    bp,
    "/watermarks",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    uses=(MEDIA_OBJECTS_WRITE,),
    content_types=FILE_BODY,
    response="Watermark",
    operation_id="POST_watermark",
)
def upload_watermark(call: Call) -> Any:
    form = uploaded_file(call)
    return subresource_presenters.watermark(wiring.watermark_service().upload(call.actor, form.data))


@endpoint(
    bp,
    "/watermarks",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    query=WatermarkQuery,
    response="Watermark",
    paged=True,
    operation_id="LIST-watermarks",
)
def list_watermarks(call: Call) -> Any:
    data = {k: v for k in ("sortBy", "sortOrder") if (v := call.single(k)) is not None}
    page = wiring.watermark_service().list(call.actor, call.query(WatermarkQuery, data), call.page())
    return page.envelope(
        [subresource_presenters.watermark(w) for w in page.items], "/watermarks", call.filters("sortBy", "sortOrder")
    )


@endpoint(
    bp,
    "/watermarks/{watermarkId}",
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    uses=(MEDIA_OBJECTS_WRITE,),
    operation_id="DELETE_watermark",
)
def delete_watermark(call: Call, watermarkId: str) -> Any:  # noqa: N803
    wiring.watermark_service().delete(call.actor, watermarkId)
    return Reply(status=204)
