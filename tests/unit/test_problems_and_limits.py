from __future__ import annotations

from pydantic import ValidationError

from chalicelib.core.api.problems import attribute_name, from_validation_error, problem_body
from chalicelib.core.domain.errors import NotFound
from chalicelib.core.domain.pagination import PageRequest
from chalicelib.core.services.ratelimit import decide, request_class
from chalicelib.vod.domain.videos import VideoCreation


def test_every_validation_problem_is_listed_and_first_repeated() -> None:
    try:
        VideoCreation.model_validate({"public": "yes", "tags": "x", "metadata": [{"key": 1}]})
    except ValidationError as exc:
        body = problem_body(from_validation_error(exc))
    names = [p["name"] for p in body["problems"]]
    assert names[0] == "title" and body["name"] == "title"
    assert body["type"] == "https://docs.api.video/reference/attribute-required" and body["status"] == 400
    assert {"public", "tags", "metadata[0][key]", "metadata[0][value]"} <= set(names)
    titles = {p["name"]: p["title"] for p in body["problems"]}
    assert titles["public"] == "This attribute must be a boolean."
    assert titles["tags"] == "This attribute must be an array."


def test_query_problems_use_query_slug_and_range() -> None:
    try:
        PageRequest.model_validate({"pageSize": 500})
    except ValidationError as exc:
        body = problem_body(from_validation_error(exc, in_query=True))
    assert body["type"].endswith("request-invalid-query-parameter")
    assert body["name"] == "pageSize" and body["range"] == {"max": 100}


def test_not_found_body_matches_api_video() -> None:
    assert problem_body(NotFound(name="videoId")) == {
        "type": "https://docs.api.video/reference/resource-not-found",
        "title": "The requested resource was not found.",
        "name": "videoId",
        "status": 404,
    }


def test_attribute_names_follow_api_video_brackets() -> None:
    assert attribute_name(("restreams", 0, "serverUrl")) == "restreams[0][serverUrl]"


def test_rate_windows_and_classes() -> None:
    decision = decide(count=3, limit=5, now=125.0)
    assert (decision.remaining, decision.retry_after) == (2, 55)
    assert decide(count=9, limit=5, now=120.0).remaining == 0
    assert request_class("GET", "/videos") == "reads"
    assert request_class("PATCH", "/videos/{videoId}") == "writes"
    assert request_class("POST", "/videos/{videoId}/source") == "uploads"
