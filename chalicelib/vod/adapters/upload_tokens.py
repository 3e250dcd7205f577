"""DynamoDB items of delegated upload tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.core import resources
from chalicelib.core.adapters.dynamodb import PK, SK, Put, Table, Update, project_partition
from chalicelib.core.adapters.versioned import CREATE_ONLY
from chalicelib.core.clock import epoch_seconds, from_atom, to_atom
from chalicelib.vod.domain.uploads import OpenUpload, UploadToken

TOKEN_INDEX_PREFIX = "UPLOADTOKEN#"


def token_item(token: UploadToken) -> dict[str, Any]:
    """The token's own `ttl` (seconds) is kept as `ttl_seconds`: `ttl` is the table's expiry
    attribute, set to when the token expires (DynamoDB then removes it; never for ttl 0)."""
    expires = token.expires_at
    return {
        PK: project_partition(token.project_id, "UPLOADTOKEN"),
        SK: token.token_id,
        resources.GSI1_PARTITION_KEY: TOKEN_INDEX_PREFIX + token.token_id,
        resources.GSI1_SORT_KEY: token.project_id,
        "entity": "uploadToken",
        "open_uploads": {},
        "project_id": token.project_id,
        "token_id": token.token_id,
        "ttl_seconds": token.ttl,
        "created_at": to_atom(token.created_at),
        resources.TTL_ATTRIBUTE: epoch_seconds(expires) if expires else None,
    }


def token_from_item(item: dict[str, Any]) -> UploadToken:
    return UploadToken(
        project_id=item["project_id"],
        token_id=item["token_id"],
        ttl=int(item["ttl_seconds"]),
        created_at=from_atom(item["created_at"]),
    )


class DynamoUploadTokenRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create(self, token: UploadToken, writes: Sequence[Put | Update] = ()) -> None:
        self.table.write([Put(item=token_item(token), **CREATE_ONLY), *writes])  # type: ignore[arg-type]

    def get(self, project_id: str, token_id: str) -> UploadToken | None:
        item = self.table.get(project_partition(project_id, "UPLOADTOKEN"), token_id)
        return None if item is None else token_from_item(item)

    def find(self, token_id: str) -> UploadToken | None:
        """By token alone (delegated uploads carry no credentials)."""
        for item in self.table.query(TOKEN_INDEX_PREFIX + token_id, index=resources.GSI1):
            # The index is eventually consistent: confirm against the item itself.
            return self.get(str(item["project_id"]), token_id)
        return None

    def list(self, project_id: str) -> list[UploadToken]:
        items = self.table.query(project_partition(project_id, "UPLOADTOKEN"))
        return [token_from_item(item) for item in items]

    def delete(self, token: UploadToken) -> None:
        self.table.delete(project_partition(token.project_id, "UPLOADTOKEN"), token.token_id)

    # `open_uploads` maps each unfinished delegated upload's videoId to {slot, next}: which
    # video a chunk without a videoId belongs to (the SDK's non-progressive delegated upload
    # never sends one). Entries of the old layout (slot -> videoId) are ignored.

    def remember_open_upload(self, token: UploadToken, upload: OpenUpload) -> None:
        self.table.update(
            Update(
                key=_token_key(token.project_id, token.token_id),
                expression="SET open_uploads.#video = :upload",
                condition="attribute_exists(open_uploads)",
                names={"#video": upload.video_id},
                values={":upload": {"slot": upload.slot, "next": upload.next}},
            )
        )

    def open_uploads(self, token: UploadToken) -> Sequence[OpenUpload]:
        item = self.table.get(project_partition(token.project_id, "UPLOADTOKEN"), token.token_id)
        entries = (item or {}).get("open_uploads") or {}
        return [
            OpenUpload(video_id=str(video_id), slot=str(entry["slot"]), next=int(entry["next"]))
            for video_id, entry in entries.items()
            if isinstance(entry, dict) and "slot" in entry and "next" in entry
        ]

    def advance_open_upload(self, token: UploadToken, upload: OpenUpload, next_position: int) -> bool:
        """Moves `next` on from the value read, so two chunks racing for one upload cannot both
        take the same place. False when another request moved it first."""
        return self.table.write_if(
            [
                Update(
                    key=_token_key(token.project_id, token.token_id),
                    expression="SET open_uploads.#video.#next = :next",
                    condition="open_uploads.#video.#next = :read",
                    names={"#video": upload.video_id, "#next": "next"},
                    values={":next": next_position, ":read": upload.next},
                )
            ]
        )

    def forget_open_upload(self, project_id: str, token_id: str, video_id: str) -> None:
        """The upload is complete or failed: no later chunk without a videoId may join it."""
        self.table.write_if(
            [
                Update(
                    key=_token_key(project_id, token_id),
                    expression="REMOVE open_uploads.#video",
                    condition="attribute_exists(open_uploads)",
                    names={"#video": video_id},
                )
            ]
        )


def _token_key(project_id: str, token_id: str) -> dict[str, str]:
    return {PK: project_partition(project_id, "UPLOADTOKEN"), SK: token_id}
