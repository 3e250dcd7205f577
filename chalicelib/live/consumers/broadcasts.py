"""IVS stream state changes (default bus → the aws.ivs rule → the live-events queue) → live streams;
the reconnect window's timers, which come back on the same queue; and the restream relays' state
reports, which the relays send to it.

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
from chalicelib.core.permissions import (
    LIVE_EVENTS_CONSUME,
    LIVE_EVENTS_SEND,
    RESTREAM_RELAYS,
    RESTREAM_RELAYS_PASS_ROLE,
    TABLE_READ,
    TABLE_WRITE,
    declare,
)
from chalicelib.live import wiring

bp = Blueprint(__name__)
BATCH_SIZE = 10

# Broadcasts start and stop their restream relays.
declare(
    "track_live_streams",
    (LIVE_EVENTS_CONSUME, LIVE_EVENTS_SEND, TABLE_READ, TABLE_WRITE, RESTREAM_RELAYS, RESTREAM_RELAYS_PASS_ROLE),
)


def handle(body: str) -> None:
    # Imported here: it pulls in botocore, which the API functions importing app.py need not load.
    from chalicelib.live.adapters.timers import parse_timer
    from chalicelib.live.domain.restreams import RelayReport

    message = json.loads(body)
    timer = parse_timer(message)
    report = RelayReport.from_message(message)
    if report is not None:
        wiring.restream_service().on_report(report)
    elif timer is not None:
        wiring.broadcast_service().on_window_expired(*timer)
    else:
        wiring.broadcast_service().on_plane_event(message)


@bp.on_sqs_message(queue=resources.LIVE_EVENTS_QUEUE.name, batch_size=BATCH_SIZE)
def track_live_streams(event: SQSEvent) -> dict[str, Any]:
    """IVS's stream state changes of this app's channels, and reconnect-window timers."""
    return batch_item_failures(event, handle)
