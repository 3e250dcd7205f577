"""Resumable direct uploads end to end on in-process moto: create, PUT parts to the presigned
URLs, list what S3 holds, complete (media `uploaded` + video.source.uploaded), abort.

In-process moto intercepts botocore and the `requests` library (through `responses`), so the
presigned URLs are PUT with `requests` as a client would; moto does not check their signature."""

from __future__ import annotations

import json
from typing import Any

import requests

from chalicelib.core import wiring as core_wiring
from chalicelib.core.adapters.dynamodb import project_partition
from chalicelib.vod.domain.ingest import MIB
from chalicelib.vod.domain.uploads import source_key
from tests.integration.conftest import ApiClient

PART = 5 * MIB
FILE = b"a" * PART + b"b" * 100


def new_video(tenant: ApiClient) -> str:
    return str(tenant.call("POST", "/videos", {"title": "big"}).json_body["videoId"])


def start(tenant: ApiClient, video_id: str, filesize: int = len(FILE), part_size: int | None = PART) -> Any:
    body: dict[str, Any] = {"filesize": filesize}
    if part_size is not None:
        body["partSize"] = part_size
    return tenant.call("POST", f"/videos/{video_id}/multipart-uploads", body)


def put(part: dict[str, Any]) -> None:
    start = (part["partNumber"] - 1) * PART
    response = requests.put(part["url"], data=FILE[start : start + part["size"]], timeout=10)
    assert response.status_code == 200, response.text


def outbox(project_id: str, event_type: str) -> list[dict[str, Any]]:
    items = core_wiring.table().query(project_partition(project_id, "OUTBOX"))
    return [json.loads(i["payload"]) for i in items if i["eventType"] == event_type]


def test_upload_resume_and_complete(tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    created = start(tenant, video_id)
    assert created.status_code == 201, created.body
    grant = created.json_body
    upload_id = grant["uploadId"]
    assert (grant["videoId"], grant["partSize"], grant["partsCount"]) == (video_id, PART, 2)
    assert [(p["partNumber"], p["size"]) for p in grant["parts"]] == [(1, PART), (2, 100)]
    assert grant["expiresAt"]

    put(grant["parts"][1])
    # A reload: S3 has part 2; only part 1 gets a (fresh) URL.
    resumed = tenant.call("GET", f"/videos/{video_id}/multipart-uploads/{upload_id}").json_body
    assert [(p["partNumber"], p["size"]) for p in resumed["uploadedParts"]] == [(2, 100)]
    assert [p["partNumber"] for p in resumed["parts"]] == [1]

    early = tenant.call("POST", f"/videos/{video_id}/multipart-uploads/{upload_id}/complete")
    assert early.status_code == 400, early.body
    assert early.json_body["name"] == "parts"
    assert "parts 1" in early.json_body["detail"]

    put(resumed["parts"][0])
    done = tenant.call("POST", f"/videos/{video_id}/multipart-uploads/{upload_id}/complete")
    assert done.status_code == 200, done.body
    assert done.json_body["videoId"] == video_id
    assert core_wiring.uploads_bucket().read_all(source_key(tenant.project_id, video_id)) == FILE
    ingest = tenant.call("GET", f"/videos/{video_id}/status").json_body["ingest"]
    assert (ingest["status"], ingest["filesize"]) == ("uploaded", len(FILE))
    assert [e["videoId"] for e in outbox(tenant.project_id, "video.source.uploaded")] == [video_id]

    again = tenant.call("POST", f"/videos/{video_id}/multipart-uploads/{upload_id}/complete")
    assert again.status_code == 200, again.body
    assert len(outbox(tenant.project_id, "video.source.uploaded")) == 1

    listed = tenant.call("GET", f"/videos/{video_id}/multipart-uploads").json_body["data"]
    assert [(u["uploadId"], u["status"]) for u in listed] == [(upload_id, "completed")]
    refused = start(tenant, video_id)
    assert refused.status_code == 400
    assert refused.json_body["type"].endswith("video-source-already-uploaded")


def test_default_part_size_and_bounds(tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    grant = start(tenant, video_id, filesize=40 * MIB, part_size=None).json_body
    assert (grant["partSize"], grant["partsCount"]) == (16 * MIB, 3)
    for body in ({"filesize": 0}, {"filesize": 10, "partSize": 1024}, {"filesize": "10"}):
        response = tenant.call("POST", f"/videos/{video_id}/multipart-uploads", body)
        assert response.status_code == 400, (body, response.body)


def test_abort(tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    grant = start(tenant, video_id).json_body
    base = f"/videos/{video_id}/multipart-uploads/{grant['uploadId']}"
    put(grant["parts"][0])
    assert tenant.call("DELETE", base).status_code == 204
    assert tenant.call("DELETE", base).status_code == 204
    shown = tenant.call("GET", base).json_body
    assert (shown["status"], shown["parts"]) == ("aborted", [])
    assert tenant.call("POST", base + "/complete").status_code == 404
    assert core_wiring.uploads_bucket().head(source_key(tenant.project_id, video_id)) is None


def test_other_projects_and_unknown_uploads_are_not_found(tenant: ApiClient, other_tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    upload_id = start(tenant, video_id).json_body["uploadId"]
    for client, path in (
        (other_tenant, f"/videos/{video_id}/multipart-uploads/{upload_id}"),
        (tenant, f"/videos/{video_id}/multipart-uploads/nope"),
    ):
        assert client.call("GET", path).status_code == 404
        assert client.call("POST", path + "/complete").status_code == 404
        assert client.call("DELETE", path).status_code == 404
    assert start(other_tenant, video_id).status_code == 404
