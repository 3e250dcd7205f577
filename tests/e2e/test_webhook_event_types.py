"""An api.video webhook event that the VOD pipeline will emit, end to end through the outbox.

The VOD code does not exist yet, so the test writes the outbox item into the devstack's table
exactly as that code will (`outbox_put` of the domain event, in the table the stream feeds): the
stream poller, publisher, bus rule, dispatcher and deliverer are all the real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from apivideo.api.webhooks_api import WebhooksApi
from apivideo.model.webhooks_creation_payload import WebhooksCreationPayload

from chalicelib.core.adapters.dynamodb import to_attributes
from chalicelib.core.adapters.records import outbox_put
from chalicelib.core.clock import utc_now
from chalicelib.core.domain.events import VideoEncodingQualityCompleted, envelope
from chalicelib.platform.domain.webhooks import delivery_id

from .receivers import Receiver, verify_both_ways
from .support import Api, Devstack, Tenant

TABLE_NAME = "videoplane"
EVENT_TYPE = "video.encoding.quality.completed"
WAIT_SECONDS = 5.0
# api.video's payload for this event, plus the two fields every Videoplane event carries.
API_VIDEO_FIELDS = {"type", "emittedAt", "videoId", "encoding", "quality"}
EXPECTED_FIELDS = API_VIDEO_FIELDS | {"eventId", "projectId"}


def write_outbox_item(devstack: Devstack, event: VideoEncodingQualityCompleted) -> None:
    """What the VOD pipeline will do (in its transaction): put the event's outbox item."""
    client = boto3.client("dynamodb", endpoint_url=devstack.aws_endpoint, region_name="us-east-1",
                          aws_access_key_id="devstack", aws_secret_access_key="devstack")  # fmt: skip
    put = outbox_put(event)
    assert put.condition is not None and not put.values
    client.put_item(
        TableName=TABLE_NAME,
        Item=to_attributes(put.item),
        ConditionExpression=put.condition,
        ExpressionAttributeNames=put.names,
    )


def test_quality_completed_reaches_an_sdk_webhook_signed_with_api_video_fields(
    devstack: Devstack, sdk: Any, api: Api, project_a: Tenant, receiver: Callable[..., Receiver]
) -> None:
    quality_hook, created_hook = receiver(), receiver()
    webhooks = WebhooksApi(sdk)
    subscribed = webhooks.create(WebhooksCreationPayload(events=[EVENT_TYPE], url=quality_hook.url))
    other = webhooks.create(WebhooksCreationPayload(events=["video.created"], url=created_hook.url))
    try:
        assert list(subscribed["events"]) == [EVENT_TYPE]
        video = api.create_video(project_a.api_key, title="quality e2e")
        event = VideoEncodingQualityCompleted(
            **envelope(project_a.project_id, utc_now()), videoId=video["videoId"], encoding="hls", quality="720p"
        )
        write_outbox_item(devstack, event)

        delivery = quality_hook.wait_for_id(event.event_id, WAIT_SECONDS)
        payload = verify_both_ways(subscribed["signature_secret"], subscribed["webhook_id"], delivery)

        assert set(payload) == EXPECTED_FIELDS, sorted(payload)
        assert payload == {
            "type": EVENT_TYPE,
            "emittedAt": event.emitted_at,
            "videoId": video["videoId"],
            "encoding": "hls",
            "quality": "720p",
            "eventId": event.event_id,
            "projectId": project_a.project_id,
        }
        assert delivery.body == outbox_put(event).item["payload"].encode(), "the outbox bytes, unchanged"

        # The dispatcher creates every subscription's delivery for an event in one pass, before any
        # is sent: once the subscriber has it, a video.created-only webhook would have one too.
        log = api.ok("GET", f"/webhooks/{other['webhook_id']}/deliveries", project_a.api_key, params={"pageSize": 100})
        assert all(d["deliveryId"] != delivery_id(event.event_id) for d in log["data"]), log
        assert not created_hook.with_id(event.event_id)
        assert all(b'"type":"video.created"' in r.body for r in created_hook.requests)
    finally:
        webhooks.delete(subscribed["webhook_id"])
        webhooks.delete(other["webhook_id"])
