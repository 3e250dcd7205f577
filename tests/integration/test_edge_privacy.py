"""The edge's list of private videos follows the table: video events and removed video items reach
the playback consumer through the outbox publisher, the bus rules (resources.BUS_ROUTES) and the
playback-videos queue, all on moto; the store is an in-memory EdgeStore (the real adapter's calls
are checked against the service model in tests/unit/test_edge_store.py)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from chalicelib.core import resources
from chalicelib.core.wiring import table
from chalicelib.playback import wiring
from chalicelib.playback.adapters.geo import DynamoGeoPolicies
from chalicelib.playback.adapters.live_streams import DynamoPublicLiveStreams
from chalicelib.playback.adapters.videos import DynamoPublicVideos
from chalicelib.playback.consumers.edge import sync_edge_privacy
from chalicelib.playback.domain.edge import PRIVATE_VALUE, geo_project_entry, private_entry, video_project_entry
from chalicelib.playback.services.edge import EdgeService
from devstack.emulator import TABLE_NAME
from devstack.ivsplane import IvsPlane
from tests.integration.conftest import ApiClient
from tests.integration.test_live_streams_api import create as create_live_stream
from tests.integration.test_live_streams_api import ivs as ivs  # noqa: PLC0414 - the fixture
from tests.integration.test_outbox import drain, publish, published, stream_event


class MemoryStore:
    def __init__(self) -> None:
        self.entries: dict[str, str] = {}
        self.writes = 0

    def put(self, key: str, value: str) -> None:
        self.entries[key] = value
        self.writes += 1

    def delete(self, key: str) -> None:
        self.entries.pop(key, None)
        self.writes += 1

    def put_many(self, entries: dict[str, str]) -> None:
        self.entries.update(entries)
        self.writes += 1


@pytest.fixture
def store(aws: None, monkeypatch: pytest.MonkeyPatch) -> MemoryStore:
    memory = MemoryStore()
    monkeypatch.setattr(
        wiring,
        "edge_service",
        lambda: EdgeService(
            DynamoPublicVideos(table()), memory, DynamoGeoPolicies(table()), DynamoPublicLiveStreams(table())
        ),
    )
    return memory


def deliver() -> tuple[dict[str, Any], list[str]]:
    """Publishes the stream from its start and hands the playback queue's messages to the consumer as Lambda
    would; returns its answer and the messages' detail types."""
    assert publish(stream_event()) == {"batchItemFailures": []}
    published()
    messages = drain(resources.PLAYBACK_VIDEOS_QUEUE)
    records = [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{resources.PLAYBACK_VIDEOS_QUEUE.name}",
            "awsRegion": "us-east-1",
        }
        for message in messages
    ]
    answer: dict[str, Any] = sync_edge_privacy({"Records": records}, None)
    return answer, [json.loads(message["Body"])["detail-type"] for message in messages]


def test_private_videos_are_listed_while_private(tenant: ApiClient, store: MemoryStore) -> None:
    private = tenant.call("POST", "/videos", {"title": "Board meeting", "public": False}).json_body["videoId"]
    public = tenant.call("POST", "/videos", {"title": "Trailer"}).json_body["videoId"]
    answer, kinds = deliver()
    assert answer == {"batchItemFailures": []} and kinds == ["video.created", "video.created"]
    assert store.entries == {private_entry(private): PRIVATE_VALUE}

    tenant.call("PATCH", f"/videos/{private}", {"public": True})
    tenant.call("PATCH", f"/videos/{public}", {"public": False})
    # The stream is published again from its start: the creations come again, after the updates.
    answer, kinds = deliver()
    assert answer == {"batchItemFailures": []} and kinds.count("video.updated") == 2
    assert store.entries == {private_entry(public): PRIVATE_VALUE}


def test_redeliveries_and_late_events_converge_on_the_table(tenant: ApiClient, store: MemoryStore) -> None:
    video = tenant.call("POST", "/videos", {"title": "Flip", "public": False}).json_body["videoId"]
    tenant.call("PATCH", f"/videos/{video}", {"public": True})
    # Both events are handled after the second write: each reads the video as it is now.
    answer, kinds = deliver()
    assert kinds == ["video.created", "video.updated"] and answer == {"batchItemFailures": []}
    assert store.entries == {}


