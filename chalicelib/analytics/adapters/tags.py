"""The project's videos carrying a tag, for `filterBy[tag]`, read from the shared table as the VOD
context stores them (docs/data-model.md: `P#<project>#VIDEO` items with `entity=video` and
`tags`; `GET /videos?tags[]=` reads the same partition). The VOD code is never imported."""

from __future__ import annotations

from chalicelib.core.adapters.dynamodb import SK, Table, project_partition

VIDEO_COLLECTION = "VIDEO"


class DynamoTaggedVideos:
    def __init__(self, table: Table) -> None:
        self.table = table

    def media_ids(self, project_id: str, tag: str) -> list[str]:
        # One Query of the project's videos (all pages); the tags are matched here, case sensitive.
        return [
            str(item[SK])
            for item in self.table.query(project_partition(project_id, VIDEO_COLLECTION))
            if item.get("entity") == "video" and tag in (item.get("tags") or ())
        ]
