"""The network of administrations in Chromium, through real pages over a real (SQLite) database:

- the focal point of a member administration without a laboratory files, registers, seals and refers
  its sample to the RCL of another administration, then downloads the RCL's report;
- a joint analysis gathers two administrations' opinions, and the RCL's coordinator consolidates them;
- the RCL's coordinator, of another administration, gets 404 on a domestic request;
- the network dashboard shows figures per laboratory and per administration, and no case.

The laboratories' own steps between the browser steps (the RCL's analysis, the opinions) go through the
services, as the pages would call them, to keep the story short.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from customslab.adapters import hs_store
from customslab.adapters.db import upgrade
from customslab.config import Settings
from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.entrypoints.web.app import create_web_app
from customslab.entrypoints.web.screenshots import live_server
from customslab.services import analysis, cases, reports
from customslab.services import joint_analysis as joint
from customslab.services.analysis import ResultCreate, ReviewDecision, TestCreate
from customslab.services.cases import SampleCreate, SampleReceipt
from customslab.services.joint_analysis import JointSampleLink
from customslab.services.views import SampleSummary
from tests.e2e.conftest import Live
from tests.e2e.test_browser import as_user
from tests.factories import Network, make_network, request_command, unique
from tests.integration.member_support import add_user
from tests.joint_support import JP_REASONING, KR_REASONING, approved_opinion, japans_sub_sample

EXPLANATION = "The Korean sample was taken from the top of the lot, where the cocoa coating is thinner."


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Live]:
    """The live server of tests/e2e/conftest.py without the spectral library (no spectrum is identified
    here), and with the people the story adds to the test network: the member administration's focal
    point and an analyst at the RCL."""
    tmp = tmp_path_factory.mktemp("network-live")
    url = f"sqlite:///{tmp / 'web.sqlite3'}"
    upgrade(url)
    settings = Settings(mode="test", database_url=url, file_store=tmp / "files", shared_data=shared_data)
    app = create_web_app(settings)
    with app.state.db.engine.begin() as conn:
        hs_store.load_nomenclature(conn, shared_data / "hs")
    net = make_network(app.state.uow_factory)
    add_user(app.state.uow_factory, net, "focal_point", net.member, [Role.FOCAL_POINT])
    add_user(app.state.uow_factory, net, "rcl_analyst", net.rcl, [Role.ANALYST])
    with live_server(app) as base:
        yield Live(base, app, net)
    app.state.db.dispose()


@pytest.fixture
def violations() -> list[str]:
    """The Content-Security-Policy violations of every page a test opens; none may remain at its end."""
    return []


def _received(live: Live, net: Network, lab: str, **request: Any) -> SampleSummary:
    """The home officer's request to `lab` ("central" or "local") with `request`'s fields, its sample
    registered and received there."""
    uow_factory, manager = live.app.state.uow_factory, net[f"{lab}_manager"]
    filed = cases.file_request(
        uow_factory(), net["officer"], request_command(net, lab_code=getattr(net, lab), **request)
    )
    created = cases.register_sample(uow_factory(), manager, filed.id, SampleCreate(quantity="500", unit="g"))
    return cases.receive_sample(uow_factory(), manager, created.id, SampleReceipt())


def _measure(
    live: Live, manager: Actor, analyst: Actor, reviewer: Actor, sample_id: int, **result: str
) -> None:
    """The laboratory plans a test, its analyst measures, and its reviewer approves."""
    uow_factory = live.app.state.uow_factory
    test = analysis.add_test(
        uow_factory(),
        manager,
        sample_id,
        TestCreate(
            determination=result.pop("determination"), method_ref="WCO-RCL-M-7", analyst_id=analyst.user_id
        ),
    )
    analysis.enter_result(uow_factory(), analyst, test.id, ResultCreate(coverage_factor="2", **result))
    analysis.submit_test(uow_factory(), analyst, test.id)
    analysis.review_test(uow_factory(), reviewer, test.id, ReviewDecision(approve=True))


@pytest.mark.browser
def test_a_member_without_a_laboratory_refers_its_sample_to_an_rcl_and_downloads_the_report(
    browser: Any, live: Live, violations: list[str]
) -> None:
    net = live.net
    declaration = unique("BT-DCL")

    # The focal point files the request to its own organisation, which registers the sample and seals it.
    fp = as_user(browser, live, "focal_point", violations)
    assert fp.url == f"{live.base}/requests"
    fp.get_by_role("navigation", name="Main").get_by_role("link", name="New request").click()
    fp.select_option("#lab_code", net.member)
    fp.get_by_label("Declaration number").fill(declaration)
    fp.get_by_label("Declared HS code").fill("2208.40")
    fp.get_by_label("Description of the goods").fill("Rum in 700 mL bottles")
    fp.get_by_label("Country of origin").fill("JM")
    fp.get_by_label("Importer").fill("Druk Trading")
    fp.get_by_label("Declared value").fill("12000")
    fp.get_by_label("Currency").fill("USD")
    fp.get_by_label("Requested determinations").fill("alcoholic strength")
    fp.get_by_role("button", name="File the request").click()
    expect(fp.locator("#messages")).to_contain_text("filed")
    reference = re.search(r"REQ-\d{4}-\d{6}", fp.locator("h1").inner_text())[0]  # type: ignore[index]
    fp.get_by_label("Quantity").fill("500")
    fp.get_by_label("Unit").fill("mL")
    fp.get_by_label("Seal number").fill("BT-7")
    fp.get_by_role("button", name="Register the sample").click()
    expect(fp.locator("#messages")).to_contain_text("registered")
    sample_url = fp.url
    assert re.fullmatch(rf"{live.base}/samples/\d+", sample_url)
    assert fp.get_by_role("button", name="Record receipt").count() == 0  # the RCL receives it, not the member

    # It hands the sealed parcel to the courier, then refers the sample to the RCL with a new seal.
    fp.locator("summary", has_text="Record a custody event").click()
    fp.select_option("#custody_kind", "transport")
    fp.locator("#custody_to").fill("courier")
    fp.select_option("#custody_seal", "yes")
    fp.get_by_role("button", name="Record the event").click()
    expect(fp.locator("#messages")).to_contain_text("Custody event recorded")
    fp.locator("summary", has_text="Refer to another laboratory").click()
    assert fp.locator("#to_lab option").first.get_attribute("value") == net.rcl  # the RCLs come first
    fp.select_option("#to_lab", net.rcl)
    fp.locator("#refer_reason").fill("No laboratory in the administration")
    fp.locator("#refer_seal").fill("BT-8")
    fp.get_by_role("button", name="Refer the sample").click()
    expect(fp.locator("#messages")).to_contain_text(f"referred to {net.rcl}")
    assert fp.url == sample_url  # the focal point follows the sample to the RCL
    facts = fp.locator("main dl.facts").first.inner_text()
    assert net.rcl in facts and "BT-8" in facts
    assert "Refer to another laboratory" not in fp.locator("main").inner_text()
    custody = fp.locator("ol.timeline").first.inner_text()
    assert "transport" in custody and "referral dispatch" in custody

    # The RCL receives, measures, approves and reports (its own pages are not this story's).
    sample_id = int(sample_url.rsplit("/", 1)[1])
    uow_factory = live.app.state.uow_factory
    cases.receive_sample(uow_factory(), net["rcl_manager"], sample_id, SampleReceipt(seal_number="BT-8"))
    _measure(
        live,
        net["rcl_manager"],
        net["rcl_analyst"],
        net["rcl_manager"],
        sample_id,
        determination="alcoholic strength",
        name="alcohol_strength",
        value="40.1",
        unit="%vol",
        expanded_uncertainty="0.2",
    )
    report = reports.issue_report(uow_factory(), net["rcl_manager"], sample_id)

    # The focal point finds the result on its request and downloads the RCL's report from the sample.
    fp.get_by_role("navigation", name="Main").get_by_role("link", name="My requests").click()
    fp.get_by_role("link", name=reference).click()
    assert "40.1" in fp.locator("main").inner_text() and "Druk Trading" in fp.locator("main").inner_text()
    fp.locator("main h3 a[href^='/samples/']").first.click()
    fp.wait_for_url(sample_url)
    link = fp.locator("#reports").get_by_role("link", name=re.compile(report.report_id))
    # Chromium opens the PDF (inline) in its viewer, which stands in for the bytes in the page; the test
    # keeps the bytes the server sent Chromium on the way.
    sent: list[bytes] = []

    def keep(route: Any) -> None:
        response = route.fetch()
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        sent.append(response.body())
        route.fulfill(response=response)

    fp.route(re.compile(r"/reports/\d+\.pdf$"), keep)
    link.click()
    fp.wait_for_url(re.compile(r"/reports/\d+\.pdf$"), wait_until="commit")
    pdf = sent[0]
    assert pdf.startswith(b"%PDF")
    printed = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert report.report_id in printed and "40.1" in printed
    # The RCL printed what it could read of the declaration: nothing was released to it.
    assert "Druk Trading" not in printed and declaration not in printed
    assert violations == []


@pytest.mark.browser
def test_a_joint_analysis_gathers_two_administrations_opinions_and_the_rcls_consolidated_one(
    browser: Any, live: Live, violations: list[str]
) -> None:
    net = live.net
    uow_factory = live.app.state.uow_factory
    goods = f"Chocolate-flavoured puffed cereal {unique('LOT')}"
    declaration = unique("KR-DCL")
    importer = f"Hanbit {unique('Foods')}"
    # Korea's sample at its central laboratory; a sub-sample of it, referred to the RCL, is Japan's.
    kr = _received(
        live,
        net,
        "central",
        goods_description=goods,
        declared_hs="1904.10",
        declaration_number=declaration,
        importer=importer,
    )
    jp_sample = japans_sub_sample(uow_factory, net, kr.id).sample_id

    # The RCL's coordinator opens the joint analysis between Korea and Japan on its page.
    coordinator = as_user(browser, live, "coordinator", violations)
    coordinator.get_by_role("link", name="Joint analyses").click()
    if not coordinator.locator("#product").is_visible():
        coordinator.locator("summary", has_text="New joint analysis").click()
    coordinator.locator("#product").fill(goods)
    coordinator.select_option("#administration_code-0", net.home)
    coordinator.locator("#declared_code-0").fill("1904.10")
    coordinator.select_option("#lab_code-0", net.central)
    coordinator.select_option("#administration_code-1", net.rcl_administration)
    coordinator.locator("#declared_code-1").fill("1806.90")
    coordinator.get_by_role("button", name="Open the joint analysis").click()
    coordinator.wait_for_url(re.compile(r"/joint-analyses/\d+$"))
    expect(coordinator.locator("#messages")).to_contain_text("opened")
    joint_url = coordinator.url
    joint_id = int(joint_url.rsplit("/", 1)[1])
    assert coordinator.locator("#participants article").count() == 2

    # Each laboratory links its sample, measures cocoa on it and writes its opinion (ordinary use cases).
    joint.link_sample(uow_factory(), net["central_manager"], joint_id, JointSampleLink(sample_id=kr.id))
    joint.link_sample(uow_factory(), net["rcl_manager"], joint_id, JointSampleLink(sample_id=jp_sample))
    cocoa = {
        "determination": "Cocoa content",
        "name": "cocoa_defatted",
        "unit": "%",
        "expanded_uncertainty": "0.3",
    }
    _measure(live, net["central_manager"], net["analyst"], net["reviewer"], kr.id, value="5.9", **cocoa)
    _measure(
        live, net["rcl_manager"], net["rcl_analyst"], net["rcl_manager"], jp_sample, value="6.4", **cocoa
    )
    approved_opinion(uow_factory, net["analyst"], net["reviewer"], kr.id, "1904.10", KR_REASONING)
    approved_opinion(uow_factory, net["rcl_analyst"], net["rcl_manager"], jp_sample, "1806.90", JP_REASONING)

    # The coordinator reads both opinions and consolidates, explaining Korea's difference.
    coordinator.reload()
    expect(coordinator.locator("main")).to_contain_text("Every participant has an approved opinion")
    coordinator.locator("#determined_code").fill("1806.90")
    coordinator.locator("#reasoning").fill(JP_REASONING)
    coordinator.locator(f"#explanation-{net.home}").fill(EXPLANATION)
    coordinator.get_by_role("button", name="Consolidate").click()
    expect(coordinator.locator("#messages")).to_contain_text("consolidated")
    assert coordinator.url == joint_url

    # Korea's reviewer, a participant, reads both opinions, the measurements and the consolidated opinion.
    reviewer = as_user(browser, live, "reviewer", violations)
    reviewer.get_by_role("link", name="Joint analyses").click()
    reviewer.locator(f"a[href='/joint-analyses/{joint_id}']").click()
    reviewer.wait_for_url(joint_url)
    for page in (coordinator, reviewer):
        consolidated = page.locator("section.card").first.inner_text()
        assert "Consolidated opinion" in consolidated and "1806.90" in consolidated
        assert "heading 19.04 is excluded" in consolidated
        korea = page.locator(f"#participant-{net.home}")
        text = korea.inner_text()
        assert f"1904.10 · {net.central}" in text and KR_REASONING in text and "5.9" in text
        assert korea.locator("h3 .badge.mismatch").count() == 1 and EXPLANATION in text
        japan = page.locator(f"#participant-{net.rcl_administration}")
        text = japan.inner_text()
        assert f"1806.90 · {net.rcl}" in text and JP_REASONING in text and "6.4" in text
        assert japan.locator("h3 .badge.mismatch").count() == 0
    # The RCL's coordinator, of another administration, reads no declaration data of Korea's case.
    for secret in (declaration, importer, kr.request_reference):
        assert secret not in coordinator.content()
    assert violations == []


@pytest.mark.browser
def test_the_rcl_coordinator_of_another_administration_gets_404_on_a_domestic_request(
    browser: Any, live: Live, violations: list[str]
) -> None:
    net = live.net
    importer = f"Domestic {unique('Importer')}"
    domestic = _received(live, net, "central", goods_description="Soju in 360 mL bottles", importer=importer)
    request_path = f"/requests/{domestic.request_id}"

    # The officer who filed it reads it: the page exists.
    officer = as_user(browser, live, "officer", violations)
    assert officer.goto(f"{live.base}{request_path}").status == 200
    assert importer in officer.locator("main").inner_text()

    coordinator = as_user(browser, live, "coordinator", violations)
    for path in (request_path, f"/samples/{domestic.id}"):
        response = coordinator.goto(f"{live.base}{path}")
        assert response is not None and response.status == 404, path
        assert "Not found" in coordinator.locator("h1").inner_text()
        page = coordinator.content()
        for secret in (importer, "Soju", domestic.request_reference, domestic.lab_sample_id):
            assert secret not in page, (path, secret)
    assert violations == []


@pytest.mark.browser
def test_the_network_dashboard_shows_figures_per_laboratory_and_administration_and_no_case(
    browser: Any, live: Live, violations: list[str]
) -> None:
    # A fresh part of the network whose cases only this test files: three at Korea's central laboratory,
    # one at a local laboratory (a small cell, suppressed for a reader of another administration).
    uow_factory = live.app.state.uow_factory
    kr = make_network(uow_factory)
    secrets: set[str] = set()
    for lab in ("central", "central", "central", "local"):
        declaration, importer = unique("DCL"), f"Importer {unique('Secret')}"
        case = _received(live, kr, lab, importer=importer, declaration_number=declaration)
        secrets |= {declaration, importer, case.request_reference, case.lab_sample_id}
    assert len(secrets) == 16

    coordinator = as_user(browser, live, "coordinator", violations)
    coordinator.get_by_role("link", name="Network dashboard").click()
    coordinator.wait_for_url(f"{live.base}/dashboard")
    expect(coordinator.locator("body")).to_have_attribute("data-charts-ready", "true")
    assert "network" in coordinator.locator("h1").inner_text()

    lab_rows = coordinator.locator("section", has_text="Figures per laboratory").locator("tbody tr")
    central = lab_rows.filter(has=coordinator.locator("td", has_text=re.compile(rf"^{kr.central}$")))
    # The local laboratory's single case is a small cell; hiding it alone would let the administration's
    # row give it away by subtraction, so the central laboratory is hidden with it.
    assert central.locator("td").all_inner_texts()[:3] == [kr.central, "<3", "—"]
    local = lab_rows.filter(has=coordinator.locator("td", has_text=re.compile(rf"^{kr.local}$")))
    assert local.locator("td").all_inner_texts()[:3] == [kr.local, "<3", "—"]
    administrations = coordinator.locator("section", has_text="Figures per administration").locator(
        "tbody tr"
    )
    korea = administrations.filter(has_text=f"({kr.home})")
    assert korea.locator("td").all_inner_texts()[1:5] == ["2", "4", "4", "0"]

    # Counts only: no declaration number, importer, request reference or sample of a case, in the text
    # nor in the figures the charts are drawn from.
    text, html = coordinator.locator("body").inner_text(), coordinator.content()
    for secret in secrets:
        assert secret not in text and secret not in html, secret
    assert "/samples/" not in html and "/requests/" not in html
    assert violations == []
