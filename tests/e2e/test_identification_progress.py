"""The identification forms in Chromium: while htmx searches, the indicator shows and the button is off."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from customslab.services import analysis
from customslab.services.analysis import TestCreate
from tests.e2e.conftest import Live
from tests.e2e.test_browser import SPECTRUM, as_user
from tests.factories import received_sample

#: Records, when htmx sends, whether each form's indicator shows and its button is disabled.
RECORD_BUSY = """
document.addEventListener("htmx:beforeSend", (event) => {
  const form = event.target.closest("form");
  const busy = document.getElementById(form.getAttribute("hx-indicator").slice(1));
  window.seenBusy = (window.seenBusy || []).concat([{
    visible: getComputedStyle(busy).visibility === "visible",
    disabled: form.querySelector("button").disabled,
    text: busy.textContent,
  }]);
});
"""


@pytest.mark.browser
def test_an_identification_shows_that_the_library_is_being_searched_and_disables_its_button(
    browser: Any, live: Live, shared_data: Path
) -> None:
    sample = received_sample(live.app.state.uow_factory, live.net)
    test = analysis.add_test(
        live.app.state.uow_factory(),
        live.net["central_manager"],
        sample.id,
        TestCreate(determination="Identity", method_ref="GC-MS", analyst_id=live.net["analyst"].user_id),
    )
    violations: list[str] = []
    page = as_user(browser, live, "analyst", violations)
    page.add_init_script(RECORD_BUSY)
    page.goto(f"{live.base}/tests/{test.id}/identify")

    page.set_input_files("#spectrum-file", str(shared_data / SPECTRUM))
    page.get_by_role("button", name="Upload and identify").click()
    page.wait_for_selector("#mirror canvas")
    assert "alpha-MethylBenzylamine" in page.locator("#hits tbody tr").first.inner_text()

    # The search form is boosted: the results replace the page without a reload, and the plot is drawn.
    page.evaluate("window.seenBusy = []")
    page.get_by_role("button", name="Identify", exact=True).click()
    page.wait_for_function("window.seenBusy && window.seenBusy.length > 0")
    expect(page.locator("#mirror canvas")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/identify\?attachment=[0-9a-f]{64}&library=default"))
    seen = page.evaluate("window.seenBusy")
    assert seen == [{"visible": True, "disabled": True, "text": "Searching the library…"}]
    expect(page.get_by_role("button", name="Identify", exact=True)).to_be_enabled()
    assert violations == []
