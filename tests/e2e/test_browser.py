"""The whole story in Chromium: request, receipt, referral, GC-MS identification, review, reading."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Live
from tests.factories import PASSWORD, received_sample

SPECTRUM = "spectra/massbank-ei/MSBNK-GL_Sciences_Inc-GLS00001.txt"


def watch_policy(context: Any, found: list[str]) -> None:
    """Collect every Content-Security-Policy violation Chromium reports in `context`, from the DOM event
    (init scripts and bindings are exempt from the page's policy) and from the console."""
    context.expose_binding("reportPolicyViolation", lambda source, text: found.append(text))
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => window.reportPolicyViolation("
        "`${location.pathname}: ${e.violatedDirective} refused ${e.blockedURI || 'inline code'} "
        "(${e.sourceFile}:${e.lineNumber})`));"
    )
    context.on(
        "console",
        lambda message: (
            found.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or "Permissions-Policy" in message.text
            else None
        ),
    )


@pytest.fixture
def violations() -> list[str]:
    """The policy violations of every page a test opens; none may remain at its end."""
    return []


def as_user(browser: Any, live: Live, who: str, violations: list[str]) -> Any:
    """A fresh browser context signed in as one of the network's users."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watch_policy(context, violations)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of hx-confirm
    page.goto(f"{live.base}/login")
    page.get_by_label("Username").fill(live.net[who].username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    return page


@pytest.mark.browser
def test_a_request_travels_from_the_officer_through_two_laboratories_and_back(
    browser: Any, live: Live, shared_data: Path, violations: list[str]
) -> None:
    net = live.net
    # The officer files a request to the local laboratory.
    officer = as_user(browser, live, "officer", violations)
    officer.goto(f"{live.base}/requests/new")
    officer.select_option("#lab_code", net.local)
    officer.get_by_label("Declaration number").fill("DCL-E2E-1")
    officer.get_by_label("Declared HS code").fill("2922.49")
    officer.get_by_label("Description of the goods").fill("White crystalline powder, 1 kg")
    officer.get_by_label("Country of origin").fill("CN")
    officer.select_option("#reason", "narcotics_precursors")
    officer.select_option("#priority", "urgent")
    officer.get_by_role("button", name="File the request").click()
    expect(officer.locator("#messages")).to_contain_text("filed")
    request_url = officer.url
    reference = re.search(r"REQ-\d{4}-\d{6}", officer.locator("h1").inner_text())[0]  # type: ignore[index]

    # The local laboratory registers and receives the sample, then refers it to the central laboratory.
    local = as_user(browser, live, "local_manager", violations)
    local.goto(f"{live.base}/queue")
    local.get_by_role("link", name=reference).click()
    local.get_by_label("Quantity").fill("1000")
    local.get_by_label("Unit").fill("g")
    local.get_by_role("button", name="Register the sample").click()
    expect(local.locator("#messages")).to_contain_text("registered")
    sample_url = local.url
    local.get_by_label("Storage location", exact=True).fill("Safe 3")
    local.get_by_role("button", name="Record receipt").click()
    local.wait_for_url(sample_url)
    expect(local.locator("#messages")).to_contain_text("received")
    local.locator("summary", has_text="Refer to another laboratory").click()
    local.select_option("#to_lab", net.central)
    local.locator("#refer_reason").fill("Suspected precursor: GC-MS needed")
    local.get_by_role("button", name="Refer the sample").click()
    local.wait_for_url(f"{live.base}/queue")
    expect(local.locator("#messages")).to_contain_text("referred")

    # The central laboratory receives it and plans a GC-MS identification for its analyst.
    central = as_user(browser, live, "central_manager", violations)
    central.goto(sample_url)
    central.get_by_role("button", name="Record receipt").click()
    central.wait_for_load_state("networkidle")
    expect(central.locator("#messages")).to_contain_text("received")
    # No validated method version in this laboratory's catalogue: the manager names a non-catalogued one.
    central.select_option("#method_version_id", "other")
    central.get_by_label("Reference of the non-catalogued method").fill("KCL-M-050 GC-MS")
    central.get_by_label("Determination").fill("Identification of the substance")
    central.select_option("#analyst_id", str(net["analyst"].user_id))
    central.get_by_role("button", name="Add the test").click()
    central.wait_for_load_state("networkidle")
    expect(central.locator("#messages")).to_contain_text("added")

    # The analyst uploads a real GC-EI-MS spectrum, identifies it and keeps the hits, then enters a result.
    analyst = as_user(browser, live, "analyst", violations)
    analyst.goto(sample_url)
    analyst.get_by_role("link", name="Identify a spectrum").click()
    analyst.set_input_files("#spectrum-file", str(shared_data / SPECTRUM))
    analyst.get_by_role("button", name="Upload and identify").click()
    analyst.wait_for_selector("#mirror canvas")
    top = analyst.locator("#hits tbody tr").first.inner_text()
    assert "alpha-MethylBenzylamine" in top and "1.000" in top
    analyst.get_by_role("button", name="Attach to the test result").click()
    expect(analyst.locator("#messages")).to_contain_text("Identification attached")
    # The result is the identity the kept hit list gives, with that list as its evidence.
    analyst.locator("summary", has_text="Enter a result").click()
    analyst.get_by_label("Kind of result").select_option("identity")
    expect(analyst.get_by_label("Value", exact=True)).to_be_hidden()
    analyst.get_by_label("Identification (evidence)").select_option(index=1)
    analyst.get_by_label("Observation").fill(
        "alpha-Methylbenzylamine identified by GC-MS (library match 1.000)"
    )
    analyst.get_by_role("button", name="Record the result").click()
    analyst.wait_for_load_state("networkidle")
    expect(analyst.locator("#messages")).to_contain_text("recorded")
    analyst.get_by_role("button", name="Submit for review").click()
    analyst.wait_for_load_state("networkidle")
    expect(analyst.locator("#messages")).to_contain_text("submitted")

    # The reviewer approves.
    reviewer = as_user(browser, live, "reviewer", violations)
    reviewer.goto(f"{live.base}/queue?state=to_be_reviewed")
    reviewer.locator("#queue-rows a[href^='/samples/']").first.click()
    reviewer.get_by_role("button", name="Approve").click()
    reviewer.wait_for_load_state("networkidle")
    expect(reviewer.locator("#messages")).to_contain_text("approved")

    # The officer reads the approved result.
    officer.goto(request_url)
    answer = officer.locator("main").inner_text()
    assert "alpha-Methylbenzylamine identified by GC-MS" in answer
    assert "alpha-MethylBenzylamine" in officer.locator("tr[data-kind='identity'] b").inner_text()

    # Another laboratory cannot open the sample: a 404 page that names nothing of it.
    outsider = as_user(browser, live, "outsider", violations)
    response = outsider.goto(sample_url)
    assert response is not None and response.status == 404
    assert "White crystalline powder" not in outsider.content()
    assert "Not found" in outsider.locator("h1").inner_text()

    # At tablet width the reviewer's pages reflow instead of scrolling sideways.
    reviewer.set_viewport_size({"width": 800, "height": 1024})
    for path in ("/queue", sample_url.replace(live.base, ""), "/hs"):
        reviewer.goto(f"{live.base}{path}")
        overflow = reviewer.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 800px"
    assert violations == []


@pytest.mark.browser
def test_the_other_pages_work_under_the_content_security_policy(
    browser: Any, live: Live, violations: list[str]
) -> None:
    """The pages the story does not open, and the behaviour that moved from inline script to page.js."""
    sample = received_sample(live.app.state.uow_factory, live.net)

    # The officer picks a suggested heading: the button fills the field and the list closes.
    officer = as_user(browser, live, "officer", violations)
    officer.goto(f"{live.base}/requests")
    officer.goto(f"{live.base}/requests/new")
    officer.get_by_label("Declared HS code").press_sequentially("2208")
    suggestion = officer.locator("#hs-suggestions button").first
    code = suggestion.get_attribute("data-value")
    assert code and code.startswith("2208")
    suggestion.click()
    expect(officer.locator("#hs-suggestions button")).to_have_count(0)
    assert officer.input_value("#declared_hs") == code
    # Choosing a language submits its form at once.
    officer.select_option("#lang-select", "ko")
    expect(officer.locator("html")).to_have_attribute("lang", "ko")
    officer.select_option("#lang-select", "en")
    expect(officer.locator("html")).to_have_attribute("lang", "en")

    # The manager's dashboard draws its charts; the other pages render.
    manager = as_user(browser, live, "central_manager", violations)
    manager.goto(f"{live.base}/dashboard")
    expect(manager.locator("body")).to_have_attribute("data-charts-ready", "true")
    for path in ("/quality", "/hs?q=rum", "/queue?state=received"):
        assert manager.goto(f"{live.base}{path}").status == 200, path
        manager.wait_for_load_state("networkidle")
    # Choosing a decision rule re-evaluates at once.
    manager.goto(f"{live.base}/samples/{sample.id}/hs")
    manager.select_option("#rule", "simple")
    manager.wait_for_url(re.compile(r"rule=simple"))
    # The label's print button prints (window.print is replaced so that no dialog opens).
    manager.goto(f"{live.base}/samples/{sample.id}/label")
    manager.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    manager.get_by_role("button", name="Print").click()
    expect(manager.locator("body")).to_have_attribute("data-printed", "yes")
    assert violations == []
