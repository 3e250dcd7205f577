"""Replacing a resource's image: the new file before the change, the old one after, nothing lost."""

from __future__ import annotations

import pytest

from chalicelib.core.services import stored_images

pytestmark = pytest.mark.unit


class Files:
    def __init__(self, *keys: str, failing_deletes: bool = False) -> None:
        self.objects = {key: b"old" for key in keys}
        self.failing_deletes = failing_deletes

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = data

    def delete(self, key: str) -> None:
        if self.failing_deletes:
            raise OSError("bucket unreachable")
        self.objects.pop(key, None)

    def url(self) -> str:
        return "s3://media"


def test_the_new_image_is_stored_before_the_change_and_the_old_one_goes_after() -> None:
    files = Files("logo-old")
    seen: list[set[str]] = []

    def point_at() -> str:
        seen.append(set(files.objects))
        return "changed"

    result = stored_images.replace(files, "logo-new", b"new", "image/png", lambda: "logo-old", point_at)
    assert result == "changed"
    assert seen == [{"logo-old", "logo-new"}]  # both exist while the resource changes
    assert files.objects == {"logo-new": b"new"}


def test_a_failed_change_removes_the_new_image_and_keeps_the_old_one() -> None:
    files = Files("logo-old")

    def point_at() -> str:
        raise RuntimeError("version conflict")

    with pytest.raises(RuntimeError):
        stored_images.replace(files, "logo-new", b"new", "image/png", lambda: "logo-old", point_at)
    assert files.objects == {"logo-old": b"old"}


def test_a_first_image_deletes_nothing_and_a_failing_delete_is_not_an_error() -> None:
    files = Files(failing_deletes=True)
    assert stored_images.replace(files, "k", b"new", "image/png", lambda: None, lambda: 1) == 1
    stored_images.forget(files, "k")  # logged, not raised
    assert files.objects == {"k": b"new"}
