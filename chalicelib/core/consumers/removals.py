"""Removal announcements (`resources.REMOVAL_ROUTES`): the item an `Item Removed` event carries.

The outbox publisher, the table stream's only reader, puts one such event on the project bus for
each item of an announced entity that left the table; a rule sends it to the entity's queue, and
the consumer there reads the item back from the message with `removed_item`.
"""

from __future__ import annotations

import json
from typing import Any


def removed_item(message_body: str) -> dict[str, Any]:
    """The removed item, as the table held it, from an SQS message holding the EventBridge event."""
    # Imported here: it pulls in boto3, which the API functions importing app.py need not load.
    from chalicelib.core.adapters.dynamodb import from_attributes

    detail = json.loads(message_body)["detail"]
    return from_attributes(detail["oldImage"])
