"""Source uploads in api.video's wire format (compat §4) through the API Gateway stand-in: the
REQUEST authorizer decides from the headers, the body lands in S3 as received, the S3
notification feeds the part consumer, and the last part assembles the source in S3."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
import urllib3

from app import app
from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.vod import wiring as vod_wiring
from chalicelib.vod.consumers.pipeline import object_keys
from chalicelib.vod.domain.uploads import MIN_PART_BYTES
from devstack.gateway import Gateway, GatewayResponse
from tests.integration.conftest import ApiClient

MIB = 1024 * 1024


@pytest.fixture
def gateway(aws: None) -> Gateway:
    return Gateway(app, authorizer_ttl=0)


def payload(size: int, seed: int = 0) -> bytes:
    block = bytes((i * 7 + seed) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


def post_part(
    gateway: Gateway,
    path: str,
    data: bytes,
    content_range: str | None,
    authorization: str | None = None,
    fields: list[tuple[str, Any]] | None = None,
) -> GatewayResponse:
    body, content_type = urllib3.encode_multipart_formdata([*(fields or []), ("file", ("clip.mp4", data, "video/mp4"))])
    headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
    if content_range is not None:
        headers["Content-Range"] = content_range
    if authorization is not None:
        headers["Authorization"] = authorization
    return gateway.handle("POST", path, headers, body)


def upload(gateway: Gateway, tenant: ApiClient, video_id: str, data: bytes, content_range: str | None) -> Any:
    response = post_part(gateway, f"/videos/{video_id}/source", data, content_range, f"Bearer {tenant.token}")
    return response.status, json.loads(response.body)


def drain_parts() -> int:
    """Runs the part consumer on what the uploads bucket notified, as the SQS poller would."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=resources.UPLOAD_PARTS_QUEUE.name)["QueueUrl"]
    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return handled
        for message in messages:
            for key in object_keys(message["Body"]):
                vod_wiring.upload_service().receive(key)
                handled += 1
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def source_bytes(tenant: ApiClient, video_id: str) -> bytes:
    bucket = os.environ[resources.UPLOADS_BUCKET.env]
    key = f"{resources.SOURCES_PREFIX}{tenant.project_id}/{video_id}"
    data: bytes = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def new_video(tenant: ApiClient) -> str:
    return str(tenant.call("POST", "/videos", {"title": "upload"}).json_body["videoId"])


def status(tenant: ApiClient, video_id: str) -> dict[str, Any]:
    body: dict[str, Any] = tenant.call("GET", f"/videos/{video_id}/status").json_body
    return body


def outbox_types(tenant: ApiClient) -> list[str]:
    items = core_wiring.table().query(f"P#{tenant.project_id}#OUTBOX")
    return [str(item["eventType"]) for item in items]


def problem_type(body: dict[str, Any]) -> str:
    return str(body["type"]).rsplit("/", 1)[-1]


