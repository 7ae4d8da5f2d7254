"""The targeting feedback page: every rate with its n, small counts as counts, the risk-indicator downloads
for those who may take them, no declaration data on a coordinator's page, and one view for page and JSON."""

from __future__ import annotations

import csv
import io
import itertools
import random
import re
from datetime import date
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from customslab.domain.targeting_alerts import AlertKind
from customslab.services.risk_export import risk_indicator_schema
from customslab.services.targeting import TargetingQuery
from customslab.services.targeting_alert_ports import TargetingAlert
from customslab.services.targeting_page import targeting_dashboard
from customslab.services.targeting_ports import Outcome
from tests.factories import PASSWORD, Network

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PERIOD = "?from=2026-01-01&to=2026-06-30"
IMPORTER = "Hanbit Pepper Trading"
DECLARANT = "Seoul Customs Brokers"
#: Sample ids of the tests' outcomes: the table has no foreign key, and every test's network is its own.
_ids = itertools.count(random.SystemRandom().randrange(1_000_000_000, 2_000_000_000))


def sign_in(client: TestClient, net: Network, who: str) -> TestClient:
    token = TOKEN.search(client.get("/login").text)
    assert token, "no CSRF token on the sign-in page"
    response = client.post(
        "/login",
        data={"username": net[who].username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def outcome(net: Network, heading: str, origin: str, differs: bool, day: date, **kw: Any) -> Outcome:
    sample_id = next(_ids)
    fields: dict[str, Any] = {
        "sample_id": sample_id,
        "reference": f"{net.local}-T-{sample_id}",
        "lab_code": net.local,
        "administration_code": net.home,
        "declared_hs": f"{heading}21",
        "determined_hs": f"{heading}22" if differs else f"{heading}21",
        "heading": heading,
        "differs": differs,
        "origin": origin,
        "importer": IMPORTER,
        "declarant": DECLARANT,
        "decided_on": day,
        "customs_value": Decimal("1000000"),
        "currency": "KRW",
        "duty_difference": Decimal("30000.00") if differs else Decimal("0.00"),
    }
    return Outcome(**(fields | kw))


@pytest.fixture
def decided(app: Any, net: Network) -> Network:
    """Decided samples of the home administration: dried pepper from China, 40 cases of which 12 were
    determined in another subheading (over two months), and rum from Jamaica, 3 of 3 (a small count)."""
    rows = [outcome(net, "0904", "CN", i < 12, date(2026, 3 if i % 2 else 4, 1 + i % 28)) for i in range(40)]
    rows += [outcome(net, "2208", "JM", True, date(2026, 5, 10 + i)) for i in range(3)]
    uow = app.state.uow_factory()
    with uow:
        for row in rows:
            uow.targeting.record(row)
        uow.commit()
    return net


def _rows(html: str, section: str) -> list[str]:
    """The <tr> elements of a section's table body, by the section's id."""
    found = re.search(rf'<section class="card" id="{section}">(.*?)</section>', html, re.S)
    assert found, f"no section {section}"
    body = re.search(r"<tbody>(.*?)</tbody>", found.group(1), re.S)
    return re.findall(r"<tr[^>]*>.*?</tr>", body.group(1) if body else "", re.S)


@SQLITE_ONLY
def test_every_rate_on_the_targeting_page_shows_k_of_n(client: TestClient, decided: Network) -> None:
    page = sign_in(client, decided, "central_manager").get("/targeting" + PERIOD)
    assert page.status_code == 200, page.text
    sections = ("by-heading", "by-origin", "by-heading-origin", "by-importer", "by-declarant", "trend")
    rows = [row for section in sections for row in _rows(page.text, section)]
    assert len(rows) >= 10
    for row in rows:
        n, k = re.search(r'data-n="(\d+)"', row), re.search(r'class="rate-n">(\d+) of (\d+)<', row)
        assert n and k and k.group(2) == n.group(1), row
    pepper = next(r for r in _rows(page.text, "by-heading") if ">0904<" in r)
    assert "12 of 40" in pepper and "30.0 %" in pepper and "<svg" in pepper  # the rate and its whisker
    assert 'class="rate-chart"' in page.text and "95 % Wilson interval" in page.text
    assert "15 of 43" in page.text.split('id="overall"')[1].split("</div>")[0]


@SQLITE_ONLY
def test_a_small_count_is_shown_as_counts_never_as_a_percentage(client: TestClient, decided: Network) -> None:
    page = sign_in(client, decided, "central_manager").get("/targeting" + PERIOD).text
    rum = next(r for r in _rows(page, "by-heading") if ">2208<" in r)
    assert "3 of 3" in rum and "small count" in rum
    assert "%" not in re.sub(r"<svg.*?</svg>", "", rum, flags=re.S)
    assert "100.0 %" not in page and "100 %" not in page.replace("100 %</text>", "")


@SQLITE_ONLY
def test_the_page_shows_the_revenue_impact_with_the_cases_it_covers(
    client: TestClient, decided: Network
) -> None:
    page = sign_in(client, decided, "central_manager").get("/targeting" + PERIOD).text
    revenue = page.split('id="revenue"')[1].split("</div>")[0]
    # 15 differing cases at 30,000 won each, over the 43 decided cases whose difference is known.
    assert "450,000 KRW" in revenue and "43 of 43" in revenue


@SQLITE_ONLY
def test_a_lab_manager_downloads_the_risk_indicators_as_csv(client: TestClient, decided: Network) -> None:
    page = sign_in(client, decided, "central_manager").get("/targeting" + PERIOD).text
    link = re.search(r'href="([^"]+)"[^>]*>Download risk indicators \(CSV\)<', page)
    assert link and "Download risk indicators (JSON)" in page
    response = client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    importer = next(r for r in rows if r["selector_type"] == "importer" and r["importer"] == IMPORTER)
    assert (importer["n"], importer["k"], importer["period_start"]) == ("43", "15", "2026-01-01")
    assert importer["evidence"].startswith(f"{decided.local}-T-")


@SQLITE_ONLY
def test_the_json_download_is_an_attachment_that_validates_against_the_schema(
    client: TestClient, decided: Network
) -> None:
    response = sign_in(client, decided, "central_manager").get("/targeting/risk-indicators.json" + PERIOD)
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and ".json" in disposition
    jsonschema.validate(response.json(), risk_indicator_schema())
    heading = [i for i in response.json()["indicators"] if i["selector_type"] == "heading"]
    assert [(i["selector"], i["n"], i["k"]) for i in heading] == [({"heading": "0904"}, 40, 12)]


@SQLITE_ONLY
def test_an_analyst_may_not_download_the_risk_indicators(client: TestClient, decided: Network) -> None:
    sign_in(client, decided, "analyst")
    assert client.get("/targeting/risk-indicators.csv" + PERIOD).status_code == 403
    assert client.get("/targeting/risk-indicators.json" + PERIOD).status_code == 403
    assert client.get("/targeting" + PERIOD).status_code == 403
    assert 'href="/targeting"' not in client.get("/hs").text


@SQLITE_ONLY
def test_a_reviewer_sees_the_page_without_the_download_links(client: TestClient, decided: Network) -> None:
    page = sign_in(client, decided, "reviewer").get("/targeting" + PERIOD).text
    assert "12 of 40" in page and 'href="/targeting"' in page
    assert "Download risk indicators" not in page


@SQLITE_ONLY
def test_the_coordinators_page_names_no_importer_or_declarant(client: TestClient, decided: Network) -> None:
    page = sign_in(client, decided, "coordinator").get("/targeting" + PERIOD)
    assert page.status_code == 200, page.text
    assert "network figures, aggregated" in page.text
    for secret in (IMPORTER, DECLARANT, f"{decided.local}-T-", 'id="by-importer"', 'id="revenue"'):
        assert secret not in page.text
    assert "Download risk indicators" not in page.text
    data = client.get("/targeting.json" + PERIOD).json()
    assert data["figures"]["by_importer"] is None and data["figures"]["by_declarant"] is None
    assert IMPORTER not in str(data)


def _without_time(data: dict[str, Any]) -> dict[str, Any]:
    return data | {"figures": data["figures"] | {"generated_at": None}}


def test_the_json_is_the_pages_view(client: TestClient, decided: Network, app: Any) -> None:
    sign_in(client, decided, "central_manager")
    served = client.get("/targeting.json" + PERIOD)
    assert served.status_code == 200, served.text
    query = TargetingQuery(start=date(2026, 1, 1), end=date(2026, 6, 30))
    view = targeting_dashboard(app.state.uow_factory(), decided["central_manager"], query)
    assert _without_time(served.json()) == _without_time(view.model_dump(mode="json", by_alias=True))
    page = client.get("/targeting" + PERIOD).text
    for row in served.json()["figures"]["by_heading_origin"]["rows"]:
        assert f"<td>{row['label']}</td>" in page and f"{row['k']} of {row['n']}" in page


@SQLITE_ONLY
def test_a_reversed_period_is_refused_with_a_clear_message(client: TestClient, decided: Network) -> None:
    page = sign_in(client, decided, "central_manager").get("/targeting?from=2026-06-30&to=2026-01-01")
    assert page.status_code == 422
    assert "start must not be after its end" in page.text


@SQLITE_ONLY
def test_the_page_lists_a_stored_alert_with_its_rule(client: TestClient, decided: Network, app: Any) -> None:
    uow = app.state.uow_factory()
    with uow:
        uow.act_as("targeting-alerts")
        alert = TargetingAlert(
            key=f"rate:{decided.home}:0904:CN:2026-06-30",
            rule=AlertKind.RISING_RATE,
            administration_code=decided.home,
            summary="the mismatch rate of heading 0904 from CN rose",
            raised_at=uow.clock(),
            heading="0904",
            origin="CN",
            recent_n=10,
            recent_k=8,
            history_n=40,
            history_k=4,
            evidence=[f"{decided.local}-T-1"],
            labs=[decided.local],
        )
        uow.quality.add(alert)
        uow.commit()
    page = sign_in(client, decided, "central_manager").get("/targeting" + PERIOD)
    assert page.status_code == 200, page.text
    (row,) = _rows(page.text, "alerts")
    assert "Rising rate" in row and "8 of 10" in row and "4 of 40" in row and f"{decided.local}-T-1" in row
