"""State change + event in one transaction; the stream publisher moves events to the bus."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
from botocore.config import Config

from chalicelib.core import resources
from chalicelib.core import wiring as core_wiring
from chalicelib.platform.adapters.eventbus import EventBridgePublisher, OutgoingEvent
from chalicelib.platform.consumers.outbox import publish_outbox
from chalicelib.vod import wiring as vod_wiring
from devstack.emulator import TABLE_NAME
from tests.integration.conftest import ApiClient


def stream_event(after_sequence: str | None = None) -> dict[str, Any]:
    """The table's stream records as Lambda would hand them over (one shard, from the start)."""
    ddb = boto3.client("dynamodb")
    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    arn = ddb.describe_table(TableName=TABLE_NAME)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    kind = {"ShardIteratorType": "TRIM_HORIZON"}
    if after_sequence is not None:
        kind = {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": after_sequence}
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **kind)["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    for record in records:
        record["dynamodb"]["ApproximateCreationDateTime"] = int(
            record["dynamodb"]["ApproximateCreationDateTime"].timestamp()
        )
        record["eventSourceARN"] = arn
    return {"Records": records}


def publish(event: dict[str, Any]) -> Any:
    """Invokes the consumer the way its event-source mapping does."""
    return publish_outbox(event, None)


def drain(queue: resources.Queue) -> list[dict[str, Any]]:
    """Every message waiting in `queue` (deleted once read), as SQS returns them."""
    sqs = boto3.client("sqs")
    url = os.environ[queue.env]
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(dict(message))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def published() -> list[dict[str, Any]]:
    """What reached the webhook-events queue through the bus rule."""
    return [json.loads(message["Body"]) for message in drain(resources.WEBHOOK_EVENTS_QUEUE)]


def announced_removals(queue: resources.Queue, sort_key: str | None = None) -> dict[str, Any]:
    """The removals (of the items with `sort_key`, or all) as the consumer reading `queue` gets
    them: the outbox publisher reads the whole stream, the bus rule routes its announcements, and
    they come out of the queue as the SQS event Lambda hands over."""
    assert publish(stream_event()) == {"batchItemFailures": []}
    published()  # the domain events published again on the way: not what this is about
    records = [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue.name}",
            "awsRegion": "us-east-1",
        }
        for message in drain(queue)
        if sort_key in (None, json.loads(message["Body"])["detail"]["keys"]["SK"]["S"])
    ]
    return {"Records": records}


def test_video_changes_publish_their_events_with_the_catalogue_payloads(tenant: ApiClient) -> None:
    video_id = tenant.call("POST", "/videos", {"title": "evented"}).json_body["videoId"]
    tenant.call("PATCH", f"/videos/{video_id}", {"title": "renamed", "tags": ["x"]})
    tenant.call("PATCH", f"/videos/{video_id}", {"title": "renamed"})  # no change: no event
    tenant.call("DELETE", f"/videos/{video_id}")
    tenant.call("PATCH", f"/discarded/videos/{video_id}", {"discarded": False})

    assert publish(stream_event()) == {"batchItemFailures": []}

    envelopes = published()
    assert [e["detail-type"] for e in envelopes] == [
        "video.created",
        "video.updated",
        "video.deleted",
        "video.restored",
    ]
    assert all(e["source"] == resources.EVENT_SOURCE for e in envelopes)
    details = [e["detail"] for e in envelopes]
    assert all(d["videoId"] == video_id and d["projectId"] == tenant.project_id for d in details)
    assert details[1]["changed"] == ["title", "tags"]
    assert len({d["eventId"] for d in details}) == 4


