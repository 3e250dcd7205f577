"""The multipart `file` of an upload request (captions, chapters, thumbnails, watermarks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call
from chalicelib.domain import formdata

MULTIPART = "multipart/form-data"


class UploadBlueprint(Blueprint):
    """Chalice answers 415 to any Content-Type a route does not list, and `endpoint` lists only
    JSON; on this blueprint every POST takes the SDK's multipart body instead."""

    def route(self, path: str, **kwargs: Any) -> Callable[..., Any]:
        if "POST" in kwargs.get("methods", ()):
            kwargs.setdefault("content_types", [MULTIPART])
        return super().route(path, **kwargs)


def uploaded_file(call: Call) -> formdata.Form:
    raw = call.request.raw_body
    body = raw if isinstance(raw, bytes) else raw.encode()
    return formdata.parse(body, call.request.headers.get("content-type"))
