from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.core.domain.pagination import PageRequest, paginate


def test_pages_slice_and_count() -> None:
    page = paginate(list(range(35)), PageRequest(currentPage=2, pageSize=25))
    assert list(page.items) == list(range(25, 35))
    assert (page.pages_total, page.items_total) == (2, 35)


def test_links_keep_filters_and_only_list_relevant_rels() -> None:
    page = paginate(list(range(35)), PageRequest(currentPage=1, pageSize=25))
    envelope = page.envelope([], "/videos", [("tags[]", "a b")])
    links = {link["rel"]: link["uri"] for link in envelope["pagination"]["links"]}
    assert set(links) == {"self", "first", "next", "last"}
    assert links["next"] == "/videos?tags%5B%5D=a+b&currentPage=2&pageSize=25"
    assert envelope["pagination"]["currentPageItems"] == 25


def test_empty_collection_still_has_one_page() -> None:
    page = paginate(list[int](), PageRequest())
    assert page.pages_total == 1
    assert [link["rel"] for link in page.links("/videos", [])] == ["self", "first", "last"]


@pytest.mark.parametrize("bad", [{"currentPage": 0}, {"pageSize": 0}, {"pageSize": 101}, {"currentPage": "x"}])
def test_out_of_range_pages_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PageRequest.model_validate(bad)
