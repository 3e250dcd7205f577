"""IVS stream state changes (default bus → the aws.ivs rule → the live-events queue) → live streams.

EventBridge delivers at least once and out of order: the rules are idempotent and order-tolerant
(chalicelib.live.domain.broadcasts), and a failed message is a batch item failure that comes again.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core import resources
from chalicelib.core.consumers.batches import batch_item_failures
from chalicelib.core.permissions import LIVE_EVENTS_CONSUME, TABLE_READ, TABLE_WRITE, declare
from chalicelib.live import wiring

bp = Blueprint(__name__)
BATCH_SIZE = 10

declare("track_live_streams", (LIVE_EVENTS_CONSUME, TABLE_READ, TABLE_WRITE))


@bp.on_sqs_message(queue=resources.LIVE_EVENTS_QUEUE.name, batch_size=BATCH_SIZE)
def track_live_streams(event: SQSEvent) -> dict[str, Any]:
    """ "IVS Stream State Change" events of this app's channels."""
    return batch_item_failures(event, lambda body: wiring.broadcast_service().on_plane_event(json.loads(body)))
