"""`GET /openapi.json` and `GET /docs`: the API's OpenAPI 3.1 description and a page to read it,
both without credentials. The description is the file `python -m devstack.openapi` builds from
the code (a test keeps them equal); the page is Swagger UI, vendored, so it works offline."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from chalice import Blueprint

from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.errors import NotFound

bp = Blueprint(__name__)
HERE = Path(__file__).resolve().parent
DESCRIPTION = HERE / "openapi.json"
SWAGGER_UI = HERE / "swagger_ui"
HTML = "text/html; charset=utf-8"
REFERENCE = "API reference"
# The files the page loads, by the name it asks for.
ASSETS = {
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "init.js": "application/javascript; charset=utf-8",
}
# The assets change only with the vendored version; the page and the description with each deploy.
ASSET_CACHE = {"Cache-Control": "public, max-age=86400"}
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Videoplane API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
"""


@functools.cache
def description() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DESCRIPTION.read_text(encoding="utf-8"))
    return loaded


@endpoint(bp, "/openapi.json", "GET", permission=None, response="OpenApiDescription", tag=REFERENCE)
def get_openapi_description(call: Call) -> Any:
    """The OpenAPI 3.1 description of this API"""
    # Relative to this host: behind a stage (`/api`) or a custom domain alike, and no Host header trusted.
    base = call.path.removesuffix("/openapi.json") or "/"
    return {**description(), "servers": [{"url": base}]}


@endpoint(bp, "/docs", "GET", permission=None, response_content_type=HTML, tag=REFERENCE)
def get_api_docs(call: Call) -> Any:
    """A page to read and try the API (Swagger UI)"""
    return Reply(body=PAGE, content_type=HTML)


@endpoint(bp, "/docs/{file}", "GET", permission=None, response_content_type="application/javascript", tag=REFERENCE)
def get_api_docs_asset(call: Call, file: str) -> Any:
    """The scripts and styles of the docs page"""
    content_type = ASSETS.get(file)
    if content_type is None:
        raise NotFound(name="file", detail="No such file.")
    return Reply(body=(SWAGGER_UI / file).read_text(encoding="utf-8"), content_type=content_type, headers=ASSET_CACHE)