def test_single_part_upload_answers_the_video_and_assembles_the_source(gateway: Gateway, tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    data = payload(300_000)
    code, body = upload(gateway, tenant, video_id, data, "part 1/1")
    assert code == 201 and body["videoId"] == video_id and body["title"] == "upload"
    assert drain_parts() >= 1
    assert source_bytes(tenant, video_id) == data
    ingest = status(tenant, video_id)["ingest"]
    assert ingest["status"] == "uploaded" and ingest["filesize"] == len(data)
    assert ingest["receivedParts"] == {"parts": [1], "total": 1}
    assert outbox_types(tenant).count("video.source.uploaded") == 1


def test_no_content_range_is_a_whole_file(gateway: Gateway, tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    code, _ = upload(gateway, tenant, video_id, b"tiny", None)
    drain_parts()
    assert code == 201 and source_bytes(tenant, video_id) == b"tiny"


def test_chunks_out_of_order_are_assembled_in_part_order(gateway: Gateway, tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    data = payload(2 * MIN_PART_BYTES + MIB, seed=3)
    chunks = [data[:MIN_PART_BYTES], data[MIN_PART_BYTES : 2 * MIN_PART_BYTES], data[2 * MIN_PART_BYTES :]]
    for number in (3, 1):
        assert upload(gateway, tenant, video_id, chunks[number - 1], f"part {number}/3")[0] == 201
    drain_parts()
    ingest = status(tenant, video_id)["ingest"]
    assert ingest["status"] == "uploading" and ingest["receivedParts"] == {"parts": [1, 3], "total": 3}
    assert upload(gateway, tenant, video_id, chunks[1], "part 2/3")[0] == 201
    drain_parts()
    assert source_bytes(tenant, video_id) == data
    assert status(tenant, video_id)["ingest"]["status"] == "uploaded"
    incoming = boto3.client("s3").list_objects_v2(
        Bucket=os.environ[resources.UPLOADS_BUCKET.env], Prefix=resources.INCOMING_PREFIX
    )
    assert incoming.get("KeyCount", 0) == 0, "stored parts are removed once the source is assembled"


def test_progressive_upload_learns_its_total_from_the_last_part(gateway: Gateway, tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    first, last = payload(MIN_PART_BYTES, seed=1), payload(1000, seed=2)
    assert upload(gateway, tenant, video_id, first, "part 1/*")[1]["videoId"] == video_id
    drain_parts()
    assert status(tenant, video_id)["ingest"]["receivedParts"] == {"parts": [1], "total": None}
    assert upload(gateway, tenant, video_id, last, "part 2/2")[0] == 201
    drain_parts()
    assert source_bytes(tenant, video_id) == first + last


def test_byte_ranges_are_assembled(gateway: Gateway, tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    data = payload(MIN_PART_BYTES + 5000, seed=4)
    total = len(data)
    assert (
        upload(gateway, tenant, video_id, data[MIN_PART_BYTES:], f"bytes {MIN_PART_BYTES}-{total - 1}/{total}")[0]
        == 201
    )
    assert upload(gateway, tenant, video_id, data[:MIN_PART_BYTES], f"bytes 0-{MIN_PART_BYTES - 1}/{total}")[0] == 201
    drain_parts()
    assert source_bytes(tenant, video_id) == data
    ranges = status(tenant, video_id)["ingest"]["receivedBytes"]
    assert ranges == [
        {"from": 0, "to": MIN_PART_BYTES - 1, "total": total},
        {"from": MIN_PART_BYTES, "to": total - 1, "total": total},
    ]


@pytest.mark.parametrize(
    ("content_range", "slug"),
    [
        ("parts 1/2", "video-content-range-malformed"),
        ("part 0/2", "video-content-range-by-part-invalid-part"),
        ("part 3/2", "video-content-range-by-part-invalid-part"),
        ("part 1/10001", "video-content-range-by-part-invalid-part"),
        ("bytes 10-5/100", "video-content-range-by-bytes-invalid-range"),
        ("bytes 0-5/*", "video-content-range-malformed"),
        ("part 1/2", "video-content-range-by-part-uploaded-file-too-small"),
        ("part 1/*", "video-content-range-by-part-uploaded-file-too-small"),
        ("bytes 0-99/1000", "video-content-range-by-bytes-uploaded-file-too-small"),
    ],
)
def test_refused_content_ranges(gateway: Gateway, tenant: ApiClient, content_range: str, slug: str) -> None:
    video_id = new_video(tenant)
    code, body = upload(gateway, tenant, video_id, b"x" * 100, content_range)
    assert code == 400 and problem_type(body) == slug and body["status"] == 400, body
    assert body["problems"][0]["type"].endswith(slug)
    drain_parts()
    assert "ingest" not in status(tenant, video_id), "a refused part is never counted"


def test_a_part_is_sent_once_and_forms_do_not_mix(gateway: Gateway, tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    chunk = payload(MIN_PART_BYTES)
    assert upload(gateway, tenant, video_id, chunk, "part 1/2")[0] == 201
    drain_parts()
    code, body = upload(gateway, tenant, video_id, chunk, "part 1/2")
    assert code == 400 and problem_type(body) == "video-content-range-by-part-part-already-sent"
    code, body = upload(gateway, tenant, video_id, chunk, f"bytes 0-{MIN_PART_BYTES - 1}/{2 * MIN_PART_BYTES}")
    assert code == 400 and problem_type(body) == "video-content-range-started-with-part"
    code, body = upload(gateway, tenant, video_id, chunk, "part 2/3")
    assert code == 400 and problem_type(body) == "video-content-range-by-part-total-changed"


def test_a_video_receives_one_source(gateway: Gateway, tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    upload(gateway, tenant, video_id, b"first", "part 1/1")
    drain_parts()
    code, body = upload(gateway, tenant, video_id, b"second", "part 1/1")
    assert code == 400 and problem_type(body) == "video-source-already-uploaded"
    assert body["title"] == "The source of the video is already uploaded."
    assert source_bytes(tenant, video_id) == b"first"


def test_duplicate_notifications_store_one_source_and_one_event(gateway: Gateway, tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    upload(gateway, tenant, video_id, b"once", "part 1/1")
    bucket = os.environ[resources.UPLOADS_BUCKET.env]
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="incoming/")["Contents"]]
    for key in keys * 2:
        vod_wiring.upload_service().receive(key)
    drain_parts()
    assert source_bytes(tenant, video_id) == b"once"
    assert outbox_types(tenant).count("video.source.uploaded") == 1


def test_a_retried_part_after_a_lost_body_is_accepted(gateway: Gateway, tenant: ApiClient) -> None:
    """The authorizer admitted the part but the body never reached S3: nothing was recorded, so
    the client's retry goes through."""
    video_id = new_video(tenant)
    failing = Gateway(app, authorizer_ttl=0, store_body=lambda *args: (_ for _ in ()).throw(OSError("reset")))
    lost = post_part(failing, f"/videos/{video_id}/source", b"data", "part 1/1", f"Bearer {tenant.token}")
    assert lost.status == 500
    assert upload(gateway, tenant, video_id, b"data", "part 1/1")[0] == 201
    drain_parts()
    assert source_bytes(tenant, video_id) == b"data"


def test_uploads_need_a_writer_of_the_same_project(
    gateway: Gateway, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    video_id = new_video(tenant)
    missing = post_part(gateway, f"/videos/{video_id}/source", b"x", "part 1/1")
    assert missing.status == 401
    code, body = upload(gateway, other_tenant, video_id, b"x", "part 1/1")
    assert code == 404 and body["name"] == "videoId"
    viewer = tenant.call("POST", "/api-keys", {"name": "viewer", "role": "viewer"}).json_body["apiKey"]
    login = tenant.client.http.post(
        "/auth/api-key", headers={"content-type": "application/json"}, body=json.dumps({"apiKey": viewer})
    ).json_body
    forbidden = post_part(gateway, f"/videos/{video_id}/source", b"x", "part 1/1", f"Bearer {login['access_token']}")
    assert forbidden.status == 403


def test_delegated_upload_creates_the_video_and_later_chunks_follow_it(gateway: Gateway, tenant: ApiClient) -> None:
    token = tenant.call("POST", "/upload-tokens", {"ttl": 3600}).json_body["token"]
    data = payload(MIN_PART_BYTES + 10, seed=9)
    first = post_part(gateway, f"/upload?token={token}", data[:MIN_PART_BYTES], "part 1/2")
    assert first.status == 201
    video_id = json.loads(first.body)["videoId"]
    # The SDK's non-progressive delegated upload sends no videoId with later chunks (compat §4.4).
    second = post_part(gateway, f"/upload?token={token}", data[MIN_PART_BYTES:], "part 2/2")
    assert second.status == 201 and json.loads(second.body)["videoId"] == video_id
    drain_parts()
    assert source_bytes(tenant, video_id) == data
    assert tenant.call("GET", f"/videos/{video_id}").json_body["videoId"] == video_id


def test_delegated_progressive_upload_names_its_video(gateway: Gateway, tenant: ApiClient) -> None:
    token = tenant.call("POST", "/upload-tokens", {}).json_body["token"]
    first = post_part(gateway, f"/upload?token={token}", payload(MIN_PART_BYTES), "part 1/*")
    video_id = json.loads(first.body)["videoId"]
    last = post_part(gateway, f"/upload?token={token}", b"end", "part 2/2", fields=[("videoId", video_id)])
    assert last.status == 201 and json.loads(last.body)["videoId"] == video_id
    drain_parts()
    assert source_bytes(tenant, video_id) == payload(MIN_PART_BYTES) + b"end"


def test_upload_token_problems(gateway: Gateway, tenant: ApiClient) -> None:
    missing = post_part(gateway, "/upload", b"x", "part 1/1")
    assert missing.status == 401 and problem_type(json.loads(missing.body)) == "authentication-missing-upload-token"
    unknown = post_part(gateway, "/upload?token=to1tcmSFHeYY5KzyhOqVKMKb", b"x", "part 1/1")
    assert unknown.status == 401 and problem_type(json.loads(unknown.body)) == "authentication-invalid-upload-token"
    token = tenant.call("POST", "/upload-tokens", {}).json_body["token"]
    assert tenant.call("DELETE", f"/upload-tokens/{token}").status_code == 204
    deleted = post_part(gateway, f"/upload?token={token}", b"x", "part 1/1")
    assert deleted.status == 401


def test_upload_tokens_api(tenant: ApiClient, other_tenant: ApiClient) -> None:
    forever = tenant.call("POST", "/upload-tokens", {}).json_body
    assert forever["token"].startswith("to") and len(forever["token"]) == 24
    assert forever["ttl"] == 0 and forever["expiresAt"] is None
    hour = tenant.call("POST", "/upload-tokens", {"ttl": 3600}).json_body
    assert hour["expiresAt"] is not None
    assert tenant.call("GET", f"/upload-tokens/{hour['token']}").json_body == hour
    assert other_tenant.call("GET", f"/upload-tokens/{hour['token']}").status_code == 404
    listed = tenant.call("GET", "/upload-tokens?sortBy=ttl&sortOrder=desc").json_body
    assert [t["token"] for t in listed["data"]] == [hour["token"], forever["token"]]
    refused = tenant.call("POST", "/upload-tokens", {"ttl": -1})
    assert refused.status_code == 400 and refused.json_body["name"] == "ttl"


def test_upload_tokens_expire_through_the_table_ttl(tenant: ApiClient) -> None:
    """The API's `ttl` is seconds; the table's `ttl` attribute is an epoch time DynamoDB deletes at."""
    from chalicelib.core.clock import epoch_seconds, from_atom

    hour = tenant.call("POST", "/upload-tokens", {"ttl": 3600}).json_body
    forever = tenant.call("POST", "/upload-tokens", {}).json_body
    stored = core_wiring.table().get(f"P#{tenant.project_id}#UPLOADTOKEN", hour["token"])
    assert stored is not None and stored["ttl"] == epoch_seconds(from_atom(hour["expiresAt"]))
    assert stored["ttl_seconds"] == 3600
    unbounded = core_wiring.table().get(f"P#{tenant.project_id}#UPLOADTOKEN", forever["token"])
    assert unbounded is not None and "ttl" not in unbounded


# -- issue 10: uploads never mix and never vanish ----------------------------------------------


def delegated(gateway: Gateway, token: str, data: bytes, content_range: str) -> GatewayResponse:
    return post_part(gateway, f"/upload?token={token}", data, content_range)


def video_of(response: GatewayResponse) -> str:
    assert response.status == 201, response.body
    return str(json.loads(response.body)["videoId"])


def test_interleaved_delegated_uploads_of_one_token_never_mix(gateway: Gateway, tenant: ApiClient) -> None:
    """Two SDK clients share a token and a total; later chunks carry no videoId. A chunk that
    either upload could take is refused, never attached to the other client's video."""
    token = tenant.call("POST", "/upload-tokens", {}).json_body["token"]
    one, two = payload(MIN_PART_BYTES + 10, seed=11), payload(MIN_PART_BYTES + 10, seed=12)
    first = video_of(delegated(gateway, token, one[:MIN_PART_BYTES], "part 1/2"))
    second = video_of(delegated(gateway, token, two[:MIN_PART_BYTES], "part 1/2"))
    assert first != second
    tail = delegated(gateway, token, one[MIN_PART_BYTES:], "part 2/2")
    assert tail.status == 400, tail.body
    problem = json.loads(tail.body)
    assert problem_type(problem) == "video-upload-ambiguous" and "videoId" in problem["title"]
    drain_parts()
    for video_id in (first, second):
        assert status(tenant, video_id)["ingest"]["receivedParts"] == {"parts": [1], "total": 2}
    # A client that names its video where the gateway sees it (the query) finishes it.
    named = post_part(gateway, f"/upload?token={token}&videoId={second}", two[MIN_PART_BYTES:], "part 2/2")
    assert video_of(named) == second
    drain_parts()
    assert source_bytes(tenant, second) == two
    # Another token cannot name it.
    other = tenant.call("POST", "/upload-tokens", {}).json_body["token"]
    stranger = post_part(gateway, f"/upload?token={other}&videoId={first}", one[MIN_PART_BYTES:], "part 2/2")
    assert stranger.status == 404 and json.loads(stranger.body)["name"] == "videoId"


def test_delegated_uploads_that_expect_different_parts_are_told_apart(gateway: Gateway, tenant: ApiClient) -> None:
    """Sequential chunks of two uploads: each chunk fits exactly one upload (the part it expects
    next), so both sources are assembled from their own bytes."""
    token = tenant.call("POST", "/upload-tokens", {}).json_body["token"]
    one, two = payload(2 * MIN_PART_BYTES + 7, seed=21), payload(2 * MIN_PART_BYTES + 7, seed=22)

    def chunk(data: bytes, number: int) -> bytes:
        return data[(number - 1) * MIN_PART_BYTES : number * MIN_PART_BYTES]

    first = video_of(delegated(gateway, token, chunk(one, 1), "part 1/3"))
    assert video_of(delegated(gateway, token, chunk(one, 2), "part 2/3")) == first
    second = video_of(delegated(gateway, token, chunk(two, 1), "part 1/3"))
    assert video_of(delegated(gateway, token, chunk(one, 3), "part 3/3")) == first  # only `first` expects 3
    assert video_of(delegated(gateway, token, chunk(two, 2), "part 2/3")) == second  # `first` has had part 2
    assert video_of(delegated(gateway, token, chunk(two, 3), "part 3/3")) == second  # `first` has every part
    drain_parts()
    assert source_bytes(tenant, first) == one and source_bytes(tenant, second) == two


def test_delegated_byte_ranges_follow_the_range_each_upload_expects(gateway: Gateway, tenant: ApiClient) -> None:
    token = tenant.call("POST", "/upload-tokens", {}).json_body["token"]
    one, two = payload(MIN_PART_BYTES + 99, seed=31), payload(MIN_PART_BYTES + 99, seed=32)
    total = len(one)
    head, rest = f"bytes 0-{MIN_PART_BYTES - 1}/{total}", f"bytes {MIN_PART_BYTES}-{total - 1}/{total}"
    first = video_of(delegated(gateway, token, one[:MIN_PART_BYTES], head))
    second = video_of(delegated(gateway, token, two[:MIN_PART_BYTES], head))
    ambiguous = delegated(gateway, token, one[MIN_PART_BYTES:], rest)
    assert ambiguous.status == 400 and problem_type(json.loads(ambiguous.body)) == "video-upload-ambiguous"
    drain_parts()
    assert status(tenant, first)["ingest"]["status"] == "uploading"
    assert status(tenant, second)["ingest"]["status"] == "uploading"


def raw_post(gateway: Gateway, tenant: ApiClient, video_id: str, body: bytes, content_type: str) -> GatewayResponse:
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "Authorization": f"Bearer {tenant.token}",
    }
    return gateway.handle("POST", f"/videos/{video_id}/source", headers, body)


@pytest.mark.parametrize(
    ("body", "content_type", "slug"),
    [
        (b"", "multipart/form-data; boundary=abc", "uploaded-file-empty"),
        (b"raw bytes of a video", "video/mp4", "uploaded-file-no-file"),
        (b"raw bytes of a video", "application/octet-stream", "uploaded-file-no-file"),
        (b"--abc\r\n", "multipart/form-data", "uploaded-file-no-file"),
    ],
)
def test_bodies_that_cannot_hold_a_file_are_refused_at_the_gateway(
    gateway: Gateway, tenant: ApiClient, body: bytes, content_type: str, slug: str
) -> None:
    video_id = new_video(tenant)
    response = raw_post(gateway, tenant, video_id, body, content_type)
    assert response.status == 400 and problem_type(json.loads(response.body)) == slug, response.body
    drain_parts()
    assert "ingest" not in status(tenant, video_id)


def failure_of(tenant: ApiClient, video_id: str) -> str:
    body = status(tenant, video_id)
    assert body["encoding"]["playable"] is False
    return str(body["encoding"].get("failure") or "")


def test_a_multipart_body_without_a_file_field_ends_the_upload_failed(gateway: Gateway, tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    body, content_type = urllib3.encode_multipart_formdata([("title", "no file here")])
    response = raw_post(gateway, tenant, video_id, body, content_type)
    assert response.status == 201  # only the stored body tells
    drain_parts()
    assert "no uploaded file" in failure_of(tenant, video_id)
    assert outbox_types(tenant).count("video.encoding.failed") == 1
    again = upload(gateway, tenant, video_id, b"late", "part 1/1")
    assert again[0] == 400 and problem_type(again[1]) == "video-upload-failed"


def test_an_empty_file_ends_the_upload_failed(gateway: Gateway, tenant: ApiClient) -> None:
    video_id = new_video(tenant)
    assert upload(gateway, tenant, video_id, b"", "part 1/1")[0] == 201
    drain_parts()
    assert "empty" in failure_of(tenant, video_id)
    assert outbox_types(tenant).count("video.encoding.failed") == 1


def test_a_short_non_last_part_ends_the_upload_failed(gateway: Gateway, tenant: ApiClient) -> None:
    """The envelope makes the body 5 MiB while the file is a few bytes short: the gateway lets it
    through, the stored body tells; the upload never waits for ever."""
    video_id = new_video(tenant)
    code, _ = upload(gateway, tenant, video_id, payload(MIN_PART_BYTES - 10), "part 1/2")
    assert code == 201
    assert upload(gateway, tenant, video_id, b"tail", "part 2/2")[0] == 201
    drain_parts()
    assert "at least 5 MiB" in failure_of(tenant, video_id)
    assert outbox_types(tenant).count("video.encoding.failed") == 1
