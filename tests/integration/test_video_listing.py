"""Issue 10: `GET /videos` reads the listing index (GSI2: the project's kept or discarded videos,
only the attributes the query filters and sorts on), then the page's videos and media items by key,
instead of the project's whole video partition. The answers are the same as before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import pytest

from chalicelib.core import config, resources
from chalicelib.core.adapters.dynamodb import PK, SK, Table, project_partition
from chalicelib.vod.adapters.media import media_source_update
from chalicelib.vod.adapters.videos import backfill_listing
from chalicelib.vod.domain.media import IngestMethod, IngestStatus
from devstack.bootstrap import add_missing_indexes
from tests.integration.conftest import ApiClient


def create(api: ApiClient, **fields: Any) -> dict[str, Any]:
    response = api.call("POST", "/videos", {"title": "A video", **fields})
    assert response.status_code == 201, response.body
    return dict(response.json_body)


@pytest.fixture
def dynamodb_calls() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB call the app makes while the test runs: (operation, parameters)."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params))

    events = config.dynamodb().meta.events
    events.register("provide-client-params.dynamodb", record)
    yield calls
    events.unregister("provide-client-params.dynamodb", record)


def table() -> Table:
    return Table(config.dynamodb(), config.get_settings().table_name)


def test_a_list_reads_the_listing_index_and_only_the_page_by_key(
    tenant: ApiClient, dynamodb_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    created = [create(tenant, title=f"clip {i:02d}", tags=["all", f"n{i % 3}"]) for i in range(30)]
    uploading = created[10]["videoId"]
    now = datetime.now(UTC)
    table().write(
        [media_source_update(tenant.project_id, uploading, IngestStatus.INGESTING, IngestMethod.URL, 9, "k", now)]
    )
    dynamodb_calls.clear()

    page = tenant.call("GET", "/videos?tags[]=all&sortBy=title&sortOrder=desc&pageSize=25").json_body

    assert page["pagination"]["itemsTotal"] == 30 and page["pagination"]["pagesTotal"] == 2
    assert [v["title"] for v in page["data"]] == [f"clip {i:02d}" for i in range(29, 4, -1)]
    reads = [(operation, params) for operation, params in dynamodb_calls if operation in ("Query", "BatchGetItem")]
    assert [operation for operation, _ in reads] == ["Query", "BatchGetItem"]
    query = reads[0][1]
    assert query["IndexName"] == resources.GSI2
    assert query["ExpressionAttributeValues"][":pk"] == {"S": project_partition(tenant.project_id, "VIDEOS")}
    # Only the attributes this query filters and sorts on, not whole items.
    assert set(query["ExpressionAttributeNames"].values()) == {
        resources.GSI2_PARTITION_KEY,
        "video_id",
        "created_at",
        "title",
        "tags",
    }
    keys = reads[1][1]["RequestItems"][config.get_settings().table_name]["Keys"]
    assert len(keys) == 50  # the page's 25 videos and their media items
    # Each listed video is shown exactly as `GET /videos/{id}` shows it, media state included.
    for shown in page["data"]:
        assert shown == tenant.call("GET", f"/videos/{shown['videoId']}").json_body
    assert any(v["videoId"] == uploading for v in page["data"])
    assert (
        tenant.call("GET", "/videos?currentPage=2&pageSize=25&sortBy=title&sortOrder=desc").json_body["pagination"][
            "currentPageItems"
        ]
        == 5
    )


def test_a_default_list_reads_only_ids_and_creation_times(
    tenant: ApiClient, dynamodb_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    videos = [create(tenant, description="x" * 3000) for _ in range(3)]
    dynamodb_calls.clear()
    listed = tenant.call("GET", "/videos").json_body["data"]
    # Creation order; within the same second, by id (as before).
    assert listed == sorted(videos, key=lambda v: (v["createdAt"], v["videoId"]))
    query = next(params for operation, params in dynamodb_calls if operation == "Query")
    assert set(query["ExpressionAttributeNames"].values()) == {resources.GSI2_PARTITION_KEY, "video_id", "created_at"}


def test_discard_and_restore_move_the_video_between_listing_partitions(tenant: ApiClient) -> None:
    kept, gone = create(tenant)["videoId"], create(tenant)["videoId"]
    tenant.call("DELETE", f"/videos/{gone}")
    item = table().get(project_partition(tenant.project_id, "VIDEO"), gone)
    assert item is not None
    assert item[resources.GSI2_PARTITION_KEY] == project_partition(tenant.project_id, "DISCARDED_VIDEOS")
    assert [v["videoId"] for v in tenant.call("GET", "/videos").json_body["data"]] == [kept]
    assert [v["videoId"] for v in tenant.call("GET", "/discarded/videos").json_body["data"]] == [gone]
    tenant.call("PATCH", f"/discarded/videos/{gone}", {"discarded": False})
    assert {v["videoId"] for v in tenant.call("GET", "/videos").json_body["data"]} == {kept, gone}
    assert tenant.call("GET", "/discarded/videos").json_body["data"] == []


def test_media_items_are_not_in_the_listing_index(tenant: ApiClient) -> None:
    video_id = create(tenant)["videoId"]
    now = datetime.now(UTC)
    table().write(
        [media_source_update(tenant.project_id, video_id, IngestStatus.INGESTING, IngestMethod.URL, 9, "k", now)]
    )
    rows = list(table().query(project_partition(tenant.project_id, "VIDEOS"), index=resources.GSI2))
    assert [(row[PK], row[SK]) for row in rows] == [(project_partition(tenant.project_id, "VIDEO"), video_id)]


def test_a_video_changed_since_the_index_was_read_is_left_out(tenant: ApiClient) -> None:
    """GSI reads are eventually consistent: a row of a video discarded a moment ago is dropped
    from the page instead of being shown as kept."""
    kept, gone = create(tenant)["videoId"], create(tenant)["videoId"]
    stale = list(table().query(project_partition(tenant.project_id, "VIDEOS"), index=resources.GSI2))
    tenant.call("DELETE", f"/videos/{gone}")
    with patch.object(Table, "query", lambda self, *args, **kwargs: iter(stale)):
        listed = tenant.call("GET", "/videos").json_body
    assert [v["videoId"] for v in listed["data"]] == [kept]


def test_batch_get_reads_over_a_hundred_keys(aws: None) -> None:
    store = table()
    pk = project_partition("prTest", "VIDEO")
    for n in range(150):
        store.client.put_item(TableName=store.name, Item={PK: {"S": pk}, SK: {"S": f"{n:03d}"}})
    wanted = [(pk, f"{n:03d}") for n in range(0, 160, 1)]
    found = store.batch_get(wanted)
    assert sorted(found) == [(pk, f"{n:03d}") for n in range(150)]


def without_listing_keys(api: ApiClient, video_id: str) -> None:
    """The item as a version before the listing index wrote it."""
    store = table()
    store.client.update_item(
        TableName=store.name,
        Key={PK: {"S": project_partition(api.project_id, "VIDEO")}, SK: {"S": video_id}},
        UpdateExpression="REMOVE GSI2PK, GSI2SK",
    )


def test_the_backfill_lists_videos_written_before_the_index(tenant: ApiClient) -> None:
    old, new = create(tenant)["videoId"], create(tenant)["videoId"]
    discarded = create(tenant)["videoId"]
    tenant.call("DELETE", f"/videos/{discarded}")
    for video_id in (old, discarded):
        without_listing_keys(tenant, video_id)
    assert [v["videoId"] for v in tenant.call("GET", "/videos").json_body["data"]] == [new]

    assert backfill_listing(table()) == 2
    assert {v["videoId"] for v in tenant.call("GET", "/videos").json_body["data"]} == {old, new}
    assert [v["videoId"] for v in tenant.call("GET", "/discarded/videos").json_body["data"]] == [discarded]
    assert backfill_listing(table()) == 0


def test_a_restored_devstack_state_gets_the_index_and_its_keys(tenant: ApiClient) -> None:
    """A state saved before GSI2 has a table without it: the devstack adds it, then the keys."""
    video_id = create(tenant)["videoId"]
    client = config.dynamodb()
    item = client.get_item(
        TableName=config.get_settings().table_name,
        Key={PK: {"S": project_partition(tenant.project_id, "VIDEO")}, SK: {"S": video_id}},
    )["Item"]
    older = {
        **resources.TABLE,
        "GlobalSecondaryIndexes": [i for i in resources.TABLE["GlobalSecondaryIndexes"] if i["IndexName"] == "GSI1"],
        "AttributeDefinitions": [
            a for a in resources.TABLE["AttributeDefinitions"] if not a["AttributeName"].startswith("GSI2")
        ],
    }
    client.create_table(TableName="older", **older)
    client.put_item(TableName="older", Item={k: v for k, v in item.items() if not k.startswith("GSI2")})

    add_missing_indexes(client, "older")

    indexes = client.describe_table(TableName="older")["Table"]["GlobalSecondaryIndexes"]
    assert sorted(index["IndexName"] for index in indexes) == [resources.GSI1, resources.GSI2]
    rows = list(Table(client, "older").query(project_partition(tenant.project_id, "VIDEOS"), index=resources.GSI2))
    assert [row["video_id"] for row in rows] == [video_id]
    add_missing_indexes(client, "older")  # nothing missing: nothing changes
