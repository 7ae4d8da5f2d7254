"""Lists that scale, the page side: one reading of a list's query string (page, rows per page, order,
search, filters) with a plain 4xx for a bad value, the pager under the table, and the CSV/XLSX export of
the rows the filter selects (every page of it), with the same columns' names translated.

Each list declares a `ListSpec`; its route reads the query with `read_query`, asks its use case for the
page, and renders `_list_tools.html` and `_pager.html` from `listing(...)`. The export route passes every
row of the same filter to `export`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from customslab.adapters.tabular_export import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, Cell, to_csv, to_xlsx
from customslab.domain.errors import ValidationFailed
from customslab.entrypoints.web.common import N_, language, say, translations
from customslab.services.contract import MAX_INT
from customslab.services.listing import EXPORT_LIMIT, MAX_PAGE_SIZE, PAGE_SIZE, ListQuery

Format = Literal["csv", "xlsx"]
#: The longest search text a list takes.
MAX_TEXT = 100
#: Page numbers shown either side of the current one.
WINDOW = 2


@dataclass(frozen=True)
class Column:
    """One column of a list's export: its header (marked for translation) and the row's value in it.
    `translated`: the value is a code word (a state, a priority) shown in the reader's language."""

    header: str
    value: Callable[[Any], Cell]
    translated: bool = False


@dataclass(frozen=True)
class Order:
    """A way to sort a list: its key in the query string, and its label each way round."""

    key: str
    label: str
    reversed_label: str


@dataclass(frozen=True)
class Filter:
    """A filter whose value is one of `choices` (value, label); `any_label` offers no filter."""

    name: str
    label: str
    choices: Sequence[tuple[str, str]]
    any_label: str = N_("Any")


@dataclass(frozen=True)
class ListSpec:
    """What a list offers: its orders (`default` is "key" or "-key", reversed), its filters, whether it
    is searched, its export columns and the file name it is exported under."""

    name: str
    title: str
    orders: Sequence[Order]
    default: str
    columns: Sequence[Column]
    filters: Sequence[Filter] = ()
    search_hint: str = ""
    page_size: int = PAGE_SIZE

    @property
    def searched(self) -> bool:
        return bool(self.search_hint)


def _number(params: Mapping[str, str], name: str, message: str, low: int, high: int) -> int | None:
    """The whole number `name` of the query string (None when absent); out of [low, high]: `message`,
    with {value} the text sent."""
    raw = params.get(name) or ""
    if not raw:
        return None
    text = raw.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValidationFailed(message.format(value=raw), name)
    return int(text)


def read_query(params: Mapping[str, str], spec: ListSpec) -> ListQuery:
    """The list query a page's query string asks for; a value the list does not offer is refused
    (ValidationFailed: 422 with the message) rather than silently replaced."""
    size = _number(
        params, "size", f"Rows per page must be a number from 1 to {MAX_PAGE_SIZE}.", 1, MAX_PAGE_SIZE
    )
    size = size or spec.page_size
    page = _number(params, "page", "'{value}' is not a page number.", 1, MAX_INT // size)
    # `offset`: links written before pages had numbers.
    offset = _number(params, "offset", "'{value}' is not a page offset.", 0, MAX_INT) or 0
    if page is not None:
        offset = (page - 1) * size
    sort = params.get("sort") or spec.default
    key = sort.removeprefix("-")
    if key not in {o.key for o in spec.orders}:
        offered = ", ".join(o.key for o in spec.orders)
        raise ValidationFailed(f"'{sort}' is not an order of this list; choose one of: {offered}.", "sort")
    text = (params.get("q") or "").strip()
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"Search for at most {MAX_TEXT} characters.", "q")
    filters: dict[str, str] = {}
    for f in spec.filters:
        value = params.get(f.name) or ""
        if value and value not in {v for v, _ in f.choices}:
            raise ValidationFailed(f"'{value}' is not a valid {f.name.replace('_', ' ')}.", f.name)
        if value:
            filters[f.name] = value
    return ListQuery(
        offset=offset,
        limit=size,
        sort=key,
        descending=sort.startswith("-"),
        text=text or None,
        filters=filters,
    )


@dataclass(frozen=True)
class PageLink:
    label: str
    url: str | None  # None: the current page, or a gap ("…")
    current: bool = False


