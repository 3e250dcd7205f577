"""A room session's connected stretches, for the usage counters' room minutes, read from the shared
table as the rooms context stores an ended session (docs/data-model.md: `P#<project>#ROOM_SESSION`
/ `<sessionId>`, written whole, with its `room.cdr.ready` event, when the session ends; its
`attendance` map holds each participant's `connected_at` and `left_at`). The rooms code is never
imported; tests/integration/test_usage.py writes the item with the rooms context's own layout."""

from __future__ import annotations

from datetime import datetime

from chalicelib.core.adapters.dynamodb import Table, project_partition
from chalicelib.core.clock import from_atom

SESSION_COLLECTION = "ROOM_SESSION"
ATTENDANCE_COLLECTION = "ROOM_ATTENDANCE"


class DynamoRoomSessions:
    def __init__(self, table: Table) -> None:
        self.table = table

    def connected(self, project_id: str, session_id: str) -> list[tuple[datetime, datetime]] | None:
        item = self.table.get(project_partition(project_id, SESSION_COLLECTION), session_id)
        if item is None:
            return None
        # The call detail records' duration: from connected to left (a join that never connected
        # counts nothing), as the rooms context bills it.
        attendance = {str(a.get("participant_id", key)): a for key, a in (item.get("attendance") or {}).items()}
        partition = project_partition(project_id, f"{ATTENDANCE_COLLECTION}#{session_id}")
        for joined in self.table.query(partition):
            attendance[str(joined["participant_id"])] = joined
        return [
            (from_atom(str(a["connected_at"])), from_atom(str(a["left_at"])))
            for a in attendance.values()
            if a.get("connected_at") and a.get("left_at")
        ]
