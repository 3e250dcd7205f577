"""Private tokens of private videos and the playback denial counters, in the shared table.

Token item (written by the VOD context when it shows a private video, chalicelib/vod/adapters/
private_tokens.py; docs/data-model.md): `P#<project>#PLAYBACKTOKEN` / `<token>`, with `video_id`,
`ttl` (epoch seconds) and, once used, `used_at`. The page's URL names the video, whose project is
found first, so the token is read by its key: no index, which would lag behind a token minted a
moment ago.

Denial counter item: `P#<project>#PLAYBACKDENIAL` / `<yyyy-mm-dd>#<reason>`, `count` added to
atomically (the analytics context reads them; they expire after 90 days)."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, Table, Update, project_partition
from chalicelib.core.domain.errors import Conflict

TOKEN_COLLECTION = "PLAYBACKTOKEN"
DENIAL_COLLECTION = "PLAYBACKDENIAL"
DENIAL_RETENTION = timedelta(days=90)


class DynamoPrivateTokens:
    def __init__(self, table: Table) -> None:
        self.table = table

    def consume(self, project_id: str, video_id: str, token: str, now: datetime) -> bool:
        """Marks the token used; False when it is unknown, of another video, expired or used."""
        try:
            self.table.update(
                Update(
                    key={PK: project_partition(project_id, TOKEN_COLLECTION), SK: token},
                    expression="SET used_at = :now",
                    condition="attribute_exists(#pk) AND video_id = :video AND #ttl > :epoch"
                    " AND attribute_not_exists(used_at)",
                    names={"#pk": PK, "#ttl": resources.TTL_ATTRIBUTE},
                    values={":now": now.isoformat(), ":video": video_id, ":epoch": int(now.timestamp())},
                )
            )
        except Conflict:
            return False
        return True


class DynamoDenialCounter:
    def __init__(self, table: Table) -> None:
        self.table = table

    def count(self, project_id: str, reason: str, now: datetime) -> None:
        self.table.update(
            Update(
                key={PK: project_partition(project_id, DENIAL_COLLECTION), SK: f"{now.date().isoformat()}#{reason}"},
                expression="ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl)",
                names={"#count": "count", "#ttl": resources.TTL_ATTRIBUTE},
                values={":one": 1, ":ttl": int((now + DENIAL_RETENTION).timestamp())},
            )
        )
