"""The multipart `file` of an upload request (captions, chapters, thumbnails, watermarks)."""

from __future__ import annotations

from chalicelib.core.api.http import Call
from chalicelib.core.domain import formdata

MULTIPART = "multipart/form-data"
# What file routes pass to endpoint(content_types=...).
FILE_BODY = (MULTIPART,)


def uploaded_file(call: Call) -> formdata.Form:
    raw = call.request.raw_body
    body = raw if isinstance(raw, bytes) else raw.encode()
    return formdata.parse(body, call.request.headers.get("content-type"))