@dataclass(frozen=True)
class Pager:
    """Where the page stands in the list, and the links to the others."""

    total: int
    page: int
    pages: int
    first: int
    last: int
    previous: str | None
    next: str | None
    links: list[PageLink]
    #: False when the list's count stopped: more than `total` rows match ("10000+").
    exact: bool = True


@dataclass(frozen=True)
class Listing:
    """What `_list_tools.html` and `_pager.html` draw: the spec, the values asked for, the pager and the
    export links (the same query string)."""

    spec: ListSpec
    query: ListQuery
    path: str
    params: dict[str, str]
    pager: Pager
    exports: list[tuple[str, str]] = field(default_factory=list)

    @property
    def sort(self) -> str:
        return ("-" if self.query.descending else "") + self.query.sort


def _url(path: str, params: Mapping[str, str], **changes: object) -> str:
    merged = {k: v for k, v in params.items() if v not in ("", None)}
    merged.update({k: str(v) for k, v in changes.items()})
    query = urlencode(merged)
    return f"{path}?{query}" if query else path


def pager(path: str, params: Mapping[str, str], query: ListQuery, total: int, exact: bool = True) -> Pager:
    """The pager of `total` rows at `query`'s page (more, unless `exact`); links keep the other parameters."""
    kept = {k: v for k, v in params.items() if k not in ("page", "offset")}
    size = query.limit
    page = query.offset // size + 1
    pages = max(1, -(-total // size))

    def link(n: int) -> str:
        return _url(path, kept, page=n)

    shown = sorted({1, pages, *range(max(1, page - WINDOW), min(pages, page + WINDOW) + 1)})
    links: list[PageLink] = []
    for i, n in enumerate(shown):
        if i and n - shown[i - 1] > 1:
            links.append(PageLink("…", None))
        links.append(PageLink(str(n), None if n == page else link(n), current=n == page))
    return Pager(
        total=total,
        page=page,
        pages=pages,
        first=min(query.offset + 1, total),
        last=min(query.offset + size, total),
        previous=link(page - 1) if page > 1 else None,
        # A count that stopped (always past this page's end) leaves a next page to go to.
        next=link(page + 1) if page < pages or not exact else None,
        links=links,
        exact=exact,
    )


def listing(
    request: Request,
    spec: ListSpec,
    query: ListQuery,
    total: int,
    export_path: str | None = None,
    exact: bool = True,
) -> Listing:
    """The tools and pager of a list page; `export_path` (without the extension) offers the exports."""
    params = {k: v for k, v in request.query_params.items() if v}
    kept = {k: v for k, v in params.items() if k not in ("page", "offset", "size")}
    exports = (
        [(label, _url(f"{export_path}.{fmt}", kept)) for fmt, label in (("csv", "CSV"), ("xlsx", "XLSX"))]
        if export_path
        else []
    )
    path = request.url.path
    return Listing(spec, query, path, params, pager(path, params, query, total, exact), exports)


def check_whole(total: int) -> None:
    """Refuse an export of a filter wider than an export holds (its use case was asked for the first
    EXPORT_LIMIT rows, `ListQuery.whole()`): a file cut short would pass for the whole list."""
    if total > EXPORT_LIMIT:
        raise ValidationFailed(
            f"This list holds {total} rows; an export holds at most {EXPORT_LIMIT}. "
            "Narrow the search or the filters and export again."
        )


def export(request: Request, spec: ListSpec, fmt: Format, items: Iterable[Any]) -> Response:
    """The rows as a CSV or XLSX attachment: a header row of the columns' translated names, then one row
    per item in the list's order."""
    tr = translations(language(request))
    headers = [tr.gettext(c.header) for c in spec.columns]

    def cell(column: Column, item: Any) -> Cell:
        value = column.value(item)
        if column.translated and isinstance(value, str) and value:
            return tr.gettext(value.replace("_", " "))
        return value

    rows = ([cell(c, item) for c in spec.columns] for item in items)
    stem = f"{spec.name}-{date.today().isoformat()}"
    if fmt == "csv":
        body, media = to_csv(headers, rows), CSV_MEDIA_TYPE
    else:
        body, media = to_xlsx(headers, rows, say(request, spec.title)), XLSX_MEDIA_TYPE
    disposition = f'attachment; filename="{stem}.{fmt}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
