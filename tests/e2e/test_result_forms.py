"""The result form in Chromium: the inputs of the chosen kind, the measurand's unit offered, and a
refusal of the server written next to the input it names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from customslab.services import quality_equipment as equipment
from tests.e2e.conftest import Live
from tests.e2e.test_browser import as_user
from tests.factories import assigned_test, received_sample


def _instrument(live: Live) -> int:
    uow, manager = live.app.state.uow_factory, live.net["central_manager"]
    eq = equipment.EQUIPMENT.record(
        uow(), manager, equipment.EquipmentCreate(equipment_id="DMA-7", name="Density meter")
    )
    today = uow().clock().date()
    calibration = equipment.CalibrationCreate(
        performed_on=today - timedelta(days=10),
        result="ok",
        acceptance_criteria="±0.0002 g/cm3",
        passed=True,
        next_due=today + timedelta(days=100),
    )
    equipment.record_calibration(uow(), manager, eq.id, calibration)
    return eq.id


@pytest.mark.browser
def test_the_result_form_shows_the_inputs_of_its_kind_and_the_refusal_next_to_the_instrument(
    browser: Any, live: Live
) -> None:
    violations: list[str] = []
    uow = live.app.state.uow_factory
    sample = received_sample(uow, live.net)
    test = assigned_test(uow, live.net, sample.id, determination="Alcohol", method_ref="M-22")
    instrument = _instrument(live)
    page = as_user(browser, live, "analyst", violations)
    page.goto(f"{live.base}/samples/{sample.id}")
    form = page.locator(f'form[action="/tests/{test.id}/results"]')
    form.locator("xpath=..").locator("summary").click()
    value = form.locator('input[name="value"]')
    outcome = form.locator('input[name="text_value"]')
    expect(value).to_be_visible()
    expect(outcome).to_be_hidden()
    form.locator('select[name="kind"]').select_option("detection")
    expect(value).to_be_hidden()
    expect(outcome).to_be_visible()
    form.locator('select[name="kind"]').select_option("quantity")
    form.locator('input[name="name"]').fill("alcohol_strength")
    form.locator('input[name="name"]').dispatch_event("change")
    expect(form.locator('input[name="unit"]')).to_have_value("%vol")
    value.fill("40.1")
    form.locator('select[name="equipment_id"]').select_option(str(instrument))
    # The instrument breaks down while the page is open: the service refuses what the page offered.
    equipment.record_maintenance(
        uow(),
        live.net["central_manager"],
        instrument,
        equipment.MaintenanceCreate(kind="damage", description="cell cracked", out_of_service=True),
    )
    form.get_by_role("button", name="Record the result").click()
    error = form.locator('select[name="equipment_id"] + .field-error')
    expect(error).to_contain_text("out of service")
    expect(form.locator('select[name="equipment_id"]')).to_have_attribute("aria-invalid", "true")
    assert not violations, violations
