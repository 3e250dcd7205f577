"""Managed live events without a human: MediaLive's channel events (default bus → the aws.medialive
rule → the live-event-channels queue) and the schedule's timers, which come back on the same queue;
also incident automation's CloudWatch alarm state changes and its revert timers.

EventBridge delivers at least once and out of order: the rules are idempotent and order-tolerant
(chalicelib.live.domain.event_plane), and a failed message is a batch item failure that comes again.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.permissions import (
    INCIDENT_ALARMS,
    LIVE_EVENT_CHANNELS_CONSUME,
    LIVE_EVENT_CHANNELS_SEND,
    MEDIALIVE_CHANNELS_ARM,
    MEDIALIVE_CHANNELS_RELEASE,
    MEDIALIVE_PASS_ROLE,
    MEDIALIVE_SCHEDULE,
    TABLE_INDEX_READ,
    TABLE_READ,
    TABLE_WRITE,
    UPLOADS_OBJECTS_READ,
    declare,
)
from chalicelib.live import wiring

bp = Blueprint(__name__)
BATCH_SIZE = 10

# A timer arms (creates and starts the channel) or ends; a channel that stopped by itself is released.
declare(
    "track_live_events",
    (
        LIVE_EVENT_CHANNELS_CONSUME, LIVE_EVENT_CHANNELS_SEND, TABLE_READ, TABLE_INDEX_READ, TABLE_WRITE,
        MEDIALIVE_CHANNELS_ARM, MEDIALIVE_CHANNELS_RELEASE, MEDIALIVE_PASS_ROLE, UPLOADS_OBJECTS_READ,
        # Incident automation: alarms with the channel, and the route switches and their reverts.
        INCIDENT_ALARMS, MEDIALIVE_SCHEDULE,
    ),
)  # fmt: skip


def handle(body: str) -> None:
    # Imported here: it pulls in botocore, which the API functions importing app.py need not load.
    from chalicelib.live.adapters.incident_alarms import parse_revert
    from chalicelib.live.adapters.timers import parse_schedule

    message = json.loads(body)
    timer = parse_schedule(message)
    revert = parse_revert(message)
    if timer is not None:
        wiring.live_event_plane_service().on_timer(*timer)
    elif revert is not None:
        wiring.live_event_incident_service().on_revert(*revert)
    elif message.get("source") == "aws.cloudwatch":
        wiring.live_event_incident_service().on_alarm(message)
    else:
        wiring.live_event_plane_service().on_plane_event(message)


@bp.on_sqs_message(queue=resources.LIVE_EVENT_CHANNELS_QUEUE.name, batch_size=BATCH_SIZE)
def track_live_events(event: SQSEvent) -> dict[str, Any]:
    """MediaLive's channel state changes, alerts and input changes, and the events' schedule timers."""
    return batch_item_failures(event, handle)
