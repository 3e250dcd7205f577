"""`/openapi.json` is built from the code, valid OpenAPI 3.1, covers every route, and keeps
api.video's operationIds where api.video has the operation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from chalice import Blueprint, Chalice
from openapi_spec_validator import validate
from pydantic import BaseModel

from app import app
from chalicelib.core import resources
from chalicelib.core.api.http import endpoint
from chalicelib.core.api.openapi import build
from chalicelib.platform.api.api_docs import DESCRIPTION
from devstack.openapi import description, rendered

API_VIDEO_OPENAPI = Path(__file__).resolve().parents[3] / "shared" / "reference" / "apivideo-openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return description()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): spec
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    }


def test_served_description_is_the_codes() -> None:
    assert DESCRIPTION.read_text(encoding="utf-8") == rendered(), "run `python -m devstack.openapi` and commit it"


def test_description_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_route_and_only_the_routes(document: dict[str, Any]) -> None:
    routes = {(method, path) for path, methods in app.routes.items() for method in methods}
    routes |= {(route.method, route.path) for route in resources.DIRECT_UPLOAD_ROUTES}
    assert set(operations(document)) == routes


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [spec["operationId"] for spec in operations(document).values()]
    assert len(ids) == len(set(ids))


def test_api_videos_operations_keep_their_operation_id(document: dict[str, Any]) -> None:
    if not API_VIDEO_OPENAPI.exists():
        pytest.skip("shared/reference is not beside this checkout")
    reference = operations(yaml.safe_load(API_VIDEO_OPENAPI.read_text(encoding="utf-8")))
    ours = operations(document)
    shared = set(reference) & set(ours)
    assert len(shared) >= 30  # videos, uploads, tokens, captions, chapters, watermarks, webhooks, auth
    mismatched = {key: (ours[key]["operationId"], reference[key]["operationId"]) for key in shared}
    assert {k: v for k, v in mismatched.items() if v[0] != v[1]} == {}


def test_authenticated_operations_need_credentials_and_public_ones_do_not(document: dict[str, Any]) -> None:
    ours = operations(document)
    public = {key for key, spec in ours.items() if spec["security"] == []}
    assert public == {
        ("POST", "/auth/api-key"),
        ("POST", "/auth/refresh"),
        ("POST", "/upload"),
        # A room's join token (in the body) is the credential.
        ("POST", "/join"),
        # The stats token the join answered (in the body) is the credential.
        ("POST", "/join/stats"),
        # The join page and its assets: the token stays in the page's fragment (chalicelib/rooms/api/page.py).
        ("GET", "/join"),
        ("GET", "/join/{file}"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/{file}"),
        # The embed page, its data and oEmbed answer any viewer (chalicelib/playback/api/embed.py).
        ("GET", "/embed/vod/{videoId}"),
        ("GET", "/embed/vod/{videoId}/data"),
        ("GET", "/embed/live/{liveStreamId}"),
        ("GET", "/embed/live/{liveStreamId}/data"),
        ("GET", "/embed/live/{liveStreamId}/token/{privateToken}/hls/manifest.m3u8"),
        ("GET", "/embed/live/{liveStreamId}/token/{privateToken}/thumbnail.jpg"),
        ("GET", "/embed/assets/{file}"),
        # A private video's token routes (api.video's session, HLS, thumbnail and MP4 assets).
        ("GET", "/embed/vod/{videoId}/token/{privateToken}/session"),
        ("GET", "/embed/vod/{videoId}/token/{privateToken}/hls/manifest.m3u8"),
        ("GET", "/embed/vod/{videoId}/token/{privateToken}/thumbnail.jpg"),
        ("GET", "/embed/vod/{videoId}/token/{privateToken}/mp4/source.mp4"),
        # A project's public playback keys (chalicelib/playback/api/playback_keys.py).
        ("GET", "/.well-known/playback-jwks/{projectId}"),
        ("GET", "/oembed"),
        # Player beacons and their script (chalicelib/analytics/api/beacons.py): the project comes
        # from the media id, never from the caller.
        ("GET", "/embed/analytics.js"),
        ("POST", "/embed/beacons"),
        ("POST", "/embed/watch"),
    }


def test_request_bodies_queries_and_responses_come_from_the_models(document: dict[str, Any]) -> None:
    create = document["paths"]["/videos"]["post"]
    schemas = document["components"]["schemas"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/VideoCreation"
    }
    assert "title" in schemas["VideoCreation"]["required"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Video"}
    listing = document["paths"]["/videos"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"title", "tags[]", "metadata", "sortBy", "sortOrder", "currentPage", "pageSize"} <= names
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["properties"]["data"]["items"] == {"$ref": "#/components/schemas/Video"}
    problem = {"$ref": "#/components/schemas/Problem"}
    assert listing["responses"]["401"]["content"]["application/json"]["schema"] == problem
    caption = document["paths"]["/videos/{videoId}/captions/{language}"]["post"]
    assert caption["requestBody"]["content"]["multipart/form-data"]["schema"]["required"] == ["file"]


def test_a_view_without_a_declaration_is_refused() -> None:
    bare = Chalice("bare")
    bp = Blueprint(__name__)

    @bp.route("/bare")
    def bare_view() -> dict[str, str]:
        return {}

    bare.register_blueprint(bp)
    with pytest.raises(LookupError, match="bare_view"):
        build(bare, title="t", version="1", description="d")


def test_models_with_one_name_in_two_packages_stay_apart() -> None:
    class Thing(BaseModel):
        a: int

    demo = Chalice("demo")
    bp = Blueprint(__name__)

    @endpoint(bp, "/things", "POST", permission=None, body=Thing, summary="Make a thing")
    def make_thing(call: Any) -> dict[str, str]:
        return {}

    demo.register_blueprint(bp)
    built = build(demo, title="t", version="1", description="d")
    body = built["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert built["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]["required"] == ["a"]
    assert json.loads(json.dumps(built)) == built
