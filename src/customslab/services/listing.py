"""What a list asks a use case for (a page, an order, a search text, filters), and how the small lists that
are read whole (an administration's users, its organisations, joint analyses) are searched, sorted and
paged in memory by the same rules as the large ones are in SQL."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

T = TypeVar("T")

#: Rows on a page unless the reader asks for another size.
PAGE_SIZE = 50
#: The most rows one page may hold.
MAX_PAGE_SIZE = 200
#: The most rows one export holds: a wider filter is refused with a message rather than cut short.
EXPORT_LIMIT = 20_000


@dataclass(frozen=True)
class ListQuery:
    """One page of a list: `sort` names one of the list's orders ("" for its default) and `descending`
    reverses that order's natural direction; `filters` holds the values the edge has validated."""

    offset: int = 0
    limit: int = PAGE_SIZE
    sort: str = ""
    descending: bool = False
    text: str | None = None
    filters: Mapping[str, str] = field(default_factory=dict)

    def whole(self, limit: int = EXPORT_LIMIT) -> ListQuery:
        """The same filter and order from the first row, `limit` rows at most (for an export)."""
        return replace(self, offset=0, limit=limit)

    def value(self, name: str) -> str | None:
        return self.filters.get(name) or None


def _sortable(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def page_in_memory(
    items: Sequence[T],
    query: ListQuery,
    *,
    orders: Mapping[str, Callable[[T], Any]],
    text: Callable[[T], str],
    filters: Mapping[str, Callable[[T], str | Collection[str]]] | None = None,
) -> tuple[list[T], int]:
    """The page of `items` that `query` asks for and how many match in all: the items whose `text`
    holds every word searched (case-insensitive), whose each filtered field equals the value chosen (or,
    for a field of several values, such as a user's roles, holds it), in the order named (the first of
    `orders` by default), then reversed when asked."""
    words = (query.text or "").casefold().split()
    fields = filters or {}
    chosen = {name: value for name in fields if (value := query.value(name)) is not None}

    def kept(item: T) -> bool:
        for name, value in chosen.items():
            got = fields[name](item)
            if got != value and (isinstance(got, str) or value not in got):
                return False
        return all(w in text(item).casefold() for w in words)

    matched = [item for item in items if kept(item)]
    key = orders.get(query.sort) or next(iter(orders.values()))
    # Missing values (no due date...) go last, whichever direction was asked for.
    present = [i for i in matched if key(i) is not None]
    missing = [i for i in matched if key(i) is None]
    present.sort(key=lambda i: _sortable(key(i)), reverse=query.descending)
    ordered = present + missing
    return ordered[query.offset : query.offset + query.limit], len(matched)
