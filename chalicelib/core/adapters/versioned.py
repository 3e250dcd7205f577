"""Conditional writes every repository uses: create once, save at a version."""

from __future__ import annotations

from chalicelib.core.adapters.dynamodb import PK, SK, Delete, Put

CREATE_ONLY = {"condition": "attribute_not_exists(#pk)", "names": {"#pk": PK}}


def versioned_put(item: dict[str, object], expected_version: int) -> Put:
    return Put(item=item, condition="#v = :expected", names={"#v": "version"}, values={":expected": expected_version})


def versioned_delete(pk: str, sk: str, expected_version: int) -> Delete:
    return Delete(
        key={PK: pk, SK: sk},
        condition="#v = :expected",
        names={"#v": "version"},
        values={":expected": expected_version},
    )


def key_args(key: dict[str, str]) -> dict[str, str]:
    """A `{PK: ..., SK: ...}` key as the keyword arguments of `Table.get`."""
    return {"pk": key[PK], "sk": key[SK]}
