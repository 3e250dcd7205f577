"""api.video page-based pagination: `currentPage`/`pageSize` in, envelope with `links` out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, Field

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


class SortOrder(StrEnum):
    """api.video's `sortOrder` on every list."""

    ASC = "asc"
    DESC = "desc"


class PageRequest(BaseModel):
    current_page: int = Field(default=1, ge=1, alias="currentPage")
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, alias="pageSize")

    model_config = {"populate_by_name": True}


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    current_page: int
    page_size: int
    items_total: int

    @property
    def pages_total(self) -> int:
        return max(1, math.ceil(self.items_total / self.page_size))

    def envelope(self, data: list[Any], path: str, filters: Sequence[tuple[str, str]]) -> dict[str, Any]:
        return {
            "data": data,
            "pagination": {
                "currentPage": self.current_page,
                "currentPageItems": len(self.items),
                "pageSize": self.page_size,
                "pagesTotal": self.pages_total,
                "itemsTotal": self.items_total,
                "links": self.links(path, filters),
            },
        }

    def links(self, path: str, filters: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
        def uri(page: int) -> str:
            query = [*filters, ("currentPage", str(page)), ("pageSize", str(self.page_size))]
            return f"{path}?{urlencode(query)}"

        links = [{"rel": "self", "uri": uri(self.current_page)}, {"rel": "first", "uri": uri(1)}]
        if self.current_page > 1:
            links.append({"rel": "previous", "uri": uri(min(self.current_page - 1, self.pages_total))})
        if self.current_page < self.pages_total:
            links.append({"rel": "next", "uri": uri(self.current_page + 1)})
        links.append({"rel": "last", "uri": uri(self.pages_total)})
        return links


def paginate(items: Sequence[T], request: PageRequest) -> Page[T]:
    start = (request.current_page - 1) * request.page_size
    return Page(
        items=items[start : start + request.page_size],
        current_page=request.current_page,
        page_size=request.page_size,
        items_total=len(items),
    )
