"""Versioned puts and deletes shared by the VOD sub-resource repositories."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from chalicelib.core.adapters.dynamodb import PK, SK, Delete, Put, Write

T = TypeVar("T")


_ABSENT = "attribute_not_exists(#pk)"


def _put(item: dict[str, Any], expected_version: int | None) -> Put:
    if expected_version is None:
        return Put(item=item, condition=_ABSENT, names={"#pk": PK})
    return Put(item=item, condition="#v = :expected", names={"#v": "version"}, values={":expected": expected_version})


def _delete(key: tuple[str, str], expected_version: int | None = None) -> Delete:
    if expected_version is None:
        return Delete(key={PK: key[0], SK: key[1]}, condition="attribute_exists(#pk)", names={"#pk": PK})
    return Delete(
        key={PK: key[0], SK: key[1]},
        condition="#v = :expected",
        names={"#v": "version"},
        values={":expected": expected_version},
    )


def _puts(item: Callable[[T], dict[str, Any]], changes: Sequence[tuple[T, int | None]]) -> list[Write]:
    return [_put(item(entity), expected) for entity, expected in changes]
