"""Nothing orphaned: when DynamoDB's TTL removes a discarded video (or anything else removes its
item), the stream consumer deletes its files in both buckets and the items that shared its keys.

The TTL is simulated by deleting the item: the stream's REMOVE record is the same (TTL's adds
only a `userIdentity`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from app import app
from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.core.domain.errors import RepositoryUnavailable
from chalicelib.vod import wiring as vod_wiring
from chalicelib.vod.adapters.purge import S3Sweeper
from chalicelib.vod.adapters.upload_tokens import DynamoUploadTokenRepository
from chalicelib.vod.consumers.purge import purge_videos
from chalicelib.vod.domain.encoding import JobKind
from chalicelib.vod.domain.purge import Purged, belongs
from chalicelib.vod.domain.uploads import OpenUpload
from chalicelib.vod.services.purge import PurgeService
from devstack.emulator import TABLE_NAME
from devstack.gateway import Gateway
from tests.integration.conftest import ApiClient
from tests.integration.files import VTT, create_video, png, upload
from tests.integration.test_outbox import announced_removals, stream_event
from tests.integration.test_pipeline import RecordingEncoder, completed
from tests.integration.test_uploads import drain_parts, payload
from tests.integration.test_uploads import upload as upload_source

UPLOADS = resources.UPLOADS_BUCKET.env
MEDIA = resources.MEDIA_BUCKET.env


def keys(bucket_env: str) -> set[str]:
    s3 = boto3.client("s3")
    found: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=os.environ[bucket_env]):
        found.update(item["Key"] for item in page.get("Contents", []))
    return found


def put(bucket_env: str, key: str, body: bytes = b"x") -> None:
    boto3.client("s3").put_object(Bucket=os.environ[bucket_env], Key=key, Body=body)


def items_of(project_id: str, video_id: str) -> list[dict[str, Any]]:
    """Every item of the table that names the video (a scan: the test table is small)."""
    client = boto3.client("dynamodb")
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=TABLE_NAME):
        for item in page["Items"]:
            text = str(item)
            if video_id in text and project_id in text and "OUTBOX" not in text and "AUDIT" not in text:
                found.append(item)
    return found


def with_files(api: ApiClient, title: str) -> str:
    """A video with a source, an HLS rendition, a caption and a thumbnail, put straight in place."""
    video_id = create_video(api, title)
    put(UPLOADS, f"{resources.SOURCES_PREFIX}{api.project_id}/{video_id}")
    put(MEDIA, f"vod/{video_id}/hls/720p/index_720p.m3u8")
    put(MEDIA, f"vod/{video_id}/hls/720p/segment_00001.ts")
    assert upload(api, f"/videos/{video_id}/captions/en", "en.vtt", VTT).status_code == 200
    assert upload(api, f"/videos/{video_id}/thumbnail", "t.png", png(), "image/png").status_code == 200
    return video_id


@pytest.fixture
def gateway(aws: None) -> Gateway:
    return Gateway(app, authorizer_ttl=0)


@pytest.fixture
def encoder(tenant: ApiClient) -> Iterator[RecordingEncoder]:
    recording = RecordingEncoder()
    vod_wiring.pipeline_service().encoder = recording
    yield recording


def encoded(gateway: Gateway, api: ApiClient, encoder: RecordingEncoder) -> str:
    """A video uploaded through the gateway (request body, session, part, source, media state),
    encoded (playlists, a rendition's segments, the MP4, a thumbnail frame), with a caption, a
    chapter and an uploaded thumbnail."""
    video_id = create_video(api, "victim")
    code, _ = upload_source(gateway, api, video_id, payload(200_000), "part 1/1")
    assert code == 201 and drain_parts() >= 1
    pipeline = vod_wiring.pipeline_service()
    for job in list(encoder.jobs):
        if job.video_id == video_id and job.kind in (JobKind.REMUX, JobKind.THUMBNAIL, JobKind.MP4):
            pipeline.on_job_event(completed(job))
        elif job.video_id == video_id and job.quality == "720p":
            pipeline.on_job_event(completed(job))
            for n in range(3):
                put(MEDIA, f"vod/{video_id}/hls/720p/index_720p_{n:05d}.ts")
    put(MEDIA, f"vod/{video_id}/mp4/source.mp4")
    # An assembled upload deletes its request bodies; one the assembly never took stays 7 days.
    put(UPLOADS, f"{resources.INCOMING_PREFIX}{api.project_id}/{video_id}/request-never-assembled")
    assert upload(api, f"/videos/{video_id}/captions/fr", "fr.vtt", VTT).status_code == 200
    assert upload(api, f"/videos/{video_id}/chapters/en", "en.vtt", VTT).status_code == 200
    assert upload(api, f"/videos/{video_id}/thumbnail", "t.png", png(), "image/png").status_code == 200
    return video_id


def expire(api: ApiClient, video_id: str) -> None:
    """What DynamoDB's TTL does once `deletesAt` has passed: the item goes, the stream says REMOVE."""
    boto3.client("dynamodb").delete_item(
        TableName=TABLE_NAME, Key={"PK": {"S": f"P#{api.project_id}#VIDEO"}, "SK": {"S": video_id}}
    )


def removal_of(video_id: str) -> dict[str, Any]:
    event = announced_removals(resources.VIDEO_REMOVALS_QUEUE, video_id)
    assert len(event["Records"]) == 1
    return event


def every_removal() -> dict[str, Any]:
    return announced_removals(resources.VIDEO_REMOVALS_QUEUE)


def purge(event: dict[str, Any]) -> Any:
    """Invokes the consumer the way its event-source mapping does."""
    return purge_videos(event, None)


def spy(monkeypatch: pytest.MonkeyPatch) -> list[Purged]:
    """What each purge the consumer runs from now on removed."""
    outcomes: list[Purged] = []
    real = PurgeService.purge

    def recorded(self: PurgeService, project_id: str, video_id: str) -> Purged:
        outcomes.append(real(self, project_id, video_id))
        return outcomes[-1]

    monkeypatch.setattr(PurgeService, "purge", recorded)
    return outcomes


def test_a_purged_video_leaves_no_file_and_no_item_behind(
    gateway: Gateway, tenant: ApiClient, other_tenant: ApiClient, encoder: RecordingEncoder
) -> None:
    victim = encoded(gateway, tenant, encoder)
    sibling = with_files(tenant, "same project")
    stranger = with_files(other_tenant, "other project")
    uploads_before, media_before = keys(UPLOADS), keys(MEDIA)
    mine = {k for k in uploads_before | media_before if victim in k}
    folders = {k.split("/")[0] for k in uploads_before if victim in k} | {
        k.split("/")[2] for k in media_before if k.startswith(f"vod/{victim}/") and k.count("/") > 2
    }
    assert {"incoming", "sources", "hls", "mp4", "captions", "chapters"} <= folders, sorted(mine)
    assert f"vod/{victim}/thumbnail.png" in media_before
    assert len(items_of(tenant.project_id, victim)) >= 7  # video, media, 2 captions, chapter, thumbnail, session, part

    # Discarded: the video waits in the bin, its files stay.
    assert tenant.call("DELETE", f"/videos/{victim}").status_code == 204
    assert purge(every_removal()) == {"batchItemFailures": []}
    assert keys(UPLOADS) == uploads_before and keys(MEDIA) == media_before

    expire(tenant, victim)
    assert purge(every_removal()) == {"batchItemFailures": []}

    assert not {k for k in keys(UPLOADS) | keys(MEDIA) if victim in k}
    assert keys(UPLOADS) == {k for k in uploads_before if victim not in k}
    assert keys(MEDIA) == {k for k in media_before if victim not in k}
    assert items_of(tenant.project_id, victim) == []
    for api, video_id in ((tenant, sibling), (other_tenant, stranger)):
        assert api.call("GET", f"/videos/{video_id}/captions/en").status_code == 200
        assert f"vod/{video_id}/captions/en.vtt" in keys(MEDIA)
        assert f"{resources.SOURCES_PREFIX}{api.project_id}/{video_id}" in keys(UPLOADS)


def test_a_redelivered_removal_finds_nothing_and_succeeds(tenant: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    video_id = with_files(tenant, "twice")
    expire(tenant, video_id)
    removal = removal_of(video_id)
    assert purge(removal) == {"batchItemFailures": []}
    outcomes = spy(monkeypatch)
    assert purge(removal) == {"batchItemFailures": []}
    (again,) = outcomes
    assert (again.upload_objects, again.media_objects, again.items) == (0, 0, 0)


def test_its_own_removals_never_start_another_purge(tenant: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    video_id = with_files(tenant, "loop")
    expire(tenant, video_id)
    outcomes = spy(monkeypatch)
    assert purge(every_removal()) == {"batchItemFailures": []}
    # The stream now also holds the REMOVEs of the caption, thumbnail and media items.
    assert sum(r["eventName"] == "REMOVE" for r in stream_event()["Records"]) > 1
    # Only the video's own removal is announced (the others are items of other entities), and
    # the publisher, reading the stream again, announces it again: the purge runs twice, no more.
    announced = every_removal()
    assert len(announced["Records"]) == 1
    assert purge(announced) == {"batchItemFailures": []}
    assert [(o.project_id, o.video_id) for o in outcomes] == [(tenant.project_id, video_id)] * 2


def test_a_storage_failure_is_a_batch_item_failure_and_the_retry_finishes(
    tenant: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = with_files(tenant, "first")
    second = with_files(tenant, "second")
    expire(tenant, first)
    expire(tenant, second)
    event = every_removal()
    (removal,) = [
        r["messageId"] for r in event["Records"] if json.loads(r["body"])["detail"]["keys"]["SK"]["S"] == second
    ]

    def refuse(self: S3Sweeper, keys: list[str]) -> None:
        if any(second in key for key in keys):
            raise RepositoryUnavailable(detail="S3 said no")
        real(self, keys)

    real = S3Sweeper.delete_keys
    monkeypatch.setattr(S3Sweeper, "delete_keys", refuse)
    assert purge(event) == {"batchItemFailures": [{"itemIdentifier": removal}]}
    assert not {k for k in keys(MEDIA) if first in k}, "the other removal is done"
    assert {k for k in keys(MEDIA) if second in k}, "the failed one is left for its retry"
    assert items_of(tenant.project_id, second), "its items too"

    monkeypatch.setattr(S3Sweeper, "delete_keys", real)
    assert purge(removal_of(second)) == {"batchItemFailures": []}
    assert not {k for k in keys(UPLOADS) | keys(MEDIA) if second in k}
    assert items_of(tenant.project_id, second) == []


def test_keys_s3_refused_fail_the_delete(aws: None) -> None:
    """DeleteObjects answers 200 with `Errors` for the keys it could not delete; so does the call
    that raises: neither is taken for a purge."""
    s3 = boto3.client("s3")
    sweeper = S3Sweeper(s3, "media")
    with Stubber(s3) as stub:
        stub.add_response(
            "delete_objects",
            {"Errors": [{"Key": "vod/vi1/a.ts", "Code": "AccessDenied", "Message": "Access Denied"}]},
            {"Bucket": "media", "Delete": {"Objects": [{"Key": "vod/vi1/a.ts"}], "Quiet": True}},
        )
        stub.add_client_error("delete_objects", "SlowDown", http_status_code=503)
        with pytest.raises(RepositoryUnavailable, match="AccessDenied"):
            sweeper.delete_keys(["vod/vi1/a.ts"])
        with pytest.raises(RepositoryUnavailable):
            sweeper.delete_keys(["vod/vi1/a.ts"])


def test_listing_and_deleting_follow_every_page(tenant: ApiClient) -> None:
    video_id = create_video(tenant, "many files")
    segments = {f"vod/{video_id}/hls/240p/s{n:03d}.ts" for n in range(7)}
    for key in segments:
        put(MEDIA, key)
    put(MEDIA, f"vod/{video_id}x/kept.ts")  # shares the prefix text, not the folder
    vod_wiring.purge_service().media = S3Sweeper(boto3.client("s3"), os.environ[MEDIA], page_size=2)
    expire(tenant, video_id)
    assert purge(removal_of(video_id)) == {"batchItemFailures": []}
    assert {k for k in keys(MEDIA) if video_id in k} == {f"vod/{video_id}x/kept.ts"}


def test_only_the_named_object_or_folder_belongs_to_a_video() -> None:
    assert belongs("sources/pr1/vi1", "sources/pr1/vi1")
    assert belongs("sources/pr1/vi1/part", "sources/pr1/vi1")
    assert not belongs("sources/pr1/vi10", "sources/pr1/vi1")
    assert belongs("vod/vi1/hls/x.ts", "vod/vi1/")
    assert not belongs("vod/vi10/hls/x.ts", "vod/vi1/")


def test_a_failing_list_is_a_batch_item_failure(tenant: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    video_id = with_files(tenant, "unlistable")
    expire(tenant, video_id)
    removal = removal_of(video_id)
    sweeper = vod_wiring.purge_service().uploads
    assert isinstance(sweeper, S3Sweeper)

    def broken(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "ListObjectsV2")

    monkeypatch.setattr(sweeper.client, "list_objects_v2", broken)
    message_id = removal["Records"][0]["messageId"]
    assert purge(removal) == {"batchItemFailures": [{"itemIdentifier": message_id}]}
    assert items_of(tenant.project_id, video_id), "nothing is lost: the items wait for the retry"


def test_an_unfinished_delegated_upload_leaves_its_token(tenant: ApiClient) -> None:
    """A chunk without a videoId must never be routed to a purged video."""
    video_id = create_video(tenant, "half uploaded")
    token_id = tenant.call("POST", "/upload-tokens", {}).json_body["token"]
    tokens = DynamoUploadTokenRepository(core_wiring.table())
    token = tokens.get(tenant.project_id, token_id)
    assert token is not None
    tokens.remember_open_upload(token, OpenUpload(video_id=video_id, slot="part-2", next=2))
    boto3.client("dynamodb").put_item(
        TableName=TABLE_NAME,
        Item={"PK": {"S": f"P#{tenant.project_id}#UPLOAD"}, "SK": {"S": video_id},
              "video_id": {"S": video_id}, "token_id": {"S": token_id}},
    )  # fmt: skip
    assert [u.video_id for u in tokens.open_uploads(token)] == [video_id]

    expire(tenant, video_id)
    assert purge(removal_of(video_id)) == {"batchItemFailures": []}
    assert tokens.open_uploads(token) == []
    assert tenant.call("GET", f"/upload-tokens/{token_id}").status_code == 200
    assert items_of(tenant.project_id, video_id) == []