def test_a_refused_entry_is_retried_from_its_record_and_keeps_its_event_id(
    tenant: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        tenant.call("POST", "/videos", {"title": f"v{i}"})
    real_put = EventBridgePublisher.publish
    calls: list[int] = []

    def flaky(self: EventBridgePublisher, events: list[OutgoingEvent]) -> list[str]:
        calls.append(len(events))
        if len(calls) == 1:  # the bus takes the first event and refuses the others
            real_put(self, events[:1])
            return [e.event_id for e in events[1:]]
        return real_put(self, events)

    monkeypatch.setattr(EventBridgePublisher, "publish", flaky)
    core_wiring.reset()
    first = publish(stream_event())
    retry_from = first["batchItemFailures"][0]["itemIdentifier"]
    assert publish(stream_event(after_sequence=retry_from)) == {"batchItemFailures": []}

    titles = [e["detail"]["title"] for e in published()]
    assert sorted(titles) == ["v0", "v1", "v2"]
    assert len(titles) == 3, "nothing lost, nothing published twice"


def test_a_crash_before_the_checkpoint_redelivers_the_same_event_ids(tenant: ApiClient) -> None:
    tenant.call("POST", "/videos", {"title": "at least once"})
    publish(stream_event())
    publish(stream_event())  # Lambda ran again: the checkpoint never happened
    ids = [e["detail"]["eventId"] for e in published()]
    assert len(ids) == 2 and len(set(ids)) == 1


def test_a_failed_write_leaves_no_event(tenant: ApiClient) -> None:
    video_id = tenant.call("POST", "/videos", {"title": "x"}).json_body["videoId"]
    stale = vod_wiring.video_service().repository.get(tenant.project_id, video_id)
    assert stale is not None
    tenant.call("PATCH", f"/videos/{video_id}", {"title": "y"})
    from chalicelib.core.domain import audit, events
    from chalicelib.core.domain.access import Actor, Principal, Role
    from chalicelib.core.domain.errors import Conflict

    actor = Actor(Principal(tenant.project_id, "key", Role.ADMIN), "req")
    now = stale.updated_at
    event = events.VideoUpdated(**events.envelope(tenant.project_id, now), videoId=video_id, changed=["title"])
    with pytest.raises(Conflict):
        vod_wiring.video_service().repository.save(
            stale, stale.version, audit.record(actor, "x", "video", video_id, now), [event]
        )
    publish(stream_event())
    assert event.event_id not in {e["detail"]["eventId"] for e in published()}


def test_schemas_are_published(tenant: ApiClient) -> None:
    catalogue = {entry["type"]: entry for entry in tenant.call("GET", "/events/schemas").json_body["data"]}
    assert {"video.encoding.quality.completed", "video.created", "webhook.disabled"} <= set(catalogue)
    quality = catalogue["video.encoding.quality.completed"]
    assert quality["apiVideo"] is True
    assert {"videoId", "encoding", "quality", "eventId", "projectId"} <= set(quality["schema"]["properties"])


def test_removals_of_announced_entities_reach_their_queue_only(tenant: ApiClient) -> None:
    video_id = tenant.call("POST", "/videos", {"title": "to be removed"}).json_body["videoId"]
    table = boto3.client("dynamodb")
    video_key = {"PK": {"S": f"P#{tenant.project_id}#VIDEO"}, "SK": {"S": video_id}}
    table.delete_item(TableName=TABLE_NAME, Key=video_key)
    other_key = {"PK": {"S": f"P#{tenant.project_id}#WEBHOOK"}, "SK": {"S": "wh0123456789012345678901"}}
    table.put_item(TableName=TABLE_NAME, Item={**other_key, "entity": {"S": "webhook"}})
    table.delete_item(TableName=TABLE_NAME, Key=other_key)  # an entity no route announces

    assert publish(stream_event()) == {"batchItemFailures": []}

    (removal,) = [json.loads(message["Body"]) for message in drain(resources.VIDEO_REMOVALS_QUEUE)]
    assert (removal["source"], removal["detail-type"]) == (resources.TABLE_CHANGES_SOURCE, resources.ITEM_REMOVED)
    assert removal["detail"]["entity"] == "video" and removal["detail"]["keys"] == video_key
    assert removal["detail"]["oldImage"]["title"] == {"S": "to be removed"}
    assert drain(resources.LIVE_STREAM_REMOVALS_QUEUE) == []
    # Webhooks hear domain events only, never the table's internal announcements.
    assert {e["source"] for e in published()} == {resources.EVENT_SOURCE}
