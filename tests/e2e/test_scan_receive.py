"""The receiving bench in Chromium: label codes typed as a hand scanner types them, then one receipt."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from customslab.services import cases, queries
from customslab.services.cases import SampleCreate
from tests.e2e.conftest import Live
from tests.e2e.test_browser import as_user
from tests.factories import request_command


@pytest.fixture
def violations() -> list[str]:
    """The policy violations of every page the test opens; none may remain at its end."""
    return []


@pytest.mark.browser
def test_three_scanned_labels_are_received_together_with_one_click(
    browser: Any, live: Live, violations: list[str]
) -> None:
    uow, net = live.app.state.uow_factory, live.net
    req = cases.file_request(uow(), net["officer"], request_command(net, lab_code=net.central))
    samples = [
        cases.register_sample(uow(), net["central_manager"], req.id, SampleCreate(quantity="1", unit="L"))
        for _ in range(3)
    ]
    codes = [s.lab_sample_id for s in samples]

    analyst = as_user(browser, live, "analyst", violations)
    analyst.get_by_role("link", name="Receive samples").click()
    scan = analyst.locator("#scan")
    expect(scan).to_be_focused()
    # A hand scanner acts as a keyboard: the code's characters, then Enter. Enter must not send the form.
    for code in [*codes, codes[1]]:
        analyst.keyboard.type(code)
        analyst.keyboard.press("Enter")
    expect(analyst.locator("#pending li")).to_have_count(3)
    expect(analyst.locator("#pending-count")).to_have_text("Pending codes: 3")
    expect(analyst.locator("#scan-note")).to_contain_text(f"{codes[1]} is already in the list")
    expect(scan).to_have_value("")
    expect(scan).to_be_focused()
    assert analyst.locator("#messages").inner_text().strip() == ""  # nothing was sent yet
    # A wrong scan is taken off the list again.
    analyst.keyboard.type("NOT-A-LABEL")
    analyst.keyboard.press("Enter")
    analyst.get_by_role("button", name="Remove NOT-A-LABEL").click()
    expect(analyst.locator("#pending li")).to_have_count(3)

    analyst.get_by_label("Storage location").fill("Cold room 1")
    analyst.get_by_role("button", name="Receive all").click()
    expect(analyst.locator("#messages")).to_contain_text("Samples received: " + ", ".join(codes))
    expect(analyst.locator("#pending li")).to_have_count(0)
    for sample in samples:
        detail = queries.sample_detail(uow(), net["central_manager"], sample.id)
        assert detail.state == "received" and detail.storage_location == "Cold room 1"
    assert violations == []


@pytest.mark.browser
def test_a_bad_code_refuses_the_delivery_and_is_marked_in_the_list(
    browser: Any, live: Live, violations: list[str]
) -> None:
    uow, net = live.app.state.uow_factory, live.net
    req = cases.file_request(uow(), net["officer"], request_command(net, lab_code=net.central))
    sample = cases.register_sample(
        uow(), net["central_manager"], req.id, SampleCreate(quantity="1", unit="L")
    )

    analyst = as_user(browser, live, "analyst", violations)
    analyst.goto(f"{live.base}/receive")
    for code in (sample.lab_sample_id, "NO-SUCH-LABEL"):
        analyst.keyboard.type(code)
        analyst.keyboard.press("Enter")
    analyst.get_by_role("button", name="Receive all").click()
    expect(analyst.locator("#receive-form .form-error")).to_contain_text("NO-SUCH-LABEL: no sample")
    expect(analyst.locator('#pending li[data-code="NO-SUCH-LABEL"]')).to_have_class("bad")
    expect(analyst.locator("#pending li")).to_have_count(2)  # the list stays for the user to correct
    assert queries.sample_detail(uow(), net["central_manager"], sample.id).state == "registered"
    assert violations == []
