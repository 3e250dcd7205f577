"""Private tokens of private videos and live streams, minted each time the API shows one (as
api.video does). `video_id` holds the video's or the live stream's id.

The playback context consumes them (layout: chalicelib/playback/adapters/private_tokens.py,
docs/data-model.md); this side only writes the item. tests/integration/test_private_playback.py
holds the two sides together."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, Put, Table, project_partition

TOKEN_COLLECTION = "PLAYBACKTOKEN"
# An unused token expires after a day, like api.video's session.
TOKEN_TTL = timedelta(hours=24)


class DynamoPrivateTokenMint:
    def __init__(self, table: Table) -> None:
        self.table = table

    def mint(self, project_id: str, video_id: str, now: datetime) -> str:
        token = str(uuid.uuid4())
        item = {
            PK: project_partition(project_id, TOKEN_COLLECTION),
            SK: token,
            "entity": "playback_token",
            "video_id": video_id,
            resources.TTL_ATTRIBUTE: int((now + TOKEN_TTL).timestamp()),
        }
        self.table.write([Put(item=item)])
        return token
