"""POST /videos with `source` (URL or videoId) on in-process moto, and the sources consumer
fetching from a real HTTP server on 127.0.0.1 (the devstack's loopback switch is on)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.core.adapters.dynamodb import project_partition
from chalicelib.vod.domain.ingest import MIB, IngestKind, IngestMessage
from chalicelib.vod.domain.uploads import source_key
from tests.integration.conftest import ApiClient

# -- a real HTTP server on 127.0.0.1 -----------------------------------------------------------


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Origin:
    """Serves fixed routes and counts the requests each path received."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.hits: dict[str, int] = {}
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                origin.hits[self.path] = origin.hits.get(self.path, 0) + 1
                route = origin.routes.get(self.path, Route(404, b"not found"))
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


# 9 MiB and a bit: two 8 MiB multipart parts, the last one short.
PAYLOAD = bytes(range(256)) * (9 * MIB // 256) + b"tail"


@pytest.fixture
def origin() -> Iterator[Origin]:
    server = Origin({})
    server.routes.update(
        {
            "/video.mp4": Route(body=PAYLOAD),
            "/r1": Route(302, headers={"Location": "/r2"}),
            "/r2": Route(301, headers={"Location": server.url("/video.mp4")}),
            "/evil": Route(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
            "/private": Route(307, headers={"Location": "http://10.1.2.3/x.mp4"}),
        }
    )
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


# -- helpers ----------------------------------------------------------------------------------


def create(tenant: ApiClient, source: str) -> Any:
    return tenant.call("POST", "/videos", {"title": "from elsewhere", "source": source})


def queued() -> list[dict[str, Any]]:
    """Ingest messages on the sources queue (S3 notifications and test events skipped)."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=resources.SOURCES_QUEUE.name)["QueueUrl"]
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        found.extend(body for m in batch if "ingest" in (body := json.loads(m["Body"])))


def status(tenant: ApiClient, video_id: str) -> Any:
    response = tenant.call("GET", f"/videos/{video_id}/status")
    assert response.status_code == 200, response.body
    return response.json_body


def outbox(project_id: str, event_type: str) -> list[dict[str, Any]]:
    items = core_wiring.table().query(project_partition(project_id, "OUTBOX"))
    return [json.loads(i["payload"]) for i in items if i["eventType"] == event_type]


def consume(client: Client, message: IngestMessage) -> Any:
    """Invokes the sources consumer as its event-source mapping would."""
    event = client.events.generate_sqs_event(queue_name=resources.SOURCES_QUEUE.name, message_bodies=[message.body()])
    return client.lambda_.invoke("ingest_sources", event).payload


def stored(project_id: str, video_id: str) -> bytes | None:
    store = core_wiring.uploads_bucket()
    key = source_key(project_id, video_id)
    return None if store.head(key) is None else store.read_all(key)


def media(project_id: str, video_id: str) -> Any:
    from chalicelib.vod.adapters.media import DynamoMediaRepository

    return DynamoMediaRepository(core_wiring.table()).get(project_id, video_id)


# -- the request --------------------------------------------------------------------------------


def test_create_with_a_url_queues_the_fetch_and_says_ingesting(tenant: ApiClient) -> None:
    response = create(tenant, "https://93.184.216.34/media/clip.mp4")
    assert response.status_code == 201, response.body
    video_id = response.json_body["videoId"]
    assert queued() == [
        {"ingest": "url", "projectId": tenant.project_id, "videoId": video_id,
         "url": "https://93.184.216.34/media/clip.mp4"}
    ]  # fmt: skip
    assert status(tenant, video_id)["ingest"]["status"] == "ingesting"
    state = media(tenant.project_id, video_id)
    assert (state.ingest_status.value, state.ingest_method.value) == ("ingesting", "url")


@pytest.mark.parametrize(
    "source",
    [
        "http://127.0.0.1/x",
        "http://169.254.169.254/",
        "http://[::ffff:169.254.169.254]/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://localhost:8080/a.mp4",
        "http://10.0.0.1/a.mp4",
        "ftp://x",
        "not a url",
    ],
)
def test_refused_sources_are_a_400_on_source_and_create_nothing(
    tenant: ApiClient, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    monkeypatch.delenv(resources.ALLOW_LOOPBACK_INGEST_ENV)  # as in AWS: loopback is refused too
    core_wiring.reset()  # settings are read once per process
    response = create(tenant, source)
    assert response.status_code == 400, response.body
    assert response.json_body["name"] == "source"
    assert response.json_body["title"] in ("The source URL is not allowed.", "The source is not valid.")
    assert tenant.call("GET", "/videos").json_body["pagination"]["itemsTotal"] == 0
    assert queued() == []


def test_copy_of_a_video_of_the_same_project_is_queued(tenant: ApiClient) -> None:
    origin_id = tenant.call("POST", "/videos", {"title": "origin"}).json_body["videoId"]
    response = create(tenant, origin_id)
    assert response.status_code == 201, response.body
    video_id = response.json_body["videoId"]
    assert queued() == [
        {"ingest": "copy", "projectId": tenant.project_id, "videoId": video_id, "fromVideoId": origin_id}
    ]
    assert media(tenant.project_id, video_id).ingest_method.value == "copy"


def test_another_projects_video_is_answered_like_a_missing_one(tenant: ApiClient, other_tenant: ApiClient) -> None:
    theirs = other_tenant.call("POST", "/videos", {"title": "theirs"}).json_body["videoId"]
    foreign = create(tenant, theirs)
    missing = create(tenant, "vi" + "0" * 22)
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json_body == missing.json_body
    assert foreign.json_body["name"] == "source"
    assert queued() == []


# -- the consumer ------------------------------------------------------------------------------


def url_video(tenant: ApiClient, url: str) -> IngestMessage:
    response = create(tenant, url)
    assert response.status_code == 201, response.body
    return IngestMessage(IngestKind.URL, tenant.project_id, response.json_body["videoId"], url=url)


@pytest.mark.parametrize("path", ["/video.mp4", "/r1"])
def test_fetch_streams_the_body_into_the_source_key(
    chalice_client: Client, tenant: ApiClient, origin: Origin, path: str
) -> None:
    message = url_video(tenant, origin.url(path))
    assert consume(chalice_client, message) == {"batchItemFailures": []}
    assert stored(tenant.project_id, message.video_id) == PAYLOAD
    ingest = status(tenant, message.video_id)["ingest"]
    assert (ingest["status"], ingest["filesize"]) == ("ingested", len(PAYLOAD))
    assert [e["videoId"] for e in outbox(tenant.project_id, "video.source.uploaded")] == [message.video_id]
    # A redelivered message finds the source landed: no second fetch, no second event.
    assert consume(chalice_client, message) == {"batchItemFailures": []}
    assert origin.hits["/video.mp4"] == 1
    assert len(outbox(tenant.project_id, "video.source.uploaded")) == 1


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.mp4", "The source URL answered HTTP 404."),
        ("/evil", "Redirect 1 of the source URL is not allowed: The URL's host 169.254.169.254 resolves to "
                  "169.254.169.254, and it is a cloud metadata address."),
        ("/private", "Redirect 1 of the source URL is not allowed: The URL's host 10.1.2.3 resolves to 10.1.2.3, "
                     "and it is a private address."),
    ],
)  # fmt: skip
def test_fetch_failures_mark_the_video_failed_with_a_reason(
    chalice_client: Client, tenant: ApiClient, origin: Origin, path: str, reason: str
) -> None:
    message = url_video(tenant, origin.url(path))
    assert consume(chalice_client, message) == {"batchItemFailures": []}
    assert stored(tenant.project_id, message.video_id) is None
    assert media(tenant.project_id, message.video_id).failure == reason
    assert outbox(tenant.project_id, "video.encoding.failed") == [
        {**outbox(tenant.project_id, "video.encoding.failed")[0], "videoId": message.video_id, "reason": reason}
    ]
    # Failed is final: a redelivery does not fetch again.
    hits = dict(origin.hits)
    consume(chalice_client, message)
    assert origin.hits == hits


def test_copy_duplicates_the_origins_source_in_s3(chalice_client: Client, tenant: ApiClient, origin: Origin) -> None:
    first = url_video(tenant, origin.url("/video.mp4"))
    consume(chalice_client, first)
    video_id = create(tenant, first.video_id).json_body["videoId"]
    copy = IngestMessage(IngestKind.COPY, tenant.project_id, video_id, from_video_id=first.video_id)
    assert consume(chalice_client, copy) == {"batchItemFailures": []}
    assert stored(tenant.project_id, copy.video_id) == PAYLOAD
    assert status(tenant, copy.video_id)["ingest"]["status"] == "ingested"


def test_copy_of_a_video_without_a_source_fails_with_a_reason(chalice_client: Client, tenant: ApiClient) -> None:
    origin_id = tenant.call("POST", "/videos", {"title": "empty"}).json_body["videoId"]
    video_id = create(tenant, origin_id).json_body["videoId"]
    consume(chalice_client, IngestMessage(IngestKind.COPY, tenant.project_id, video_id, from_video_id=origin_id))
    assert media(tenant.project_id, video_id).failure == f"The video {origin_id} has no source to copy yet."
    assert stored(tenant.project_id, video_id) is None
