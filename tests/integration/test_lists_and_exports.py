"""Lists that scale: pages, search, filters and orders on the list pages, the CSV and XLSX exports of what a
list's filter selects, the referring laboratory's list of what it referred out, and the dashboard's credit
for it."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from customslab.adapters.tabular_export import Cell, to_csv, to_xlsx
from customslab.services import cases, dashboard, referrals
from customslab.services.listing import ListQuery, page_in_memory
from customslab.services.referrals import ReferralCreate
from tests.factories import Network, received_sample, request_command
from tests.integration.test_pages import post, sign_in

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REQUEST_LINK = re.compile(r'href="/requests/(\d+)"')
SAMPLE_LINK = re.compile(r'href="/samples/(\d+)"')


def file_requests(app: Any, net: Network, n: int, **overrides: Any) -> list[Any]:
    """`n` requests the officer files, oldest first."""
    return [
        cases.file_request(app.state.uow_factory(), net["officer"], request_command(net, **overrides))
        for _ in range(n)
    ]


def listed(page: Any, pattern: re.Pattern[str] = REQUEST_LINK) -> list[int]:
    """The ids a list page links to, in its order, each once."""
    assert page.status_code == 200, page.text
    return list(dict.fromkeys(int(i) for i in pattern.findall(page.text)))


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CSV_TYPE
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"\xef\xbb\xbf"), "a BOM, so that Excel reads UTF-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_TYPE
    assert ".xlsx" in response.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# -- the officer's requests ------------------------------------------------------------------------------


def test_the_officers_list_pages_beyond_fifty_requests_newest_first(
    client: TestClient, app: Any, net: Network
) -> None:
    filed = [r.id for r in file_requests(app, net, 53)]
    sign_in(client, net, "officer")
    first = client.get("/requests")
    assert listed(first) == filed[::-1][:50]
    assert "Rows 1–50 of 53" in first.text and 'href="/requests?page=2"' in first.text
    second = client.get("/requests?page=2")
    assert listed(second) == filed[::-1][50:] and "Rows 51–53 of 53" in second.text
    assert listed(client.get("/requests?sort=filed&size=10&page=6")) == filed[50:]


def test_the_officers_list_is_searched_on_reference_declaration_number_and_goods(
    client: TestClient, app: Any, net: Network
) -> None:
    rum, gin, oil = (
        file_requests(app, net, 1, goods_description=goods, declaration_number=number)[0]
        for goods, number in (("Dark rum", "DCL-RUM-1"), ("London dry gin", "DCL-GIN-2"), ("Fish oil", "X-3"))
    )
    sign_in(client, net, "officer")
    assert listed(client.get("/requests", params={"q": "DRY gin"})) == [gin.id]
    assert listed(client.get("/requests", params={"q": "dcl-rum"})) == [rum.id]
    assert listed(client.get("/requests", params={"q": oil.reference})) == [oil.id]
    nothing = client.get("/requests", params={"q": "caviar"})
    assert listed(nothing) == [] and "No request matches the search or the filters." in nothing.text


def test_the_officers_list_filters_by_state_and_priority_and_sorts_by_reference(
    client: TestClient, app: Any, net: Network
) -> None:
    received = received_sample(app.state.uow_factory, net, "local")
    waiting, routine = file_requests(app, net, 1)[0], file_requests(app, net, 1, priority="routine")[0]
    sign_in(client, net, "officer")
    assert listed(client.get("/requests?state=waiting")) == [routine.id, waiting.id]
    assert listed(client.get("/requests?state=received")) == [received.request_id]
    assert listed(client.get("/requests?priority=routine")) == [routine.id]
    by_reference = sorted([received.request_id, waiting.id, routine.id])  # references are numbered in order
    assert listed(client.get("/requests?sort=reference")) == by_reference
    assert listed(client.get("/requests?sort=-reference")) == by_reference[::-1]


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=two",
        "size=0",
        "size=1000",
        "sort=colour",
        "sort=--filed",
        "state=lost",
        "priority=now",
    ],
)
def test_a_bad_page_size_order_or_filter_value_is_refused_with_a_plain_422(
    client: TestClient, net: Network, query: str
) -> None:
    sign_in(client, net, "officer")
    for path in ("/requests", "/requests.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, (path, query)
        assert "is not" in response.text or "must be" in response.text


def test_a_bad_value_on_the_queue_the_admin_lists_and_an_unknown_export_format_is_refused(
    client: TestClient, net: Network
) -> None:
    sign_in(client, net, "central_manager")
    assert client.get("/queue?sort=colour").status_code == 422
    assert client.get("/queue?page=-1").status_code == 422
    assert client.get("/queue.csv?hs_chapter=2x").status_code == 422
    assert client.get("/referred-out?referral_state=lost").status_code == 422
    assert client.get("/requests.pdf").status_code == 404
    sign_in(client, net, "admin")
    assert client.get("/admin/users?sort=password").status_code == 422
    assert client.get("/admin/organisations?kind=castle").status_code == 422
    assert client.get("/admin/messages?state=lost").status_code == 422


def test_the_exports_hold_every_row_of_the_filter_in_the_order_the_pages_show(
    client: TestClient, app: Any, net: Network
) -> None:
    urgent = file_requests(app, net, 4)
    file_requests(app, net, 2, priority="routine")
    sign_in(client, net, "officer")
    query = {"priority": "urgent", "sort": "-reference", "size": "3"}
    pages = [client.get("/requests", params=query | {"page": str(n)}) for n in (1, 2)]
    shown = [i for page in pages for i in listed(page)]
    assert shown == [r.id for r in sorted(urgent, key=lambda r: r.reference, reverse=True)]
    references = {r.id: r.reference for r in urgent}
    export_query = {k: v for k, v in query.items() if k != "size"}
    rows = csv_rows(client.get("/requests.csv", params=export_query))
    assert rows[0][:3] == ["Reference", "Declaration number", "Goods"]
    assert [row[0] for row in rows[1:]] == [references[i] for i in shown]
    assert all(row[5] == "urgent" for row in rows[1:])
    book = xlsx_rows(client.get("/requests.xlsx", params=export_query))
    assert [str(c) for c in book[0]] == rows[0]
    assert [row[0] for row in book[1:]] == [row[0] for row in rows[1:]]
    assert [row[1] for row in book[1:]] == [row[1] for row in rows[1:]]


def test_an_export_names_its_columns_in_the_readers_language(
    client: TestClient, app: Any, net: Network
) -> None:
    file_requests(app, net, 1)
    sign_in(client, net, "officer")
    post(client, "/language", {"lang": "ko", "next": "/requests"})
    header = csv_rows(client.get("/requests.csv"))[0]
    assert header[0] == "의뢰 번호" and header[2] == "물품"


def test_a_value_a_spreadsheet_would_run_as_a_formula_is_exported_as_text(
    client: TestClient, app: Any, net: Network
) -> None:
    formula = '=HYPERLINK("http://evil.example","rum")'
    file_requests(app, net, 1, goods_description=formula)
    sign_in(client, net, "officer")
    [_, row] = csv_rows(client.get("/requests.csv"))
    assert row[2] == "'" + formula
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/requests.xlsx").content)).active
    cell = sheet.cell(row=2, column=3)
    assert cell.value == formula and cell.data_type == "s"


def test_the_spreadsheet_writers_defuse_every_formula_start_and_keep_numbers_and_dates() -> None:
    seoul = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=9)))
    rows: list[list[Cell]] = [["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "plain", 7, None, seoul]]
    [_, written] = list(csv.reader(io.StringIO(to_csv(["h"] * 9, rows).decode("utf-8-sig"))))
    assert written == ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "plain", "7", "", "2026-03-02 00:30:00"]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(["h"] * 9, rows, "A: [b]"))).active
    cells = next(sheet.iter_rows(min_row=2))
    assert [c.data_type for c in cells[:6]] == ["s"] * 6 and cells[6].value == 7
    assert cells[8].value == datetime(2026, 3, 2, 0, 30), "in UTC, as Excel keeps no time zone"


def test_a_small_list_pages_sorts_searches_and_filters_in_memory_by_the_same_rules() -> None:
    items: list[dict[str, Any]] = [
        {"name": n, "kind": k, "tags": t}
        for n, k, t in [("b", "x", ["1"]), ("a", "y", ["2"]), ("c", "x", [])]
    ]
    orders = {"name": lambda i: i["name"]}
    page, total = page_in_memory(
        items,
        ListQuery(limit=1, offset=1, sort="name", descending=True, filters={"kind": "x"}),
        orders=orders,
        text=lambda i: i["name"],
        filters={"kind": lambda i: i["kind"], "tag": lambda i: i["tags"]},
    )
    assert (page, total) == ([items[0]], 2)
    tagged, n = page_in_memory(
        items,
        ListQuery(filters={"tag": "2"}),
        orders=orders,
        text=lambda i: "",
        filters={"tag": lambda i: i["tags"]},
    )
    assert (tagged, n) == ([items[1]], 1)


# -- the laboratory's queue ------------------------------------------------------------------------------


def test_the_queue_pages_filters_and_exports_the_samples_it_shows(
    client: TestClient, app: Any, net: Network
) -> None:
    made = [received_sample(app.state.uow_factory, net, "central") for _ in range(5)]
    samples = [s.id for s in made]
    sign_in(client, net, "central_manager")
    newest = client.get("/queue", params={"sort": "registered", "size": "2"})
    assert listed(newest, SAMPLE_LINK) == samples[::-1][:2] and "Rows 1–2 of 5" in newest.text
    last = client.get("/queue", params={"sort": "registered", "size": "2", "page": "3"})
    assert listed(last, SAMPLE_LINK) == [samples[0]]
    oldest = client.get("/queue", params={"sort": "-registered", "state": "received"})
    assert listed(oldest, SAMPLE_LINK) == samples
    fragment = client.get(
        "/queue", params={"sort": "-registered", "size": "2"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text and "/queue.csv?sort=-registered" in fragment.text
    rows = csv_rows(client.get("/queue.csv", params={"sort": "-registered", "state": "received"}))
    assert rows[0][0] == "Sample" and len(rows) == 6
    assert [row[0] for row in rows[1:]] == [s.lab_sample_id for s in made]
    assert all(row[7] == "received" for row in rows[1:])
    assert len(xlsx_rows(client.get("/queue.xlsx", params={"state": "received"}))) == 6
    sign_in(client, net, "officer")
    assert client.get("/queue.csv").status_code == 403


# -- the samples a laboratory referred out ---------------------------------------------------------------


def _refer(app: Any, net: Network, to: str = "central") -> Any:
    sample = received_sample(app.state.uow_factory, net, "local")
    referrals.refer_sample(
        app.state.uow_factory(),
        net["local_manager"],
        sample.id,
        ReferralCreate(to_lab=getattr(net, to), reason="GC-MS"),
    )
    return sample


def test_the_referring_laboratory_sees_what_it_referred_out_and_no_other_laboratory_does(
    client: TestClient, app: Any, net: Network
) -> None:
    sample = _refer(app, net)
    sign_in(client, net, "local_manager")
    page = client.get("/referred-out")
    assert listed(page, SAMPLE_LINK) == [sample.id]
    assert net.central in page.text and "sent" in page.text and "Referred out" in page.text
    [header, row] = csv_rows(client.get("/referred-out.csv"))
    assert header[:6] == ["Sample", "Request", "Goods", "Declared HS", "Referred to", "Now at"]
    assert row[0] == sample.lab_sample_id and row[4] == row[5] == net.central and row[7] == "registered"
    assert listed(client.get("/referred-out?referral_state=completed"), SAMPLE_LINK) == []
    assert listed(client.get("/referred-out", params={"q": sample.lab_sample_id}), SAMPLE_LINK) == [sample.id]
    for who in ("central_manager", "outsider", "rcl_manager"):
        sign_in(client, net, who)
        assert sample.id not in listed(client.get("/referred-out"), SAMPLE_LINK), who
        assert sample.lab_sample_id not in client.get("/referred-out.csv").text, who
    assert client.get("/referred-out", params={"lab": net.local}).status_code == 404
    sign_in(client, net, "officer")
    assert client.get("/referred-out").status_code == 403


def test_the_central_laboratory_reads_what_a_laboratory_under_it_referred_out(
    client: TestClient, app: Any, net: Network
) -> None:
    sample = _refer(app, net, to="rcl")
    sign_in(client, net, "central_manager")
    assert listed(client.get("/referred-out", params={"lab": net.local}), SAMPLE_LINK) == [sample.id]


# -- the dashboard -----------------------------------------------------------------------------------------


def test_the_dashboard_credits_the_referring_laboratory_with_the_samples_it_referred_out(
    client: TestClient, app: Any, net: Network
) -> None:
    for _ in range(3):
        _refer(app, net)
    uow = app.state.uow_factory
    figures = dashboard.network_dashboard(uow(), net["central_manager"])
    of = {lab: i for i, lab in enumerate(figures.labs)}
    assert figures.cases_per_lab[of[net.local]] == 0, "the samples are held at the central laboratory"
    assert figures.referred_out_per_lab[of[net.local]] == 3
    assert figures.cases_per_lab[of[net.central]] == 3 and figures.referred_out_per_lab[of[net.central]] == 0
    # Another administration's reader: the local laboratory holds fewer than 3 cases, so it stays a small
    # cell, the samples it referred out included.
    network = dashboard.network_dashboard(uow(), net["coordinator"])
    local = network.labs.index(net.local)
    assert network.cases_per_lab[local] is None and network.referred_out_per_lab[local] is None
    sign_in(client, net, "central_manager")
    page = client.get("/dashboard")
    assert "Cases held" in page.text and "Referred out" in page.text
    assert client.get("/dashboard.json").json()["referred_out_per_lab"][of[net.local]] == 3


# -- the other lists -----------------------------------------------------------------------------------------

LISTS = [
    ("admin", "/admin/users"),
    ("admin", "/admin/organisations"),
    ("admin", "/admin/messages"),
    ("coordinator", "/joint-analyses"),
    ("local_manager", "/shared-knowledge"),
    ("local_analyst", "/my-work"),
    ("local_manager", "/referred-out"),
]


@pytest.mark.parametrize(("who", "path"), LISTS)
def test_every_list_page_has_its_search_pager_and_exports_that_open(
    client: TestClient, net: Network, who: str, path: str
) -> None:
    sign_in(client, net, who)
    page = client.get(path, params={"q": "", "sort": ""})
    assert page.status_code == 200 and 'name="q"' in page.text and 'class="pager"' in page.text
    header = csv_rows(client.get(f"{path}.csv"))[0]
    assert header and all(header)
    assert [str(c) for c in xlsx_rows(client.get(f"{path}.xlsx"))[0]] == header


def test_the_administrators_users_are_searched_filtered_paged_and_exported(
    client: TestClient, app: Any, net: Network
) -> None:
    sign_in(client, net, "admin")
    manager = net["local_manager"].username
    found = client.get("/admin/users", params={"q": manager})
    assert found.status_code == 200 and manager in found.text and net["officer"].username not in found.text
    analysts = client.get("/admin/users", params={"role": "analyst", "sort": "-username"})
    rows = csv_rows(client.get("/admin/users.csv", params={"role": "analyst", "sort": "-username"}))
    names = [row[0] for row in rows[1:]]
    assert names == sorted(names, reverse=True) and net["analyst"].username in names
    assert all(name in analysts.text for name in names) and manager not in names
    first = client.get("/admin/users", params={"size": "1", "sort": "username"})
    assert "Rows 1–1 of" in first.text and re.search(r'href="/admin/users\?[^"]*page=2"', first.text)
    orgs = csv_rows(client.get("/admin/organisations.csv", params={"kind": "local"}))
    codes = [row[0] for row in orgs[1:]]
    assert net.local in codes and net.central not in codes and {row[2] for row in orgs[1:]} == {"local"}