def test_a_removed_video_leaves_the_list(tenant: ApiClient, store: MemoryStore) -> None:
    video = tenant.call("POST", "/videos", {"title": "Gone", "public": False}).json_body["videoId"]
    deliver()
    assert store.entries == {private_entry(video): PRIVATE_VALUE}
    key = {"PK": {"S": f"P#{tenant.project_id}#VIDEO"}, "SK": {"S": video}}
    boto3.client("dynamodb").delete_item(TableName=TABLE_NAME, Key=key)
    answer, kinds = deliver()
    assert resources.ITEM_REMOVED in kinds and answer == {"batchItemFailures": []}
    assert store.entries == {}


def test_a_failed_write_is_retried_alone(
    tenant: ApiClient, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant.call("POST", "/videos", {"title": "Unlucky", "public": False})

    def refuse(key: str, value: str) -> None:
        raise RuntimeError("store unavailable")

    monkeypatch.setattr(store, "put", refuse)
    answer, _ = deliver()
    assert len(answer["batchItemFailures"]) == 1


def test_without_a_store_messages_are_acknowledged(tenant: ApiClient, aws: None) -> None:
    """The devstack: no edge store is configured; its media server reads the table itself."""
    tenant.call("POST", "/videos", {"title": "Local", "public": False})
    assert wiring.edge_service() is None
    answer, kinds = deliver()
    assert kinds == ["video.created"] and answer == {"batchItemFailures": []}


def test_only_privacy_changes_write_to_the_store(tenant: ApiClient, store: MemoryStore) -> None:
    """The store's API is billed per call: edits of other fields, a public video's creation and its
    removal write nothing."""
    public = tenant.call("POST", "/videos", {"title": "Trailer"}).json_body["videoId"]
    deliver()
    assert store.writes == 0
    tenant.call("PATCH", f"/videos/{public}", {"title": "Trailer (director's cut)", "tags": ["x"]})
    key = {"PK": {"S": f"P#{tenant.project_id}#VIDEO"}, "SK": {"S": public}}
    boto3.client("dynamodb").delete_item(TableName=TABLE_NAME, Key=key)
    answer, kinds = deliver()
    assert {"video.updated", resources.ITEM_REMOVED} <= set(kinds) and answer == {"batchItemFailures": []}
    assert store.writes == 0 and store.entries == {}


# -- geo restrictions: `playback-geo.updated` and the videos of restricted projects ----------------


def test_a_restriction_reaches_the_store_with_the_projects_videos(tenant: ApiClient, store: MemoryStore) -> None:
    before = tenant.call("POST", "/videos", {"title": "Older"}).json_body["videoId"]
    deliver()
    assert store.entries == {}
    assert tenant.call("PUT", "/playback-geo", {"mode": "deny", "countries": ["RU", "CN"]}).status_code == 200
    answer, kinds = deliver()
    assert "playback-geo.updated" in kinds and answer == {"batchItemFailures": []}
    project = tenant.project_id
    assert store.entries == {geo_project_entry(project): "deny:CN,RU", video_project_entry(before): project}

    # A video created while the project is restricted is mapped; one created under `off` is not.
    after = tenant.call("POST", "/videos", {"title": "Newer"}).json_body["videoId"]
    deliver()
    assert store.entries[video_project_entry(after)] == project
    tenant.call("PUT", "/playback-geo", {"mode": "allow", "countries": ["FR"]})
    deliver()
    assert store.entries[geo_project_entry(project)] == "allow:FR"

    # Lifted: the policy goes; the videos' entries lead nowhere and go with their videos.
    tenant.call("PUT", "/playback-geo", {"mode": "off", "countries": []})
    deliver()
    assert geo_project_entry(project) not in store.entries
    unrestricted = tenant.call("POST", "/videos", {"title": "Free"}).json_body["videoId"]
    key = {"PK": {"S": f"P#{project}#VIDEO"}, "SK": {"S": before}}
    boto3.client("dynamodb").delete_item(TableName=TABLE_NAME, Key=key)
    answer, _ = deliver()
    assert answer == {"batchItemFailures": []}
    assert store.entries == {video_project_entry(after): project}
    assert video_project_entry(unrestricted) not in store.entries


def test_the_geo_event_writes_the_policy_as_it_is_now(tenant: ApiClient, store: MemoryStore) -> None:
    """Two changes handled after both were written: each event reads the table, the last one wins
    whatever the order, and a redelivery changes nothing."""
    tenant.call("PUT", "/playback-geo", {"mode": "deny", "countries": ["XX"]})
    tenant.call("PUT", "/playback-geo", {"mode": "deny", "countries": ["YY"]})
    answer, kinds = deliver()
    assert kinds.count("playback-geo.updated") == 2 and answer == {"batchItemFailures": []}
    assert store.entries == {geo_project_entry(tenant.project_id): "deny:YY"}


def test_another_projects_restriction_maps_only_its_videos(
    tenant: ApiClient, other_tenant: ApiClient, store: MemoryStore
) -> None:
    mine = tenant.call("POST", "/videos", {"title": "Mine"}).json_body["videoId"]
    theirs = other_tenant.call("POST", "/videos", {"title": "Theirs"}).json_body["videoId"]
    other_tenant.call("PUT", "/playback-geo", {"mode": "deny", "countries": ["XX"]})
    deliver()
    assert video_project_entry(theirs) in store.entries and video_project_entry(mine) not in store.entries


# -- private live streams: their thumbnails follow the videos' rule at the edge --------------------


def test_private_live_streams_are_listed_while_private(ivs: IvsPlane, tenant: ApiClient, store: MemoryStore) -> None:
    private = create_live_stream(tenant, name="Board meeting", public=False)["liveStreamId"]
    public = create_live_stream(tenant, name="Launch")["liveStreamId"]
    answer, kinds = deliver()
    assert answer == {"batchItemFailures": []} and kinds.count("live-stream.created") == 2
    # A public stream's creation writes nothing (billed calls).
    assert store.entries == {private_entry(private): PRIVATE_VALUE} and store.writes == 1

    tenant.call("PATCH", f"/live-streams/{private}", {"public": True})
    tenant.call("PATCH", f"/live-streams/{public}", {"public": False})
    tenant.call("PATCH", f"/live-streams/{public}", {"name": "Launch (rehearsal)"})
    answer, kinds = deliver()
    assert answer == {"batchItemFailures": []} and kinds.count("live-stream.updated") == 3
    assert store.entries == {private_entry(public): PRIVATE_VALUE}

    # Deleted: its removed item takes the entry away (a public one's removal writes nothing).
    writes = store.writes
    assert tenant.call("DELETE", f"/live-streams/{private}").status_code == 204
    answer, kinds = deliver()
    assert resources.ITEM_REMOVED in kinds and answer == {"batchItemFailures": []}
    assert store.entries == {private_entry(public): PRIVATE_VALUE}
    assert tenant.call("DELETE", f"/live-streams/{public}").status_code == 204
    deliver()
    assert store.entries == {}
    # Each delivery publishes the stream from its start again: the deletes converge on the table.
    assert store.writes > writes


def test_another_projects_private_live_stream_is_listed_under_its_own_id(
    ivs: IvsPlane, tenant: ApiClient, other_tenant: ApiClient, store: MemoryStore
) -> None:
    theirs = create_live_stream(other_tenant, public=False)["liveStreamId"]
    mine = create_live_stream(tenant)["liveStreamId"]
    deliver()
    assert store.entries == {private_entry(theirs): PRIVATE_VALUE}
    # The other project's PATCH of my stream is a 404 and changes nothing.
    assert other_tenant.call("PATCH", f"/live-streams/{mine}", {"public": False}).status_code == 404
    deliver()
    assert store.entries == {private_entry(theirs): PRIVATE_VALUE}
